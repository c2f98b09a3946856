"""The depositary's participant table (MTDSG XXVI-6, ../shared/data/README.md) read into
TreatyEvents: which state each participant is, and what a table adds to the record.

The one home of the depositary's spellings of states' names (ALIASES). An import is planned
(`plan`: nothing written) and then applied (`apply`: all of it, in one transaction, or
nothing). A table never overwrites the record: an action already recorded is skipped, one
that contradicts what is recorded (another date or another instrument for the same step) is
a row error that names the entry, which staff correct in the admin if the record is wrong.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from .changes import public_data_changed
from .models import State, TreatyEvent
from .reach import counted_events
from .treaty import (
    CONSENTS,
    WITHDRAWAL,
    DepositaryAction,
    DepositaryFormatError,
    parse_action,
    standing_on,
)

SOURCE_URL = "http://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"
PARTICIPANT = "participant"
# The table's action columns, in its order (treaty.parse_action reads each).
ACTION_COLUMNS = ("signature", "provisional_application", "deposit")
COLUMNS = (PARTICIPANT, *ACTION_COLUMNS)

# The depositary's names (United Nations terminology) that are not django-countries' English
# names, by ISO 3166 code; other spellings it has used are kept so an older table still reads.
ALIASES = {
    "Bahamas": "BS",
    "Bolivia (Plurinational State of)": "BO",
    "Brunei Darussalam": "BN",
    "Congo": "CG",
    "Côte d'Ivoire": "CI",
    "Cote d'Ivoire": "CI",
    "Cook Islands": "CK",
    "Czech Republic": "CZ",
    "Democratic People's Republic of Korea": "KP",
    "Democratic Republic of the Congo": "CD",
    "Eswatini": "SZ",
    "Swaziland": "SZ",
    "Gambia": "GM",
    "Holy See": "VA",
    "Iran (Islamic Republic of)": "IR",
    "Lao People's Democratic Republic": "LA",
    "Micronesia (Federated States of)": "FM",
    "Nauru": "NR",
    "Netherlands (Kingdom of the)": "NL",
    "North Macedonia": "MK",
    "The former Yugoslav Republic of Macedonia": "MK",
    "Niue": "NU",
    "Republic of Korea": "KR",
    "Republic of Moldova": "MD",
    "Russian Federation": "RU",
    "Sao Tome and Principe": "ST",
    "State of Palestine": "PS",
    "Syrian Arab Republic": "SY",
    "Türkiye": "TR",
    "Turkey": "TR",
    "United Kingdom of Great Britain and Northern Ireland": "GB",
    "United Republic of Tanzania": "TZ",
    "United States of America": "US",
    "Venezuela (Bolivarian Republic of)": "VE",
    "Viet Nam": "VN",
}

# Footnote marks the depositary prints after a name ("Denmark 2", "Netherlands3, 4").
_FOOTNOTES = re.compile(r"(?<=[^\d\s,])[\s\d,]+$")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})


def normalise(name):
    """A participant's name as compared: compatibility forms (superscript footnote digits
    become digits), one kind of apostrophe, no footnote marks, single spaces, any case."""
    name = unicodedata.normalize("NFKC", name or "").translate(_APOSTROPHES)
    name = _FOOTNOTES.sub("", name.strip())
    return " ".join(name.split()).casefold()


def codes_by_name(codes):
    """{normalised name: ISO code} for `codes`: django-countries' English names, then the
    depositary's spellings (ALIASES) of those codes."""
    with translation.override("en"):
        names = {normalise(str(countries.name(code))): code for code in codes}
    names.update({normalise(alias): code for alias, code in ALIASES.items() if code in codes})
    return names


class TableError(Exception):
    """A file that is no participant table at all, with a message for staff."""


