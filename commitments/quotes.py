"""A commitment's quote is its statement's own words, character for character. The rule stays
exact; when a quote misses only by its typography (French puts a non-breaking space before
« ; : ! ? », texts mix ’ and '), the message says so and shows the words to copy."""

from difflib import SequenceMatcher

from django.utils.translation import gettext_lazy as _

APOSTROPHES = "'’‘ʼ"

# How a message names the characters a near miss differs by.
_NAMES = {
    " ": _("a space"),
    "\u00a0": _("a non-breaking space"),
    "\u202f": _("a narrow non-breaking space"),
    "\n": _("a line break"),
    "'": _("a straight apostrophe (')"),
    "’": _("a curly apostrophe (’)"),
    "‘": _("an opening quotation mark (‘)"),
    "ʼ": _("a modifier letter apostrophe (ʼ)"),
}


def _loose(text):
    """The text without its spaces and with one apostrophe, and where each of its characters
    was in the text."""
    chars, where = [], []
    for i, char in enumerate(text):
        if not char.isspace():
            chars.append("'" if char in APOSTROPHES else char)
            where.append(i)
    return "".join(chars), where


def typographic_match(quote, text):
    """The passage of `text` that `quote` is, if spaces (of any kind, or none) and apostrophes
    (' ’ ‘ ʼ) are not counted; None if it is not even that."""
    loose_quote, _where = _loose(quote)
    loose_text, where = _loose(text)
    at = loose_text.find(loose_quote) if loose_quote else -1
    if at < 0:
        return None
    return text[where[at] : where[at + len(loose_quote) - 1] + 1]


def _name(chars):
    if not chars:
        return str(_("nothing"))
    return ", ".join(dict.fromkeys(str(_NAMES.get(c, f"“{c}”")) for c in chars))


def quote_error(quote, text):
    """Why `quote` is not a quote from `text`, or None if it is, word for word."""
    if quote in text:
        return None
    passage = typographic_match(quote, text)
    if passage is None:
        return _("This quote does not occur word for word in the statement's text.")
    matcher = SequenceMatcher(None, passage, quote, autojunk=False)
    differences = dict.fromkeys(
        _("%(text)s where the quote has %(quote)s")
        % {"text": _name(passage[i1:i2]), "quote": _name(quote[j1:j2])}
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    )
    return _(
        "This quote does not occur word for word in the statement's text: it differs only in "
        "its spaces or apostrophes. The text has %(differences)s. A quote is exact: copy the "
        "words from the text as they are: “%(passage)s”."
    ) % {"differences": "; ".join(differences), "passage": passage}
