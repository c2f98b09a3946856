"""Everything derived from the follow-ups, and the one mechanism that keeps stored copies true.

The follow-ups are the record. Two things are derived from them and stored for speed:

- each commitment's state today (`Commitment.status`, `progress`, `last_follow_up_on`,
  `last_recorded_at`), read by the dashboard, lists, exports and staff queues;
- the progress history: each published commitment's part as ProgressStep rows (the day it
  was made; each day its effective progress changed) and their sums by theme, per day and per
  month, as ProgressTotal rows. The chart is a running total over a few hundred rows whatever
  the size of the tracker.

Any other viewpoint (as at a past date, as known on a past date) is computed from the
follow-ups themselves (`CommitmentQuerySet.as_of`, `progress_history(..., known_on=...)`).

**One writer that nothing bypasses.** Database triggers (installed by `install_triggers`, on
SQLite and PostgreSQL alike) mark a commitment as Outdated on every insert, update or delete of
its follow-ups or of itself and on every change of its statement's date, whatever path the
write takes: the ORM, `bulk_create`, queryset updates and deletes, raw SQL, `loaddata`, the CSV
import, a restore, a migration. `sync()` is the only code that writes the copies: it takes the
marks and recomputes those commitments from their follow-ups, in one transaction. The domain's
write paths (commitments/records.py) call it before they commit; every reader of the copies
calls `ensure_current()` first, which costs one small query when nothing is marked.
`differences()` (`manage.py verify`) proves the copies equal to a recompute from scratch.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncMonth

from .changes import public_data_changed
from .models import (
    OLDEST_FIRST,
    Commitment,
    CommitmentState,
    FollowUp,
    Outdated,
    Period,
    ProgressStep,
    ProgressTotal,
    Status,
    Viewpoint,
    confirm_by,
    effective_progress,
    seen_from_q,
)

# A chart 640 pixels wide and its table cannot show more points: beyond this many days, the
# history keeps the state at the close of each month, and today's figure as the last point.
MAX_POINTS = 240
# Past this many marked commitments, sync() rewrites every copy in one go (a bulk load).
REBUILD_ABOVE = 500


class History(list):
    """The points of a progress history; `monthly` when they are month closes."""

    monthly = False


@dataclass
class HistoryPoint:
    date: datetime.date
    overall: float | None
    by_theme: dict = field(default_factory=dict)  # theme pk -> percent or None


@dataclass(frozen=True)
class State:
    """A commitment's stored state, as derived from its follow-ups."""

    status: str
    progress: int | None
    last_follow_up_on: datetime.date | None
    last_recorded_at: datetime.datetime | None


NO_FOLLOW_UP = State(Status.NOT_ASSESSED.value, None, None, None)
STATE_FIELDS = ["status", "progress", "last_follow_up_on", "last_recorded_at"]


def _month(date):
    return date.replace(day=1)


# --- deriving ----------------------------------------------------------------------------------


def _rows(pks=None, point=None, commitment_model=Commitment, follow_up_model=FollowUp):
    """The commitments (dicts of pk, published, theme_id, weight, statement__date) and their
    follow-ups (commitment pk, happened_on, recorded_at, status, progress) oldest first, for
    `pks` (None: all), from a Viewpoint's known-on date (None: everything recorded)."""
    commitments = commitment_model.objects.all()
    follow_ups = follow_up_model.objects.all()
    if pks is not None:
        commitments = commitments.filter(pk__in=pks)
        follow_ups = follow_ups.filter(commitment__in=pks)
    if point is not None:
        # Everything that had happened (the history is cut at each date when it is read),
        # from what had been recorded by the known-on day.
        point = Viewpoint(None, point.known_on)
        follow_ups = follow_ups.filter(seen_from_q(point))
        if point.known_on is not None:
            commitments = commitments.filter(created_at__lt=point.recorded_before)
    return (
        commitments.values("pk", "published", "theme_id", "weight", "statement__date").order_by(),
        follow_ups.order_by(*OLDEST_FIRST).values_list(
            "commitment_id", "happened_on", "recorded_at", "status", "progress"
        ),
    )


