"""Candidate commitments in a statement's text: the sentences that carry commitment language.

Deliberately generous: a proposal costs a staff member one click to discard, a missed
commitment costs the tracker its completeness. Nothing is created from a proposal until a
person accepts it.

What counts as commitment language, and how sentences end, depends on the statement's
language: one table, CUES, keyed by language code (English, French, Spanish). A statement in
any other language is read with the English cues, which find little in it: staff then pick
its commitments by hand.
"""

import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Cues:
    """How one language makes a promise. Phrases are lower case and matched on word
    boundaries; a space matches any run of spaces (non-breaking ones too), an apostrophe
    either apostrophe (' or ’), and a * any letters, to match a word's beginning or ending
    (French and Spanish mark the future on the verb: "ratifiera", "seguiremos")."""

    commitment: tuple[str, ...]  # a promise, an obligation or a stated priority
    continuous: tuple[str, ...]  # an open-ended commitment ("continues to promote")
    # Words written with a full stop that do not end a sentence ("Mr. President"), as
    # written: "No. 5" is one, "we said no." is not.
    abbreviations: tuple[str, ...] = ()

    @cached_property
    def commitment_re(self):
        return _phrases(self.commitment)

    @cached_property
    def continuous_re(self):
        return _phrases(self.continuous)


def _phrases(phrases):
    def pattern(phrase):
        escaped = re.escape(phrase).replace(r"\ ", r"\s+").replace("'", "['’ʼ]")
        return escaped.replace(r"\*", r"\w*")

    return re.compile(r"\b(" + "|".join(pattern(p) for p in phrases) + r")\b", re.IGNORECASE)


# fmt: off
CUES = {
    "en": Cues(
        commitment=(
            "will", "shall", "must", "should", "continue to", "continues to", "continuing to",
            "continuous", "committed to", "commit to", "commits to", "pledge", "pledges",
            "undertake", "undertakes", "intend to", "intends to", "we encourage", "encourage",
            "urge", "call on", "calls on", "high priority", "priority", "is necessary",
            "are necessary", "important to", "interested in", "demand", "working in partnership",
            "support", "promote", "ensure",
        ),
        continuous=(
            "continu*", "uphold", "promot*", "work* in partnership",
        ),
        abbreviations=(
            "Mr", "Mrs", "Ms", "Dr", "Prof", "H.E", "St", "No", "Nos", "Art", "Arts", "art", "para",
            "paras", "cf", "e.g", "i.e", "vs",
        ),
    ),
    "fr": Cues(
        commitment=(
            # The future, on the verb: "continuera", "ratifierons", "soutiendra", "devront".
            "*era", "*eront", "*erons", "*ira", "*iront", "*irons", "*dra", "*dront", "*drons",
            "aura", "auront", "aurons", "pourra", "pourront", "pourrons", "devra", "devront",
            "devrons", "allons", "continue à", "continue de", "continuent à", "continuent de",
            "continuons", "continuer à", "continuer de", "poursuivre", "poursuivons", "poursuit",
            "s'engage", "s'engagent", "engageons", "engagé* à", "engagement*", "déterminé* à",
            "résolu* à", "entendons", "avons l'intention", "a l'intention", "encourage",
            "encourageons", "appelons", "appelle", "lançons un appel", "exhortons",
            "exhorte", "invitons", "prions instamment", "prie instamment", "demandons", "demande",
            "haute priorité", "priorité", "prioritaire*", "doit", "doivent", "devons", "devrait",
            "devraient", "il faut", "est nécessaire", "sont nécessaires", "il est important",
            "important de", "souhaitons", "en partenariat", "soutenons", "soutient", "soutenir",
            "soutien", "promouvoir", "promouvons", "promeut", "veiller à", "veille à",
            "veillons à", "garantir", "assurer",
        ),
        continuous=(
            "continu*", "poursui*", "promouv*", "promeu*", "promotion", "maintenir", "maintiendr*",
            "sans relâche", "travaill* en partenariat",
        ),
        abbreviations=(
            "MM", "Mme", "Mmes", "Mlle", "Dr", "Pr", "Me", "S.E", "Art", "art", "cf", "p. ex",
            "env", "vol",
        ),
    ),
    "es": Cues(
        commitment=(
            # The future, on the verb: "seguirá", "seguiremos", "apoyarán", "podrá".
            "*ará", "*arán", "*aremos", "*erá", "*erán", "*eremos", "*irá", "*irán", "*iremos",
            "*drá", "*drán", "*dremos", "habrá", "habrán", "habremos", "sigue", "siguen",
            "seguimos", "seguir", "continúa", "continúan", "continuamos", "continuar",
            "se compromete", "se comprometen", "nos comprometemos", "comprometid*", "compromiso*",
            "decidid* a", "tenemos la intención", "tiene la intención", "nos proponemos",
            "se propone", "alentamos", "alienta", "animamos", "instamos", "insta", "exhortamos",
            "exhorta", "hacemos un llamamiento", "hace un llamamiento", "invitamos", "pedimos",
            "alta prioridad", "prioridad", "prioritari*", "debe", "deben", "debemos", "debería",
            "deberían", "hay que", "tenemos que", "tiene que", "es necesario", "es necesaria",
            "son necesarios", "es importante", "en colaboración", "en asociación", "apoyamos",
            "apoya", "apoyar", "apoyo", "promover", "promovemos", "promueve", "velar por",
            "vela por", "velamos por", "garantizar", "asegurar",
        ),
        continuous=(
            "continu*", "continú*", "seguir*", "seguimos", "sigue", "siguen", "promov*",
            "promuev*", "promoción", "mantener", "mantendr*", "sin descanso",
            "trabaj* en colaboración", "trabaj* en asociación",
        ),
        abbreviations=(
            "Sr", "Sra", "Sres", "Srta", "Dr", "Dra", "Excmo", "Excma", "S.E", "Art", "art", "núm",
            "pág", "Ud", "Uds", "EE", "p. ej",
        ),
    ),
}
# fmt: on


