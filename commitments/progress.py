"""The stored progress history: what each commitment adds to it, and running totals.

The dashboard charts overall and per-theme progress on every date something changed. Replaying
every follow-up on each request costs time in proportion to the whole history (50,000
follow-ups: a third of a second). Instead each published commitment's part is stored as
ProgressStep rows (one on the day it was made, one on each day its effective progress
changed), and their sums by theme, per day and per month, as ProgressTotal rows. The history
is then a running total over a few hundred rows whatever the size of the tracker.

`refresh(pks)` brings those rows up to date for some commitments: it computes their steps
from the database as it is now, compares them with the stored ones and adds the difference to
the totals. It is called wherever a commitment, its statement or its follow-ups change (see
models.py), takes no more than the changed commitments' follow-ups, and is idempotent.
`rebuild()` writes everything anew from scratch (`manage.py rebuild_progress`, bulk loads).

The method is the dashboard's own (weighted mean over assessed commitments; not assessed is
left out, never 0 %), so the last point equals the dashboard's figure for the same date.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from .models import (
    STATUS_INFO,
    Commitment,
    FollowUp,
    Period,
    ProgressStep,
    ProgressTotal,
    Status,
)

# A chart 640 pixels wide and its table cannot show more points: beyond this many days, the
# history keeps the state at the close of each month, and today's figure as the last point.
MAX_POINTS = 240


class History(list):
    """The points of a progress history; `monthly` when they are month closes."""

    monthly = False


@dataclass
class HistoryPoint:
    date: datetime.date
    overall: float | None
    by_theme: dict = field(default_factory=dict)  # theme pk -> percent or None


def effective(status, progress):
    """FollowUp.effective_progress for a row read with values_list."""
    if status == Status.NOT_ASSESSED:
        return None
    return progress if progress is not None else STATUS_INFO[Status(status)].default_progress


def _month(date):
    return date.replace(day=1)


# --- writing -----------------------------------------------------------------------------------


def _steps(commitments, follow_ups):
    """{(commitment pk, date): (theme pk, weighted, weight, made)} for published commitments.

    `commitments`: dicts of pk, theme_id, weight and statement__date; `follow_ups`:
    (commitment pk, happened_on, status, progress) in timeline order, oldest first. A
    follow-up dated before its statement counts from the statement's date.
    """
    values = defaultdict(dict)
    for commitment_id, happened_on, status, progress in follow_ups:
        values[commitment_id][happened_on] = effective(status, progress)
    steps = {}
    for row in commitments:
        pk, theme, weight, made_on = (
            row["pk"],
            row["theme_id"],
            row["weight"],
            row["statement__date"],
        )
        steps[pk, made_on] = (theme, 0, 0, 1)
        by_day = {}
        for day, value in values.get(pk, {}).items():  # dicts keep the timeline's order
            by_day[max(day, made_on)] = value
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


def _compute(pks=None, commitment_model=Commitment, follow_up_model=FollowUp):
    """The steps the database calls for now, for the commitments `pks` (None: all of them)."""
    commitments = commitment_model.objects.filter(published=True)
    follow_ups = follow_up_model.objects.filter(commitment__published=True)
    if pks is not None:
        commitments = commitments.filter(pk__in=pks)
        follow_ups = follow_ups.filter(commitment__in=pks)
    return _steps(
        commitments.values("pk", "theme_id", "weight", "statement__date").order_by(),
        follow_ups.order_by("happened_on", "recorded_at", "pk").values_list(
            "commitment_id", "happened_on", "status", "progress"
        ),
    )


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


def refresh(pks):
    """Bring the stored steps and totals up to date for the commitments `pks`.

    Call it after the change, in the same transaction. Totals change by the difference
    between the new steps and the stored ones, in a fixed order (no deadlock between
    writers); rows that come to nothing are removed.
    """
    pks = sorted(set(pks))
    if not pks:
        return
    with transaction.atomic():
        # Two refreshes of one commitment must not both add their difference to the same
        # stored steps: the second waits here for the first (PostgreSQL; SQLite writes one
        # transaction at a time anyway).
        list(Commitment.objects.select_for_update().filter(pk__in=pks).order_by("pk").values("pk"))
        stored = {
            (pk, day): (theme, weighted, weight, made)
            for pk, day, theme, weighted, weight, made in ProgressStep.objects.filter(
                commitment_id__in=pks
            ).values_list("commitment_id", "date", "theme_id", "weighted", "weight", "made")
        }
        steps = _compute(pks)
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
            ProgressStep(
                commitment_id=pk, date=day, theme_id=theme, weighted=w, weight=n, made=made
            )
            for (pk, day), (theme, w, n, made) in steps.items()
        )
        if changed:
            ProgressTotal.objects.filter(
                date__in={day for _period, day, _theme in changed}, weighted=0, weight=0, made=0
            ).delete()


def rebuild(apps=None):
    """Write every step and total anew from the commitments and follow-ups.

    `apps`: a migration's app registry, to run on its historical models.
    """
    step_model, total_model, sources = ProgressStep, ProgressTotal, {}
    if apps is not None:
        step_model = apps.get_model("commitments", "ProgressStep")
        total_model = apps.get_model("commitments", "ProgressTotal")
        sources = {
            "commitment_model": apps.get_model("commitments", "Commitment"),
            "follow_up_model": apps.get_model("commitments", "FollowUp"),
        }
    steps = _compute(**sources)
    with transaction.atomic():
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


def differences():
    """What the stored rows get wrong: (commitment pks whose steps differ from what the
    database calls for, (period, date, theme) totals that differ). Empty when all is well."""
    expected = _compute()
    stored = {
        (pk, day): (theme, weighted, weight, made)
        for pk, day, theme, weighted, weight, made in ProgressStep.objects.values_list(
            "commitment_id", "date", "theme_id", "weighted", "weight", "made"
        )
    }
    steps = sorted({pk for (pk, _day), _step in set(expected.items()) ^ set(stored.items())})
    totals = {key: tuple(total) for key, total in _totals(expected).items() if any(total)}
    kept = {
        (period, day, theme): (weighted, weight, made)
        for period, day, theme, weighted, weight, made in ProgressTotal.objects.values_list(
            "period", "date", "theme_id", "weighted", "weight", "made"
        )
        if any((weighted, weight, made))
    }
    return steps, sorted(set(totals.items()) ^ set(kept.items()))


# --- reading -----------------------------------------------------------------------------------


def progress_history(until):
    """Overall and per-theme progress on each date something changed, up to `until`.

    Two small queries whatever the size: the days with a change (up to MAX_POINTS + 1), then
    either those days' totals or, for a longer history, the monthly totals before `until`'s
    month and the daily ones within it.
    """
    days = Q(period=Period.DAY, date__lte=until)
    totals = ProgressTotal.objects.order_by("date").values_list(
        "date", "theme_id", "weighted", "weight", "made"
    )
    if len(totals.filter(days).values_list("date").distinct()[: MAX_POINTS + 1]) <= MAX_POINTS:
        return _running(totals.filter(days), lambda day: day)
    month = _month(until)
    rows = list(totals.filter(Q(period=Period.MONTH, date__lt=month) | (days & Q(date__gte=month))))
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
