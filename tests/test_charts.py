"""The progress chart: step lines from the history, one small labelled chart per figure."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from commitments.charts import HEIGHT, WIDTH, progress_chart
from commitments.derived import HistoryPoint
from commitments.models import Commitment, Status, Theme
from commitments.records import record_follow_up

D = datetime.date
START = D(2000, 1, 1)


def day(n):
    """The date n days after START: with `until` 1000 days after START, x is n."""
    return START + datetime.timedelta(days=n)


def test_a_figure_holds_until_its_change_then_jumps_on_the_day():
    history = [
        HistoryPoint(day(0), None),
        HistoryPoint(day(250), 50.0),
        HistoryPoint(day(500), 100.0),
    ]
    chart = progress_chart(history, [], day(1000))
    overall = chart["series"][0]
    assert (WIDTH, HEIGHT) == (1000, 100)
    # Nothing before the first assessment; 50 % from day 250 (y = 100 - 50); straight up on
    # day 500 to 100 % (y = 0), held to the date shown. No diagonal anywhere.
    assert overall.points == "M250 50 H500 V0 H1000"
    assert overall.area == "M250 100 V50 H500 V0 H1000 V100 Z"
    assert overall.last == 100.0


def test_a_figure_that_drops_out_leaves_a_gap_until_it_comes_back():
    # E.g. the only verdict's evidence expires, later a new one is recorded.
    history = [
        HistoryPoint(day(0), 25.0),
        HistoryPoint(day(400), None),
        HistoryPoint(day(600), 75.5),
    ]
    overall = progress_chart(history, [], day(1000))["series"][0]
    assert overall.points == "M0 75 H400 M600 24.5 H1000"
    assert overall.area == "M0 100 V75 H400 V100 Z M600 100 V24.5 H1000 V100 Z"


def test_a_theme_steps_only_where_its_own_figure_changes():
    theme = Theme(pk=7, name="Regional initiatives")
    history = [
        HistoryPoint(day(0), 50.0, {7: 50.0}),
        HistoryPoint(day(100), 60.0, {7: 50.0}),  # another theme moved the overall figure
        HistoryPoint(day(200), 70.0, {7: 80.0}),
    ]
    overall, regional = progress_chart(history, [theme], day(1000))["series"]
    assert overall.points == "M0 50 H100 V40 H200 V30 H1000"
    assert regional.points == "M0 50 H200 V20 H1000"
    assert (regional.label, regional.last, regional.overall) == (
        "Regional initiatives",
        80,
        False,
    )


def multiples(html):
    """{title: figure} of the chart's small multiples, and the SVG of each."""
    items = re.findall(r'<li class="multiple[^"]*">(.*?)</li>', html, re.S)
    titles = {}
    for item in items:
        name, figure = re.search(
            r'<p class="multiple-title"><span>(.*?)</span>\s*'
            r'<span class="multiple-figure">(.*?)</span>',
            item,
            re.S,
        ).groups()
        titles[name] = (figure, re.search(r"<svg .*?</svg>", item, re.S).group(0))
    return titles


@pytest.mark.django_db
def test_themes_whose_lines_coincide_at_100_each_get_their_own_labelled_chart(client, seeded):
    user = get_user_model().objects.create(username="author")
    for reference, status in [
        ("NOR-2012-02", Status.ON_TRACK),  # upholding the norm
        ("NOR-2012-03", Status.ON_TRACK),
        ("NOR-2012-09", Status.ON_TRACK),  # promotion and presidency
        ("NOR-2012-10", Status.ACHIEVED),
    ]:
        record_follow_up(
            Commitment.objects.get(reference=reference),
            status=status,
            by=user,
            # Recent evidence: an "on track" from years ago would have lapsed (not confirmed).
            happened_on=timezone.localdate() - datetime.timedelta(days=30),
        )
    charts = multiples(client.get("/").content.decode())
    assert charts["All commitments"][0] == "100.0&nbsp;%"
    norm, norm_svg = charts["Upholding the norm"]
    promotion, promotion_svg = charts["Promotion and presidency"]
    assert norm == promotion == "100.0&nbsp;%"
    # Both lines lie at 100 % from the same day, each in its own plot.
    line = re.compile(r'<path d="(M[^"]*)" fill="none"')
    [norm_line] = line.findall(norm_svg)
    assert re.fullmatch(r"M[\d.]+ 0 H1000", norm_line)
    assert line.findall(promotion_svg) == [norm_line]
    # A theme with nothing assessed has its chart too, labelled, with no line.
    assert charts["Universalisation"][0] == "not yet assessed"
    assert not line.findall(charts["Universalisation"][1])


@pytest.mark.django_db
def test_chart_text_is_html_not_svg_text_that_shrinks_with_the_plot(client, seeded):
    html = client.get("/").content.decode()
    chart = re.search(r'<figure class="chart">.*?</figure>', html, re.S).group(0)
    assert "<text" not in chart
    for svg in re.findall(r"<svg .*?</svg>", chart, re.S):
        assert 'preserveAspectRatio="none"' in svg
        # Lines keep their width whatever the plot's stretch.
        assert all(
            'vector-effect="non-scaling-stroke"' in element
            for element in re.findall(r"<(?:line|path) [^>]*stroke=[^>]*>", svg)
        )


def contrast(one, other):
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted([luminance(one), luminance(other)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.django_db
def test_lines_and_the_axis_have_3_to_1_contrast_with_what_lies_behind_them(client, seeded):
    user = get_user_model().objects.create(username="author")
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-10"),
        status=Status.IN_PROGRESS,
        by=user,
        happened_on=D(2013, 5, 1),
    )
    html = client.get("/").content.decode()
    chart = re.search(r'<figure class="chart">.*?</figure>', html, re.S).group(0)
    lines = set(re.findall(r'fill="none" stroke="(#[0-9a-f]{6})"', chart))
    areas = set(re.findall(r'<path d="[^"]*" fill="(#[0-9a-f]{6})"', chart))
    axes = set(re.findall(r'y1="100" y2="100" stroke="(#[0-9a-f]{6})"', chart))
    assert lines
    assert areas
    assert axes
    for line in lines:
        for behind in ["#ffffff", *areas]:
            assert contrast(line, behind) >= 3, (line, behind)
    for axis in axes:
        assert contrast(axis, "#ffffff") >= 3