def read_table(data):
    """[(line number, {column: cell})] from the file's bytes (UTF-8; tab-separated as the
    depositary's table, or comma-separated). Raises TableError for a file it cannot read."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise TableError(
            _("The file is larger than %(limit)s bytes.") % {"limit": settings.IMPORT_MAX_BYTES}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError(_("The file is not UTF-8 text.")) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise TableError(_("The file is empty: its first line names the columns."))
    delimiter = "\t" if "\t" in lines[0] else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = ["_".join(cell.strip().casefold().replace("-", " ").split()) for cell in next(reader)]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise TableError(
            _("The first line names no column %(missing)s: it needs %(columns)s.")
            % {"missing": ", ".join(missing), "columns": ", ".join(COLUMNS)}
        )
    position = {column: header.index(column) for column in COLUMNS}
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= settings.IMPORT_MAX_ROWS:
            raise TableError(
                _("The file has more than %(limit)s rows.") % {"limit": settings.IMPORT_MAX_ROWS}
            )
        row = {
            column: cells[index] if index < len(cells) else "" for column, index in position.items()
        }
        rows.append((reader.line_num, row))
    return rows


# The steps a table's columns record: a table's action contradicts a recorded one of the
# same step with another date or instrument.
def _step(kind):
    return "deposit" if kind in CONSENTS else kind


@dataclass
class RowError:
    message: str
    url: str = ""  # the admin page of the entry it is about, if any


@dataclass
class Row:
    line: int
    participant: str
    state: State | None = None
    new: list = field(default_factory=list)  # unsaved TreatyEvents
    unchanged: list = field(default_factory=list)  # the recorded TreatyEvents it repeats
    errors: list = field(default_factory=list)
    actions: list = field(default_factory=list)  # treaty.DepositaryActions read from its cells
    standing: object = None  # treaty.Standing today, once the new events are recorded


@dataclass
class Plan:
    rows: list
    source_url: str
    notification: str

    @property
    def errors(self):
        return [row for row in self.rows if row.errors]

    @property
    def new_events(self):
        return [event for row in self.rows for event in row.new]

    @property
    def unchanged_count(self):
        return sum(len(row.unchanged) for row in self.rows)


def _day(value):
    return formats.date_format(value)


def _contradiction(action, event):
    label = dict(TreatyEvent.Kind.choices)
    return RowError(
        _(
            "The table gives %(kind)s on %(date)s; the tracker records %(recorded_kind)s on "
            "%(recorded_date)s (recorded %(recorded_at)s). Nothing is overwritten: if the "
            "record is wrong, record a correction of that entry in the admin."
        )
        % {
            "kind": label[action.kind].lower(),
            "date": _day(action.date),
            "recorded_kind": label[event.kind].lower(),
            "recorded_date": _day(event.date),
            "recorded_at": _day(timezone.localdate(event.recorded_at)),
        },
        reverse("admin:commitments_treatyevent_change", args=[event.pk]),
    )


def _compare(row, actions, recorded):
    """Sort a row's actions into new, unchanged and contradicting `recorded` (the state's
    counted events)."""
    withdrawals = [event.date for event in recorded if event.kind == WITHDRAWAL]
    for action in actions:
        same_step = [event for event in recorded if _step(event.kind) == _step(action.kind)]
        repeated = [
            event for event in same_step if (event.kind, event.date) == (action.kind, action.date)
        ]
        if repeated:
            row.unchanged.append(repeated[0])
            continue
        # A deposit recorded before a withdrawal that came before this one is no
        # contradiction: the state left, and this is its joining again.
        contradicting = [
            event
            for event in same_step
            if not any(event.date < left < action.date for left in withdrawals)
        ]
        if contradicting:
            row.errors.extend(_contradiction(action, event) for event in contradicting)
            continue
        row.new.append(action)


def plan(table, source_url, notification=""):
    """What importing `table` (read_table's rows) would do, row by row. Writes nothing;
    a handful of queries whatever the number of rows."""
    states = {state.country.code: state for state in State.objects.all()}
    by_name = codes_by_name(set(states))
    rows, seen = [], {}
    for line, cells in table:
        row = Row(line, cells[PARTICIPANT].strip())
        rows.append(row)
        if not row.participant:
            row.errors.append(RowError(_("The participant's name is missing.")))
        else:
            code = by_name.get(normalise(row.participant))
            if code is None:
                row.errors.append(
                    RowError(
                        _(
                            "“%(name)s” is no state the tracker knows by the depositary's "
                            "names: check its spelling against the depositary's table."
                        )
                        % {"name": row.participant}
                    )
                )
            else:
                row.state = states[code]
                seen.setdefault(code, []).append(row)
        actions = []
        for column in ACTION_COLUMNS:
            try:
                action = parse_action(cells[column], column)
            except DepositaryFormatError as error:
                row.errors.append(
                    RowError(
                        _("%(column)s: %(error)s")
                        % {"column": column_label(column), "error": error}
                    )
                )
                continue
            if action is not None:
                actions.append(action)
        row.actions = actions
    for duplicates in seen.values():
        if len(duplicates) > 1:
            for row in duplicates:
                others = ", ".join(str(other.line) for other in duplicates if other is not row)
                row.errors.append(
                    RowError(
                        _("%(state)s is also on line %(lines)s of the table.")
                        % {"state": row.state.name, "lines": others}
                    )
                )
    recorded = {}
    for event in counted_events(states=[row.state.pk for row in rows if row.state]).order_by(
        "date", "recorded_at", "pk"
    ):
        recorded.setdefault(event.state_id, []).append(event)
    today = timezone.localdate()
    for row in rows:
        if row.state is None:
            continue
        state_recorded = recorded.get(row.state.pk, [])
        _compare(row, row.actions, state_recorded)
        row.new = [_event(row, action, source_url, notification) for action in row.new]
        for event in row.new:
            row.errors.extend(_invalid(event))
        row.standing = standing_on(
            [DepositaryAction(e.date, e.kind, e.armed_conflict_ends) for e in state_recorded]
            + [DepositaryAction(e.date, e.kind) for e in row.new],
            today,
        )
    return Plan(rows, source_url, notification)


def column_label(column):
    return {
        "signature": _("Signature"),
        "provisional_application": _("Provisional application"),
        "deposit": _("Deposit"),
    }[column]


def _event(row, action, source_url, notification):
    return TreatyEvent(
        state=row.state,
        kind=action.kind,
        date=action.date,
        source_url=source_url,
        notification=notification,
    )


def _invalid(event):
    """The model's own checks on an event the table would add (a date in the future, …)."""
    try:
        event.clean()
    except ValidationError as error:
        label = dict(TreatyEvent.Kind.choices)[event.kind]
        return [
            RowError(_("%(column)s: %(error)s") % {"column": label, "error": message})
            for message in error.messages
        ]
    return []


def apply(table, source_url, notification, by):
    """Import `table`: plan it again inside one transaction (the record may have moved since
    the preview) and, if no row has an error, record its new events, all recorded at the
    same moment by `by`. Returns the Plan; nothing is written if it has errors."""
    with transaction.atomic():
        # Two imports at once wait for each other (PostgreSQL; SQLite writes one at a time):
        # the second plans against what the first recorded.
        list(State.objects.select_for_update().values_list("pk", flat=True))
        result = plan(table, source_url, notification)
        if result.errors:
            return result
        now = timezone.now()
        for event in result.new_events:
            event.recorded_at = now
            event.recorded_by = by
            event.save()
        if result.new_events:
            public_data_changed()
    return result


def summary(result):
    """One line on what an applied import did."""
    return ngettext(
        "Recorded %(events)d treaty event for %(states)d states from the depositary's table; "
        "%(unchanged)d already recorded were left as they are.",
        "Recorded %(events)d treaty events for %(states)d states from the depositary's table; "
        "%(unchanged)d already recorded were left as they are.",
        len(result.new_events),
    ) % {
        "events": len(result.new_events),
        "states": len({event.state_id for event in result.new_events}),
        "unchanged": result.unchanged_count,
    }
