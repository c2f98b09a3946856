"""The progress chart's geometry, from the history stored by commitments/derived.py.

The figures use the dashboard's one method (weighted mean of assessed commitments), so the
last point of the history always equals the dashboard's figure for the same date.
"""

import datetime
from dataclasses import dataclass

from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from .derived import HistoryPoint

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


def history_table_rows(history, themes) -> SafeString:
    """The chart's table body: a row per point, the date and each figure (a dash: none).

    Up to MAX_POINTS rows of eight cells: built here in one format_html_join rather than
    by template loops, which took a third of the dashboard's rendering time. Dates and
    decimals are formatted for the active language, as the template's filters would.
    """
    date_format = get_format("SHORT_DATE_FORMAT")
    decimal = get_format("DECIMAL_SEPARATOR")
    row = (
        '<tr><th scope="row"><time datetime="{}">{}</time></th>'
        + "<td>{}</td>" * (1 + len(themes))
        + "</tr>"
    )

    def figure(value):
        return "—" if value is None else str(value).replace(".", decimal)

    return format_html_join(
        "\n",
        row,
        (
            (
                point.date.isoformat(),
                dateformat.format(point.date, date_format),
                figure(point.overall),
                *(figure(point.by_theme.get(theme.pk)) for theme in themes),
            )
            for point in history
        ),
    )