def derive(commitments, follow_ups):
    """(steps, states) from the rows of _rows().

    steps: {(commitment pk, date): (theme pk, weighted, weight, made)} for published
    commitments — on the day it was made it adds itself to its theme's count; each day its
    effective progress changes, the difference times its weight; the day after its verdict's
    confirmation window closes without newer evidence (models.confirm_by), it drops out of
    the mean (a step that may lie in the future: the history is cut at the date it is read
    for). A follow-up dated before its statement counts from the statement's date.
    states: {commitment pk: State} for every commitment.
    """
    by_commitment = defaultdict(list)
    for row in follow_ups:  # oldest first: the last row of a commitment is its latest
        by_commitment[row[0]].append(row)
    steps, states = {}, {}
    for row in commitments:
        pk = row["pk"]
        rows = by_commitment.get(pk, ())
        if rows:
            _pk, happened_on, _recorded, status, progress = rows[-1]
            states[pk] = State(
                status,
                effective_progress(status, progress),
                happened_on,
                max(recorded for _c, _h, recorded, _s, _p in rows),
            )
        else:
            states[pk] = NO_FOLLOW_UP
        if row["published"]:
            steps.update(_steps_of(pk, row, rows))
    return steps, states


def _steps_of(pk, row, rows):
    theme, weight, made_on = row["theme_id"], row["weight"], row["statement__date"]
    steps = {(pk, made_on): (theme, 0, 0, 1)}
    latest = {}  # day it happened -> (status, progress) of the last recorded that day
    for _pk, happened_on, _recorded, status, progress in rows:
        latest[happened_on] = (status, progress)
    days = sorted(latest)
    by_day = {}  # filled in time order: a later event on the same (clamped) day wins
    for index, happened_on in enumerate(days):
        status, progress = latest[happened_on]
        by_day[max(happened_on, made_on)] = effective_progress(status, progress)
        # Its verdict lapses the day after its window closes, unless newer evidence came.
        expires = confirm_by(status, happened_on)
        renewed = index + 1 < len(days) and days[index + 1] <= (expires or happened_on)
        if expires is not None and not renewed:
            by_day[max(expires + datetime.timedelta(days=1), made_on)] = None
    previous = None
    for day in sorted(by_day):
        value = by_day[day]
        if value == previous:
            continue
        weighted = weight * ((value or 0) - (previous or 0))
        weights = weight * ((value is not None) - (previous is not None))
        _theme, old_weighted, old_weights, made = steps.get((pk, day), (theme, 0, 0, 0))
        steps[pk, day] = (theme, old_weighted + weighted, old_weights + weights, made)
        previous = value
    return steps


def _totals(steps, sign=1):
    """Sum steps by (period, date, theme)."""
    totals = defaultdict(lambda: [0, 0, 0])
    for (_pk, day), (theme, weighted, weight, made) in steps.items():
        for key in ((Period.DAY, day, theme), (Period.MONTH, _month(day), theme)):
            total = totals[key]
            total[0] += sign * weighted
            total[1] += sign * weight
            total[2] += sign * made
    return totals


# --- the one writer ----------------------------------------------------------------------------


def _add(period, day, theme, weighted, weight, made):
    rows = ProgressTotal.objects.filter(period=period, date=day, theme_id=theme)
    change = {
        "weighted": F("weighted") + weighted,
        "weight": F("weight") + weight,
        "made": F("made") + made,
    }
    if rows.update(**change):
        return
    try:
        with transaction.atomic():  # a savepoint: another writer may create it first
            ProgressTotal.objects.create(
                period=period, date=day, theme_id=theme, weighted=weighted, weight=weight, made=made
            )
    except IntegrityError:
        rows.update(**change)


def _write_states(states, state_model=CommitmentState):
    """Insert or overwrite the stored state of these commitments, in one statement a batch."""
    state_model.objects.bulk_create(
        [state_model(commitment_id=pk, **state.__dict__) for pk, state in sorted(states.items())],
        update_conflicts=True,
        unique_fields=["commitment"],
        update_fields=STATE_FIELDS,
        batch_size=500,
    )


