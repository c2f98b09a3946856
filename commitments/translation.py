"""The content that has a version in each of the tracker's languages (django-modeltranslation).

Each field listed here gets a column per language (title_en, title_fr, title_es) beside the
original. English is where content is first written; the other versions are added side by side
in the admin and the staff pages. Pages read them through commitments/content.py, which says
when a version is missing and which language is shown instead. The quote and the statement's
text are never translated: they are the words as delivered, in the statement's language.

The history models are registered too: django-simple-history copies every column of a change.
"""

from django.conf import settings
from django.db.models import Q
from modeltranslation.translator import TranslationOptions, register

from .models import (
    Article,
    Commitment,
    Delegation,
    FollowUp,
    Meeting,
    ProposedFollowUp,
    Statement,
    Theme,
)

# {model: fields}: the one list of translatable content (exports, the staff queue and the
# tests read it from here).
TRANSLATED = {
    Theme: ("name", "description"),
    Article: ("title",),
    Statement: ("title", "meeting", "place"),
    Commitment: ("title", "criteria", "reading"),
    FollowUp: ("public_note", "evidence_label"),
    # Its versions, waiting for a second review, become the follow-up's when confirmed.
    ProposedFollowUp: ("public_note", "evidence_label"),
    Meeting: ("name", "place"),
    Delegation: ("name",),
}

ORIGINAL = settings.MODELTRANSLATION_DEFAULT_LANGUAGE  # where content is first written
LANGUAGES = [code for code, _name in settings.LANGUAGES]
OTHER_LANGUAGES = [code for code in LANGUAGES if code != ORIGINAL]


def columns(field, languages=LANGUAGES):
    """The columns of `field`'s versions, by name: ["title_en", "title_fr", "title_es"]. The
    bare name means the active language's version: name a column wherever that matters."""
    return [f"{field}_{code}" for code in languages]


def _register(model, model_fields):
    register(model)(
        type(f"{model.__name__}Translation", (TranslationOptions,), {"fields": model_fields})
    )
    history = getattr(model, "history", None)
    if history is None:
        return
    register(history.model)(
        type(
            f"Historical{model.__name__}Translation",
            (TranslationOptions,),
            {"fields": model_fields},
        )
    )
    # The admin's history compares the tracked fields: each language's version, so that a
    # change to the French title shows as one. The unsuffixed column is the library's proxy.
    versions = [
        model._meta.get_field(f"{field}_{code}")
        for field in model_fields
        for code, _name in settings.LANGUAGES
    ]
    history.model.tracked_fields = [
        *(field for field in history.model.tracked_fields if field.name not in model_fields),
        *versions,
    ]


for model, model_fields in TRANSLATED.items():
    _register(model, model_fields)


def has_text(column):
    return Q(**{f"{column}__gt": ""})  # neither NULL nor empty


def missing_q(model, language):
    """Items of `model` with a translatable field given in some language but not in
    `language`: the staff queue of what lacks a French or Spanish version."""
    condition = Q()
    for field in TRANSLATED[model]:
        given = Q()
        for code, _name in settings.LANGUAGES:
            if code != language:
                given |= has_text(f"{field}_{code}")
        condition |= given & ~has_text(f"{field}_{language}")
    return condition
