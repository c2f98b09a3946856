"""Progress over time: the history replayed from follow-ups, and the SVG chart's geometry.

The figures use the dashboard's one method (weighted mean of assessed commitments), so the
last point of the history always equals the dashboard's figure for the same date.
"""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext

from .models import STATUS_INFO, FollowUp, Status


@dataclass
class HistoryPoint:
    date: datetime.date
    overall: float | None
    by_theme: dict = field(default_factory=dict)  # theme pk -> percent or None


def progress_history(commitments, until):
    """Overall and per-theme progress on each date something changed, up to `until`.

    Two queries whatever the size: the commitments, then their public follow-ups (status and
    figures only, never notes), replayed in date order.
    """
    rows = list(commitments.values("pk", "theme_id", "weight", "statement__date").order_by())
    follow_ups = (
        FollowUp.objects.filter(commitment__in=commitments.values("pk"), happened_on__lte=until)
        .order_by("happened_on", "recorded_at", "pk")
        .values_list("commitment_id", "happened_on", "status", "progress")
    )
    events: dict[datetime.date, list] = {}
    for row in rows:
        if row["statement__date"] <= until:
            events.setdefault(row["statement__date"], []).append(("start", row["pk"], None))
    for commitment_id, happened_on, status, progress in follow_ups:
        if status == Status.NOT_ASSESSED:
            effective = None
        elif progress is not None:
            effective = progress
        else:
            effective = STATUS_INFO[Status(status)].default_progress
        events.setdefault(happened_on, []).append(("follow_up", commitment_id, effective))

    info = {row["pk"]: row for row in rows}
    # Running weighted sums, overall (key None) and per theme: each event costs O(1) instead
    # of a pass over every commitment, so 50,000 follow-ups replay in one linear pass.
    sums: dict[int | None, list[int]] = {None: [0, 0]}
    progress: dict[int, int | None] = {}
    history = []
    for date in sorted(events):
        for kind, pk, effective in events[date]:
            if kind == "start":
                if pk not in progress:
                    progress[pk] = None
                    sums.setdefault(info[pk]["theme_id"], [0, 0])
            elif pk in progress:
                weight = info[pk]["weight"]
                for key in (None, info[pk]["theme_id"]):
                    if progress[pk] is not None:
                        sums[key][0] -= weight * progress[pk]
                        sums[key][1] -= weight
                    if effective is not None:
                        sums[key][0] += weight * effective
                        sums[key][1] += weight
                progress[pk] = effective
        point = HistoryPoint(
            date,
            _ratio(*sums[None]),
            {theme: _ratio(*totals) for theme, totals in sums.items() if theme is not None},
        )
        if not history or (point.overall, point.by_theme) != (
            history[-1].overall,
            history[-1].by_theme,
        ):
            history.append(point)
    return _bounded(history)


# A chart 640 pixels wide and its table cannot show more: a long history keeps the state at
# the close of each month (the last point, today's figure, is always kept as it is).
MAX_POINTS = 240


def _bounded(history):
    if len(history) <= MAX_POINTS:
        return history
    by_month: dict[tuple[int, int], HistoryPoint] = {}
    for point in history:
        by_month[point.date.year, point.date.month] = point
    return list(by_month.values())


def _ratio(weighted, weights):
    return round(weighted / weights, 1) if weights else None


# Lines are told apart by dash pattern as well as colour, so the chart survives greyscale
# printing and colour blindness; every colour has at least 3:1 contrast on white.
SERIES_STYLES = [
    ("#8a4b00", "6 3"),
    ("#1b6e34", "2 3"),
    ("#6a1b9a", "10 4 2 4"),
    ("#b3261e", "1 5"),
    ("#00697a", "12 3"),
    ("#5d4037", "4 2 1 2"),
]

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass
class Series:
    label: str
    points: str  # SVG path data
    colour: str
    dash: str
    width: int
    last: float | None


def _path(history, pick, x, y):
    """A step line: each value holds until the next point; gaps where nothing was assessed."""
    parts, previous = [], None
    for point in history:
        value = pick(point)
        if value is None:
            if previous is not None:
                parts.append(f"H{x(point.date):.1f}")
            previous = None
        elif previous is None:
            parts.append(f"M{x(point.date):.1f} {y(value):.1f}")
            previous = value
        else:
            parts.append(f"H{x(point.date):.1f} V{y(value):.1f}")
            previous = value
    return " ".join(parts)


def progress_chart(history, themes, until):
    """Geometry for templates/commitments/_chart.svg: axes, ticks and one path per series."""
    if not history:
        return None
    first = history[0].date
    span = max((until - first).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(date):
        return LEFT + plot_w * (date - first).days / span

    def y(value):
        return TOP + plot_h * (1 - value / 100)

    # Extend every line to the date shown.
    extended = [*history, HistoryPoint(until, history[-1].overall, history[-1].by_theme)]
    series = [
        Series(
            "overall",
            _path(extended, lambda p: p.overall, x, y),
            "#1f4e79",
            "",
            4,
            history[-1].overall,
        )
    ]
    for index, theme in enumerate(themes):
        colour, dash = SERIES_STYLES[index % len(SERIES_STYLES)]
        series.append(
            Series(
                gettext(theme.name),
                _path(extended, lambda p, pk=theme.pk: p.by_theme.get(pk), x, y),
                colour,
                dash,
                2,
                history[-1].by_theme.get(theme.pk),
            )
        )
    years = range(first.year + 1, until.year + 1)
    step = max(1, len(years) // 8)
    x_ticks = [
        (round(x(datetime.date(year, 1, 1)), 1), year)
        for year in years
        if (year - first.year - 1) % step == 0
    ]
    y_ticks = [(round(y(value), 1), value) for value in (0, 25, 50, 75, 100)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "label_y": HEIGHT - 8,
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "first": first,
        "until": until,
    }