def _refresh(pks):
    """Bring the stored copies up to date for the commitments `pks` (inside sync()).

    Totals change by the difference between the new steps and the stored ones, in a fixed
    order (no deadlock between writers); rows that come to nothing are removed.
    """
    # Two refreshes of one commitment must not both add their difference to the same stored
    # steps: the second waits here for the first (PostgreSQL; SQLite writes one transaction
    # at a time anyway).
    list(Commitment.objects.select_for_update().filter(pk__in=pks).order_by("pk").values("pk"))
    stored = {
        (pk, day): (theme, weighted, weight, made)
        for pk, day, theme, weighted, weight, made in ProgressStep.objects.filter(
            commitment_id__in=pks
        ).values_list("commitment_id", "date", "theme_id", "weighted", "weight", "made")
    }
    steps, states = derive(*_rows(pks))
    _write_states(states)
    if steps == stored:
        return
    difference = _totals(steps)
    for key, (weighted, weight, made) in _totals(stored, sign=-1).items():
        total = difference[key]
        total[0] += weighted
        total[1] += weight
        total[2] += made
    changed = sorted(key for key, total in difference.items() if any(total))
    for period, day, theme in changed:
        _add(period, day, theme, *difference[period, day, theme])
    ProgressStep.objects.filter(commitment_id__in=pks).delete()
    ProgressStep.objects.bulk_create(
        ProgressStep(commitment_id=pk, date=day, theme_id=theme, weighted=w, weight=n, made=made)
        for (pk, day), (theme, w, n, made) in steps.items()
    )
    if changed:
        ProgressTotal.objects.filter(
            date__in={day for _period, day, _theme in changed}, weighted=0, weight=0, made=0
        ).delete()


def _take_marks(using=None):
    """Remove every Outdated mark and return the commitment pks, in one statement: a mark
    written meanwhile by a concurrent change survives for the next sync."""
    db = connection if using is None else using
    with db.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Outdated._meta.db_table} RETURNING commitment_id")  # noqa: S608  # nosec B608
        return sorted(row[0] for row in cursor.fetchall())


def sync():
    """Recompute the stored copies of every commitment the triggers marked. Returns how many.

    The one writer of the copies. Called by the domain's write paths before they commit, and
    by readers (ensure_current) when a write took another path. Outdating the cached pages
    is the caller's part (once per change).
    """
    with transaction.atomic():
        pks = _take_marks()
        if not pks:
            return 0
        if len(pks) > REBUILD_ABOVE:
            rebuild()
        else:
            _refresh(pks)
    return len(pks)


def ensure_current():
    """Before reading a stored copy: sync() if a write marked anything (one small query).
    Such a write went around the domain's paths, so the cached pages are outdated too."""
    if Outdated.objects.exists() and sync():
        public_data_changed()