def cues_for(language):
    """The cues of a statement's language: "fr" and "fr-CA" read as French; a language
    without a table of its own (or none given) is read with the English cues."""
    primary = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return CUES.get(primary, CUES["en"])


# A sentence may end at . ! ? or … (then closing quotes or brackets, French spacing
# allowed), followed by spaces and the start of the next one: checked in _starts_sentence.
_STOP = re.compile(r"[.!?…]+(?:\s*[»”’\"')\]])*\s+")  # \s: non-breaking spaces too
_OPENERS = "«“‘\"'(¿¡[\u00a0\u202f "


def _starts_sentence(rest):
    """Whether a sentence can start here: a capital (É and Ñ too) or a digit, after any
    opening marks (« “ ¿ ¡ …)."""
    first = rest.lstrip(_OPENERS)[:1]
    return first.isupper() or first.isdigit()


def _is_abbreviation(before, cues):
    """Whether the full stop after `before` (the text up to it) belongs to an abbreviation
    ("Mr.", "Sr.", "S.E.") or an initial ("J."), not to a sentence's end."""
    if before[-1:].isupper() and not before[-2:-1].isalnum():
        return True
    return any(
        before.endswith(word) and not before[-len(word) - 1 : -len(word)].isalnum()
        for word in cues.abbreviations
    )


def _split(paragraph, cues):
    start = 0
    for stop in _STOP.finditer(paragraph):
        if stop.group().startswith(".") and _is_abbreviation(paragraph[: stop.start()], cues):
            continue
        if _starts_sentence(paragraph[stop.end() :]):
            yield paragraph[start : stop.end()]
            start = stop.end()
    yield paragraph[start:]


def sentences(text, language="en"):
    """(start, sentence) for every sentence of every paragraph, offsets into `text`."""
    cues = cues_for(language)
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        pos = para.start()
        for piece in _split(para.group(), cues):
            start = pos + len(piece) - len(piece.lstrip())
            pos += len(piece)
            if piece.strip():
                yield start, piece.strip()


@dataclass(frozen=True)
class Proposal:
    sentence: str  # verbatim from the text, so it passes the quote check as it stands
    start: int
    cues: tuple[str, ...]
    looks_continuous: bool  # offered as a continuous commitment rather than a one-off


def propose(text, already_quoted=(), language="en"):
    """The sentences carrying commitment language, in text order, read with the cues of the
    statement's language (cues_for: English for a language without cues of its own).

    A sentence that already contains (or is contained in) an existing commitment's quote
    is left out, so proposing twice does not offer the same commitment again.
    """
    cues = cues_for(language)
    found = []
    for start, sentence in sentences(text, language):
        matched = cues.commitment_re.finditer(sentence)
        found_cues = tuple(dict.fromkeys(m.group(1).lower() for m in matched))
        if not found_cues:
            continue
        if any(q and (q in sentence or sentence in q) for q in already_quoted):
            continue
        continuous = bool(cues.continuous_re.search(sentence))
        found.append(Proposal(sentence, start, found_cues, continuous))
    return found
