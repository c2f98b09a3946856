"""Who made a statement, from what people type: the one home of how a delegation is found by
its code (NOR, ICRC), a state's name in any of the tracker's languages, or an organisation's
name. The import, the staff forms, the admin's search and the public filter use it."""

from django.conf import settings
from django.db.models import Q
from django_countries import countries

from .models import Delegation

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def country_code(text):
    """The ISO 3166 alpha-2 code of the country `text` names, in English, French or Spanish,
    or gives as its alpha-3 code (NOR) or alpha-2 code (NO); "" if none."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) in (2, 3) and text.isalpha() and (code := countries.alpha2(text)):
        return code
    for language in LANGUAGES:
        if code := countries.by_name(text, language=language):
            return code
    return ""


def find(text, queryset=None):
    """The Delegation `text` means, or None: its code (any case), an organisation's name in
    any language, or a state's name or ISO code."""
    text = (text or "").strip()
    if not text:
        return None
    rows = (queryset if queryset is not None else Delegation.objects).select_related("state")
    if found := rows.filter(code__iexact=text).first():
        return found
    names = Q()
    for language in LANGUAGES:
        names |= Q(**{f"name_{language}__iexact": text})
    if found := rows.filter(names, kind=Delegation.Kind.ORGANISATION).first():
        return found
    if country := country_code(text):
        return rows.filter(state__country=country).first()
    return None