def rebuild(apps=None):
    """Write every stored copy anew from the commitments and follow-ups.

    `apps`: a migration's app registry, to run on its historical models.
    """
    models = {"commitment_model": Commitment, "follow_up_model": FollowUp}
    step_model, total_model, state_model = ProgressStep, ProgressTotal, CommitmentState
    if apps is not None:
        state_model = apps.get_model("commitments", "CommitmentState")
        step_model = apps.get_model("commitments", "ProgressStep")
        total_model = apps.get_model("commitments", "ProgressTotal")
        models = {
            "commitment_model": apps.get_model("commitments", "Commitment"),
            "follow_up_model": apps.get_model("commitments", "FollowUp"),
        }
    with transaction.atomic():
        # Every commitment's row, as _refresh takes its own: a refresh running meanwhile
        # waits, then reads what this rebuild wrote (PostgreSQL; SQLite writes one at a time).
        list(
            models["commitment_model"]
            .objects.select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        steps, states = derive(*_rows(**models))
        state_model.objects.all().delete()
        _write_states(states, state_model)
        step_model.objects.all().delete()
        total_model.objects.all().delete()
        step_model.objects.bulk_create(
            (
                step_model(
                    commitment_id=pk, date=day, theme_id=theme, weighted=w, weight=n, made=made
                )
                for (pk, day), (theme, w, n, made) in steps.items()
            ),
            batch_size=2000,
        )
        total_model.objects.bulk_create(
            (
                total_model(
                    period=period, date=day, theme_id=theme, weighted=w, weight=n, made=made
                )
                for (period, day, theme), (w, n, made) in sorted(_totals(steps).items())
                if any((w, n, made))
            ),
            batch_size=2000,
        )
    return len(steps)


@dataclass
class Differences:
    """What the stored copies get wrong against a recompute from the follow-ups."""

    states: list  # commitment pks whose stored state differs
    steps: list  # commitment pks whose steps differ
    totals: list  # (period, date, theme) totals that differ
    triggers: list  # triggers missing from the database

    def __bool__(self):
        return bool(self.states or self.steps or self.totals or self.triggers)


def differences():
    """Compare every stored copy with a recompute from scratch. Pending marks are synced
    first: a mark is a known, handled change, not a difference."""
    ensure_current()
    expected_steps, expected_states = derive(*_rows())
    stored_states = {
        pk: State(*values)
        for pk, *values in CommitmentState.objects.values_list(
            "commitment_id", *STATE_FIELDS
        ).order_by()
    }
    states = sorted(
        pk
        for pk in expected_states.keys() | stored_states.keys()
        if expected_states.get(pk) != stored_states.get(pk)
    )
    stored = {
        (pk, day): (theme, weighted, weight, made)
        for pk, day, theme, weighted, weight, made in ProgressStep.objects.values_list(
            "commitment_id", "date", "theme_id", "weighted", "weight", "made"
        )
    }
    steps = sorted({pk for (pk, _day), _step in set(expected_steps.items()) ^ set(stored.items())})
    totals = {key: tuple(total) for key, total in _totals(expected_steps).items() if any(total)}
    kept = {
        (period, day, theme): (weighted, weight, made)
        for period, day, theme, weighted, weight, made in ProgressTotal.objects.values_list(
            "period", "date", "theme_id", "weighted", "weight", "made"
        )
        if any((weighted, weight, made))
    }
    return Differences(
        states=states,
        steps=steps,
        totals=sorted(set(totals.items()) ^ set(kept.items())),
        triggers=missing_triggers(),
    )


# --- the triggers ------------------------------------------------------------------------------

OUTDATED = "commitments_outdated"
# (name, table, event, the commitment pks to mark), the same on both databases.
MARKS = [
    ("ccm_followup_insert", "commitments_followup", "INSERT", ["NEW.commitment_id"]),
    (
        "ccm_followup_update",
        "commitments_followup",
        "UPDATE",
        ["OLD.commitment_id", "NEW.commitment_id"],
    ),
    ("ccm_followup_delete", "commitments_followup", "DELETE", ["OLD.commitment_id"]),
    ("ccm_commitment_insert", "commitments_commitment", "INSERT", ["NEW.id"]),
    (
        "ccm_commitment_update",
        "commitments_commitment",
        "UPDATE OF published, weight, theme_id, statement_id",
        ["OLD.id", "NEW.id"],
    ),
    ("ccm_commitment_delete", "commitments_commitment", "DELETE", ["OLD.id"]),
    ("ccm_statement_update", "commitments_statement", "UPDATE OF date", None),
]
TRIGGER_NAMES = [name for name, *_rest in MARKS]
STATEMENT_COMMITMENTS = "SELECT id FROM commitments_commitment WHERE statement_id = NEW.id"


def _sqlite_triggers():
    for name, table, event, pks in MARKS:
        if pks is None:
            body = f"INSERT OR IGNORE INTO {OUTDATED} (commitment_id) {STATEMENT_COMMITMENTS};"
        else:
            values = ", ".join(f"({pk})" for pk in pks)
            body = f"INSERT OR IGNORE INTO {OUTDATED} (commitment_id) VALUES {values};"  # noqa: S608  # nosec B608 - constants only
        yield f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN {body} END"


def _postgresql_triggers():
    for name, table, event, pks in MARKS:
        if pks is None:
            body = f"INSERT INTO {OUTDATED} (commitment_id) {STATEMENT_COMMITMENTS}"
        else:
            values = ", ".join(f"({pk})" for pk in pks)
            body = f"INSERT INTO {OUTDATED} (commitment_id) VALUES {values}"  # noqa: S608  # nosec B608 - constants only
        yield (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} ON CONFLICT DO NOTHING; RETURN NULL; END $$"
        )
        yield (
            f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )


def missing_triggers(using=None):
    """The marking triggers this database lacks (SQLite drops a table's triggers when a
    migration rebuilds the table: post_migrate puts them back, and verify checks)."""
    db = connection if using is None else using
    with db.cursor() as cursor:
        if db.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        elif db.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in TRIGGER_NAMES if name not in present]


