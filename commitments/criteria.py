"""A commitment's public assessment criteria: what evidence would move it to each status.

Staff write them as plain text, one line a status — "On track: a Norwegian démarche … recorded
in the last 12 months, with a source." — so that they are edited in a textarea, imported and
exported as text, and still read as a list: the public page shows status → evidence. A line
starts with a status's English label or its code (on_track), then a colon.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

# Enforced by the fields' validators, not max_length: no table is rebuilt for it.
CRITERIA_MAX_LENGTH = 4000
READING_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Criterion:
    status: object  # models.Status
    evidence: str


def _statuses():
    """{name in lower case: Status}, by label (in each language) and by code; "not yet assessed" has
    no evidence to describe and is left out."""
    from .models import Status  # models.py imports this module for its validators

    # In any of the tracker's languages: French criteria start "En bonne voie : …".
    names = {}
    for language, _name in reversed(settings.LANGUAGES):
        with translation.override(language):
            names.update({str(status.label).lower(): status for status in Status})
    names.update({status.value: status for status in Status})
    return {name: status for name, status in names.items() if status != Status.NOT_ASSESSED}


def _read(text):
    """(line number, Status or None, evidence, the name as written) for each non-empty line."""
    statuses = _statuses()
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        name, colon, evidence = line.partition(":")
        status = statuses.get(name.strip().lower()) if colon else None
        yield number, status, evidence.strip(), name.strip()


def parse_criteria(text):
    """The criteria as [Criterion], in the order of the status scale. Lenient: a line that is
    not "Status: evidence" is left out (the validators refuse it on every form and import)."""
    from .models import Status

    order = list(Status)
    found = {}
    for _number, status, evidence, _name in _read(text):
        if status is not None and evidence and status not in found:
            found[status] = Criterion(status, evidence)
    return [found[status] for status in sorted(found, key=order.index)]


def _english_labels(statuses):
    with translation.override("en"):
        return ", ".join(str(status.label) for status in statuses)


def validate_criteria(text):
    """Every non-empty line is "Status: evidence", each status at most once."""
    from .models import Status

    errors, seen = [], set()
    choices = _english_labels(s for s in Status if s != Status.NOT_ASSESSED)
    for number, status, evidence, name in _read(text):
        if status is None:
            errors.append(
                _(
                    "Line %(line)s: start it with a status (%(choices)s) and a colon, e.g. "
                    "“On track: …”. It starts with “%(start)s”."
                )
                % {"line": number, "choices": choices, "start": name[:40]}
            )
        elif not evidence:
            errors.append(
                _("Line %(line)s: say what evidence would count after “%(name)s:”.")
                % {"line": number, "name": name}
            )
        elif status in seen:
            errors.append(
                _("Line %(line)s: %(status)s already has a line; keep one line a status.")
                % {"line": number, "status": _english_labels([status])}
            )
        seen.add(status)
    if errors:
        raise ValidationError(errors)


def one_newline(text):
    """The text with every line break as "\n" (a browser sends a textarea's as "\r\n")."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def kind_error(text, kind):
    """A message when the criteria name a status that a commitment of `kind` cannot take
    (a continuous commitment is never "achieved"), else None."""
    from .models import STATUSES_BY_KIND, Kind

    if kind not in Kind.values:
        return None  # the kind field's own validation says so
    allowed = STATUSES_BY_KIND[Kind(kind)]
    wrong = [c.status for c in parse_criteria(text) if c.status not in allowed]
    if not wrong:
        return None
    return _("A %(kind)s commitment cannot be %(wrong)s: give criteria for %(allowed)s only.") % {
        "kind": Kind(kind).label.lower(),
        "wrong": _english_labels(wrong),
        "allowed": _english_labels(s for s in allowed if s.value != "not_assessed"),
    }
