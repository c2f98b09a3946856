"""The progress chart as a reader sees it, on a phone (360 px) and on a laptop (1280 px)."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, Status, Theme
from commitments.records import record_follow_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
VIEWPORTS = [(360, 800), (1280, 900)]

# Every text node in the chart's section that the browser renders, with its rendered font
# size: the computed size times the scale of an enclosing SVG's viewBox (text inside a
# scaled SVG shrinks with it), and the rendered height of its boxes.
TEXT_SIZES = """
(section) => {
  const sizes = [];
  const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!node.textContent.trim() || element.closest("title, desc")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const boxes = [...range.getClientRects()].filter((box) => box.width && box.height);
    if (!boxes.length) continue;  // not rendered
    let size = parseFloat(getComputedStyle(element).fontSize);
    if (element instanceof SVGElement) {
      const m = element.getScreenCTM();
      size *= Math.min(Math.hypot(m.a, m.b), Math.hypot(m.c, m.d));
    }
    sizes.push({
      text: node.textContent.trim().slice(0, 40),
      size,
      height: Math.min(...boxes.map((box) => box.height)),
    });
  }
  return sizes;
}
"""


RECENT = datetime.date.today() - datetime.timedelta(days=30)


@pytest.fixture
def history(db):
    """The seed statement with a history in which two themes coincide at 100 % and one is
    never assessed."""
    call_command("seed", verbosity=0)
    user = get_user_model().objects.create(username="author", is_staff=True)
    for reference, status, on in [
        ("NOR-2012-10", Status.IN_PROGRESS, D(2012, 9, 11)),
        ("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9)),
        ("NOR-2012-09", Status.ON_TRACK, D(2013, 9, 9)),
        ("NOR-2012-02", Status.ON_TRACK, D(2013, 9, 9)),
        ("NOR-2012-03", Status.ON_TRACK, D(2013, 9, 9)),
        ("NOR-2012-07", Status.IN_PROGRESS, D(2014, 3, 1)),
        ("NOR-2012-06", Status.OFF_TRACK, D(2015, 6, 1)),
        # Confirmed lately: without new evidence an "on track" of 2013 has lapsed.
        ("NOR-2012-09", Status.ON_TRACK, RECENT),
        ("NOR-2012-02", Status.ON_TRACK, RECENT),
        ("NOR-2012-03", Status.ON_TRACK, RECENT),
    ]:
        record_follow_up(
            Commitment.objects.get(reference=reference), status=status, by=user, happened_on=on
        )


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_chart_text_is_at_least_12_px_and_nothing_overflows(
    page: Page, live_server, history, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/")
    section = page.locator("section[aria-labelledby=history-heading]")
    section.locator("details").evaluate("details => details.open = true")  # the table too

    # One small chart per theme and one for all commitments, each under its own label.
    titles = section.locator(".multiple-title")
    expect(titles).to_have_count(1 + Theme.objects.count())
    for theme in Theme.objects.all():
        expect(titles.filter(has_text=theme.name)).to_be_visible()
    expect(titles.filter(has_text="Upholding the norm")).to_contain_text("100.0 %")
    expect(titles.filter(has_text="Promotion and presidency")).to_contain_text("100.0 %")
    expect(titles.filter(has_text="Universalisation")).to_contain_text("not yet assessed")

    sizes = section.evaluate(TEXT_SIZES)
    assert len(sizes) > 30  # titles, figures, axes, caption, the table's cells
    small = [text for text in sizes if text["size"] < 12 or text["height"] < 12]
    assert not small, small

    # The plots sit side by side without overlapping: 1 column on a phone, 2 or 3 on a laptop.
    boxes = section.locator(".multiple:not(.multiple-overall)").evaluate_all(
        "items => items.map((item) => item.getBoundingClientRect().toJSON())"
    )
    columns = len({round(box["left"]) for box in boxes})
    assert columns == 1 if width == 360 else 2 <= columns <= 3
    for index, box in enumerate(boxes):
        for other in boxes[index + 1 :]:
            assert (
                box["right"] <= other["left"]
                or other["right"] <= box["left"]
                or box["bottom"] <= other["top"]
                or other["bottom"] <= box["top"]
            ), (box, other)

    # The axis labels' middles are on the plot's 100 % and 0 % lines.
    first = section.locator(".plot").first
    plot = first.locator("svg").bounding_box()
    top = first.locator(".plot-y span").first.bounding_box()
    bottom = first.locator(".plot-y span").last.bounding_box()
    assert abs(top["y"] + top["height"] / 2 - plot["y"]) <= 1
    assert abs(bottom["y"] + bottom["height"] / 2 - (plot["y"] + plot["height"])) <= 1

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