def drop_triggers(using=None):
    """Remove the marking triggers: before migrations run, since a migration that rebuilds or
    alters the tables they watch would trip over them. post_migrate installs them again and
    re-derives everything, so nothing a migration writes goes unmarked."""
    db = connection if using is None else using
    with db.cursor() as cursor:
        for name, table, *_rest in MARKS:
            if db.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            elif db.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def install_triggers(using=None):
    """Create the marking triggers where missing; if any was missing, mark every commitment,
    since writes made without them went unmarked. Idempotent. Returns the names created."""
    db = connection if using is None else using
    if OUTDATED not in db.introspection.table_names():
        return []  # migrated back to before the triggers existed
    missing = missing_triggers(db)
    if not missing:
        return []
    statements = {"sqlite": _sqlite_triggers, "postgresql": _postgresql_triggers}[db.vendor]
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        for sql in statements():
            cursor.execute(sql)
        conflict = "OR IGNORE" if db.vendor == "sqlite" else ""
        ending = "" if db.vendor == "sqlite" else " ON CONFLICT DO NOTHING"
        cursor.execute(
            f"INSERT {conflict} INTO {OUTDATED} (commitment_id) "  # noqa: S608  # nosec B608
            f"SELECT id FROM commitments_commitment{ending}"
        )
    return missing


# --- reading -----------------------------------------------------------------------------------


def progress_history(until, known_on=None, selection=None):
    """Overall and per-theme progress on each date something changed, up to `until`; with
    `known_on`, from what had been recorded by the end of that day; with `selection` (a
    queryset of published commitments: a filtered list), of those commitments only.

    Today's knowledge of everything reads the stored totals: two small queries whatever the
    size (the days with a change, up to MAX_POINTS + 1; then either those days' totals or, for
    a longer history, the monthly totals before `until`'s month and the daily ones within
    it). A selection sums its commitments' stored steps the same way, in the database. A
    past day's knowledge is derived from the follow-ups recorded by then (_known_totals),
    and read the same way.
    """
    month = _month(until)
    if known_on is None and selection is None:
        ensure_current()
        days = Q(period=Period.DAY, date__lte=until)
        totals = ProgressTotal.objects.order_by("date").values_list(
            "date", "theme_id", "weighted", "weight", "made"
        )
        changes = len(totals.filter(days).values_list("date").distinct()[: MAX_POINTS + 1])
        if changes <= MAX_POINTS:
            return _running(totals.filter(days), lambda day: day)
        rows = list(
            totals.filter(Q(period=Period.MONTH, date__lt=month) | (days & Q(date__gte=month)))
        )
        return _monthly(rows, month)
    if known_on is None:
        return _selection_history(selection, until)
    if selection is None:
        known = _known_totals(known_on)
    else:
        pks = list(selection.values_list("pk", flat=True))
        known = _totals(derive(*_rows(pks=pks, point=Viewpoint(None, known_on)))[0])
    totals = sorted((day, period, theme, *total) for (period, day, theme), total in known.items())
    daily = [
        (day, theme, *total)
        for day, period, theme, *total in totals
        if period == Period.DAY and day <= until
    ]
    if len({row[0] for row in daily}) <= MAX_POINTS:
        return _running(daily, lambda day: day)
    rows = [
        (day, theme, *total)
        for day, period, theme, *total in totals
        if (period == Period.MONTH and day < month)
        or (period == Period.DAY and month <= day <= until)
    ]
    return _monthly(rows, month)


