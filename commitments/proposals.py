"""Candidate commitments in a statement's text: the sentences that carry commitment language.

Deliberately generous: a proposal costs a staff member one click to discard, a missed
commitment costs the tracker its completeness. Nothing is created from a proposal until a
person accepts it.
"""

import re
from dataclasses import dataclass

# Words and phrases that mark a promise, an obligation or a stated priority. Lower case;
# matched on word boundaries.
COMMITMENT_LANGUAGE = [
    "will",
    "shall",
    "must",
    "should",
    "continue to",
    "continues to",
    "continuing to",
    "continuous",
    "committed to",
    "commit to",
    "commits to",
    "pledge",
    "pledges",
    "undertake",
    "undertakes",
    "intend to",
    "intends to",
    "we encourage",
    "encourage",
    "urge",
    "call on",
    "calls on",
    "high priority",
    "priority",
    "is necessary",
    "are necessary",
    "important to",
    "interested in",
    "demand",
    "working in partnership",
    "support",
    "promote",
    "ensure",
]

_LANGUAGE = re.compile(
    r"\b(" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in COMMITMENT_LANGUAGE) + r")\b",
    re.IGNORECASE,
)
# A sentence ends at . ! or ? followed by space and an upper-case letter, a quote or a digit.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“‘(A-Z0-9])")

CONTINUOUS_LANGUAGE = re.compile(
    r"\b(continu\w*|uphold|promot\w+|work\w* in partnership)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Proposal:
    sentence: str  # verbatim from the text, so it passes the quote check as it stands
    start: int
    cues: tuple[str, ...]

    @property
    def looks_continuous(self):
        return bool(CONTINUOUS_LANGUAGE.search(self.sentence))


def sentences(text):
    """(start, sentence) for every sentence of every paragraph, offsets into `text`."""
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        pos = para.start()
        for piece in _SENTENCE_END.split(para.group()):
            start = text.index(piece, pos)
            pos = start + len(piece)
            if piece.strip():
                yield start, piece.strip()


def propose(text, already_quoted=()):
    """The sentences carrying commitment language, in text order.

    A sentence that already contains (or is contained in) an existing commitment's quote
    is left out, so proposing twice does not offer the same commitment again.
    """
    found = []
    for start, sentence in sentences(text):
        cues = tuple(dict.fromkeys(m.group(1).lower() for m in _LANGUAGE.finditer(sentence)))
        if not cues:
            continue
        if any(q and (q in sentence or sentence in q) for q in already_quoted):
            continue
        found.append(Proposal(sentence, start, cues))
    return found
