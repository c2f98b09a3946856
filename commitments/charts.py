"""The progress chart's geometry, from the history stored by commitments/derived.py.

The figures use the dashboard's one method (weighted mean of assessed commitments), so the
last point of the history always equals the dashboard's figure for the same date.

The chart is small multiples: one small step chart for all commitments and one per theme,
each under its own label in HTML. Lines that coincide (every theme at 100 %) stay readable
because no two share a plot, and no line needs a colour to be told apart. The plots hold
no text: an SVG scaled to its box would shrink it (to about 5 px at 360 px wide), so the
labels and axes are HTML around it, at the page's own font sizes.
"""

import datetime
from dataclasses import dataclass

from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from .content import localized

# The plot's coordinate space: x runs from the first date (0) to the date shown (WIDTH);
# y is 100 minus the percentage, so 100 % is at the top. The SVG is stretched to its box
# (preserveAspectRatio="none") and its strokes do not scale with it.
WIDTH, HEIGHT = 1000, 100


@dataclass
class Series:
    label: str
    points: str  # SVG path data of the step line
    area: str  # SVG path data of the area under it
    last: float | None
    overall: bool = False
    markers: str = ""  # SVG path data of a dot on each point a figure was counted (reach)


def _number(value):
    return f"{round(value, 1):g}"


def _runs(history, pick, until):
    """The stretches of the history where `pick` has a figure, each as its steps (date,
    value, kept only where the value changes) and the date it ends: the next point without
    a figure, or `until`."""
    runs, steps = [], []
    for point in history:
        value = pick(point)
        if value is None:
            if steps:
                runs.append((steps, point.date))
                steps = []
        elif not steps or steps[-1][1] != value:
            steps.append((point.date, value))
    if steps:
        runs.append((steps, until))
    return runs


def _paths(runs, x, y):
    """A step line (each value holds until the next change, then jumps on the day) and the
    area under it; gaps where nothing was assessed."""
    line, area = [], []
    for steps, end in runs:
        (start, value), *rest = steps
        left, top = _number(x(start)), _number(y(value))
        tail = "".join(f" H{_number(x(date))} V{_number(y(value))}" for date, value in rest)
        tail += f" H{_number(x(end))}"
        line.append(f"M{left} {top}{tail}")
        area.append(f"M{left} {HEIGHT} V{top}{tail} V{HEIGHT} Z")
    return " ".join(line), " ".join(area)


def progress_chart(history, themes, until):
    """Geometry for templates/commitments/_chart.html: one series for all commitments, then
    one per theme, each a step line from the first date to `until`, with the year lines."""
    if not history:
        return None
    first = history[0].date
    span = max((until - first).days, 1)

    def x(date):
        return WIDTH * (date - first).days / span

    def y(value):
        return HEIGHT - HEIGHT * value / 100

    def series(label, pick, overall=False):
        line, area = _paths(_runs(history, pick, until), x, y)
        return Series(label, line, area, pick(history[-1]), overall)

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "series": [
            series(gettext("All commitments"), lambda p: p.overall, overall=True),
            *(
                series(localized(theme, "name").html(), lambda p, pk=theme.pk: p.by_theme.get(pk))
                for theme in themes
            ),
        ],
        "x_ticks": [
            (_number(x(datetime.date(year, 1, 1))), year)
            for year in range(first.year + 1, until.year + 1)
        ],
        "y_ticks": [_number(y(value)) for value in (25, 50, 75, 100)],
        "y_labels": ["100\u00a0%", "50\u00a0%", "0\u00a0%"],
        "percent": True,
        "first": first,
        "until": until,
    }


def _ceiling(value):
    """The top of a count's axis: the count rounded up to a multiple of 20 (at least 20), so
    that its half, the middle label, is a whole number too."""
    return max(20, -(-value // 20) * 20)


def reach_chart(reaches):
    """Geometry for templates/commitments/_chart.html's plots: the number of States Parties
    and of signatories, from commitments/reach.py's reach_on, one small chart each on the same
    scale, from the first day counted to the last (the date shown). The counts are taken on a
    few days only (each year's end), so each is a dot, joined by straight lines: a line
    between two dots is not a count."""
    if not reaches:
        return None
    first, until = reaches[0].day, reaches[-1].day
    span = max((until - first).days, 1)
    top = _ceiling(max(max(r.states_parties, r.signatories) for r in reaches))

    def x(date):
        return WIDTH * (date - first).days / span

    def y(value):
        return HEIGHT - HEIGHT * value / top

    def series(label, pick):
        points = [(_number(x(r.day)), _number(y(pick(r)))) for r in reaches]
        line = "M" + " L".join(f"{px} {py}" for px, py in points)
        area = f"M{points[0][0]} {HEIGHT} L{line[1:]} V{HEIGHT} Z"
        markers = " ".join(f"M{px} {py} h0" for px, py in points)
        return Series(label, line, area, pick(reaches[-1]), markers=markers)

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "series": [
            series(gettext("States Parties"), lambda r: r.states_parties),
            series(gettext("Signatories"), lambda r: r.signatories),
        ],
        "x_ticks": [
            (_number(x(datetime.date(year, 1, 1))), year)
            for year in range(first.year + 1, until.year + 1)
        ],
        "y_ticks": [_number(y(top * quarter / 4)) for quarter in (1, 2, 3, 4)],
        "y_labels": [str(top), str(top // 2), "0"],
        "percent": False,
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