def _selection_history(selection, until):
    """The history of some commitments: their stored steps summed by day (or by month before
    `until`'s month, for a long history) in the database — two queries whatever the size."""
    ensure_current()
    month = _month(until)
    steps = ProgressStep.objects.filter(
        commitment_id__in=selection.order_by().values("pk"), date__lte=until
    )
    sums = {"w": Sum("weighted"), "n": Sum("weight"), "m": Sum("made")}
    changes = len(steps.values_list("date").distinct().order_by()[: MAX_POINTS + 1])
    if changes <= MAX_POINTS:
        rows = steps.values("date", "theme_id").annotate(**sums).order_by("date", "theme_id")
        return _running(
            [(r["date"], r["theme_id"], r["w"], r["n"], r["m"]) for r in rows], lambda day: day
        )
    earlier = (
        steps.filter(date__lt=month)
        .annotate(month=TruncMonth("date"))
        .values("month", "theme_id")
        .annotate(**sums)
        .order_by("month", "theme_id")
    )
    rows = [(r["month"], r["theme_id"], r["w"], r["n"], r["m"]) for r in earlier]
    within = steps.filter(date__gte=month).values("date", "theme_id").annotate(**sums)
    rows += [(r["date"], r["theme_id"], r["w"], r["n"], r["m"]) for r in within.order_by("date")]
    if not rows:
        return History()
    return _monthly(rows, month)


def _known_totals(known_on):
    """{(period, date, theme): [weighted, weight, made]} from what had been recorded by the end
    of `known_on`.

    Usually little has been recorded since: the stored daily totals are corrected for the
    few commitments with a follow-up recorded (or that were entered) later — their stored
    steps taken out, their steps as known then put in. When much has been recorded since,
    every step is derived again from the follow-ups."""
    point = Viewpoint(None, known_on)
    later = set(
        FollowUp.objects.filter(recorded_at__gte=point.recorded_before)
        .values_list("commitment_id", flat=True)
        .distinct()
    ) | set(
        Commitment.objects.filter(created_at__gte=point.recorded_before).values_list(
            "pk", flat=True
        )
    )
    if len(later) > max(50, Commitment.objects.count() // 4):
        return _totals(derive(*_rows(point=point))[0])
    ensure_current()
    days = defaultdict(lambda: [0, 0, 0])
    for day, theme, weighted, weight, made in ProgressTotal.objects.filter(
        period=Period.DAY
    ).values_list("date", "theme_id", "weighted", "weight", "made"):
        days[day, theme] = [weighted, weight, made]
    stored = {
        (pk, day): (theme, weighted, weight, made)
        for pk, day, theme, weighted, weight, made in ProgressStep.objects.filter(
            commitment_id__in=later
        ).values_list("commitment_id", "date", "theme_id", "weighted", "weight", "made")
    }
    known, _states = derive(*_rows(pks=later, point=point))
    for steps, sign in ((stored, -1), (known, 1)):
        for (_pk, day), (theme, weighted, weight, made) in steps.items():
            total = days[day, theme]
            total[0] += sign * weighted
            total[1] += sign * weight
            total[2] += sign * made
    totals = defaultdict(lambda: [0, 0, 0])
    for (day, theme), (weighted, weight, made) in days.items():
        for key in ((Period.DAY, day, theme), (Period.MONTH, _month(day), theme)):
            total = totals[key]
            total[0] += weighted
            total[1] += weight
            total[2] += made
    return totals


def _monthly(rows, month):
    last = rows[-1][0]  # the last day with a change this month, or the last month's first

    def close(day):
        """Months are shown at their close; this month at its last change."""
        if day >= month:
            return last
        return (day + datetime.timedelta(days=31)).replace(day=1) - datetime.timedelta(days=1)

    history = _running(rows, close)
    history.monthly = True
    return history


def _running(rows, point_date):
    """Running sums over rows ordered by date: a point for each date, when a figure changed."""
    sums = {}  # theme -> [weighted, weight, made]
    history = History()

    def point(day):
        weighted = sum(total[0] for total in sums.values())
        weights = sum(total[1] for total in sums.values())
        return HistoryPoint(
            day,
            _ratio(weighted, weights),
            {theme: _ratio(w, n) for theme, (w, n, made) in sums.items() if made > 0},
        )

    current = None
    for day, theme, weighted, weight, made in rows:
        day = point_date(day)
        if current is not None and day != current:
            _append(history, point(current))
        current = day
        total = sums.setdefault(theme, [0, 0, 0])
        total[0] += weighted
        total[1] += weight
        total[2] += made
    if current is not None:
        _append(history, point(current))
    return history


def _append(history, point):
    if not history or (point.overall, point.by_theme) != (
        history[-1].overall,
        history[-1].by_theme,
    ):
        history.append(point)


def _ratio(weighted, weights):
    return round(weighted / weights, 1) if weights else None
