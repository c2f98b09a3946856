"""Content in the reader's language, with honest fallbacks: the one home of that rule.

Each translatable field (commitments/translation.py) has a column per language. A page in
French shows the French version where it exists; where it does not, it shows the first version
that does — English, then the other languages in settings.LANGUAGES order — marked with that
language's `lang` and its name in its own words, "(English)", so that a reader (and a screen
reader) knows. Nothing is mixed silently.

Templates use the `tr` filters (templatetags/tracker.py); feeds, exports and plain-text places
(a page's <title>, a citation) use `localized(...).plain`.
"""

import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, get_language_info

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def version(obj, field, language):
    """The stored version of `field` in `language`, or "" if there is none. An object may
    say itself (`version_of`): a state delegation's name comes from its country code."""
    if reader := getattr(obj, "version_of", None):
        return reader(field, language)
    return (getattr(obj, f"{field}_{language}", None) or "").strip()


def _order(language):
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    rest = [code for code in LANGUAGE_CODES if code not in (language, default)]
    return [language, default, *rest]


class Labelled(str):
    """Plain text that knows the language of its words where it is not the page's."""

    lang = None


@dataclass(frozen=True)
class Localized:
    text: str
    lang: str  # the language of `text`
    wanted: str  # the page's language

    @property
    def fallback(self):
        return bool(self.text) and self.lang != self.wanted

    @property
    def language_name(self):
        """The language's own name for itself: "English", "Français", "Español"."""
        return get_language_info(self.lang)["name_local"]

    @property
    def label(self):
        """`plain`, knowing its language when it is a fallback: a menu option says it
        (LanguageSelect gives it a lang)."""
        label = Labelled(self.plain)
        label.lang = self.lang if self.fallback else None
        return label

    @property
    def plain(self):
        """For plain text (titles, feeds, citations): "text (English)" when it is a fallback."""
        return f"{self.text} ({self.language_name})" if self.fallback else self.text

    def html(self, lines=False):
        """Escaped HTML; `lines` keeps the line breaks of a note. A fallback is wrapped in an
        element with its lang, followed by its language's name."""
        text = linebreaksbr(self.text, autoescape=True) if lines else conditional_escape(self.text)
        if not self.fallback:
            return text
        return format_html(
            '<span lang="{}">{} <small class="fallback">({})</small></span>',
            self.lang,
            text,
            self.language_name,
        )

    def __html__(self) -> SafeString:
        return self.html()

    def __str__(self):
        return self.plain

    def __bool__(self):
        return bool(self.text)


def localized(obj, field, language=None):
    """`field` of `obj` in `language` (the active one by default), or its first version in
    another language, marked as such."""
    wanted = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if wanted not in LANGUAGE_CODES:
        wanted = settings.LANGUAGE_CODE
    for code in _order(wanted):
        if text := version(obj, field, code):
            return Localized(text, code, wanted)
    return Localized("", wanted, wanted)


def sort_key(name):
    """Alphabetical as a reader expects it: "Égypte" among the E, not after "Zimbabwe"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sorted_by_name(items):
    """Items (states, whose str() is their name in the active language) in alphabetical order."""
    return sorted(items, key=lambda item: sort_key(str(item)))
