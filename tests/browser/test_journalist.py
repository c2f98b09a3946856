"""Issue 11's walk, as a journalist would take it, on a phone (360 px) and a desktop (1280 px).

The verdicts come before the percentage; a filter moves both (and the list); a stale "on
track" says "not confirmed since"; the statements list leads to a statement's own progress;
"Cite this page" gives a link that still shows the same figures after a back-dated follow-up
is recorded.
"""

import datetime
import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, Status
from commitments.records import record_follow_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
VIEWPORTS = [(360, 800), (1280, 900)]


def recent(days):
    return datetime.date.today() - datetime.timedelta(days=days)


@pytest.fixture
def record(db):
    call_command("seed", verbosity=0)
    user = get_user_model().objects.create(username="reporter-desk", is_staff=True)

    def record(reference, status, on, **kwargs):
        record_follow_up(
            Commitment.objects.get(reference=reference),
            status=status,
            happened_on=on,
            by=user,
            **kwargs,
        )

    # A stale "on track" (evidence from 2013), fresh verdicts, and five not yet assessed.
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 9, 13), public_note="Raised at the UNGA")
    record("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9), public_note="Presidency report")
    record("NOR-2012-02", Status.ON_TRACK, recent(40), public_note="Use condemned")
    record("NOR-2012-03", Status.OFF_TRACK, recent(20), public_note="No clarification asked")
    record("NOR-2012-07", Status.IN_PROGRESS, recent(10), public_note="Regional workshop")
    return record


def verdict_counts(block):
    """{verdict: count} read off a progress block's list, as a reader sees it."""
    counts = {}
    for item in block.locator(".verdicts li").all():
        label = item.inner_text()
        number = item.locator(".count").inner_text()
        counts[label.removesuffix(number).strip()] = int(number)
    return counts


def no_axe_violations(page):
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_a_journalist_reads_verdicts_first_filters_checks_and_cites(
    page: Page, live_server, record, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/")

    # The verdicts come first: the bar and its counts sit above the percentage.
    overall = page.locator("section.overall .progress-block").first
    bar, percent = overall.locator(".verdict-bar"), overall.locator(".percent")
    expect(bar).to_be_visible()
    assert bar.bounding_box()["y"] < percent.bounding_box()["y"]
    counts = verdict_counts(overall)
    assert counts["Not yet assessed"] == 5
    assert counts["Not confirmed"] == 1
    assert counts["On track"] == 1
    assert counts["Achieved"] == 1
    # …and the percentage says what it covers.
    expect(overall.locator(".coverage")).to_contain_text(
        "weighted progress across the 4 of 10 commitments assessed and confirmed"
    )
    # (100 + 25 + 50 + 100) / 4
    expect(percent).to_have_text(re.compile(r"^68\.8\s%$"))
    # The whole tracker's permanent link, as "Cite this page" gives it now.
    tracker_permalink = page.locator("#cite .cite-url").get_attribute("href")
    no_axe_violations(page)

    # A stale "on track" says so, with the date of its latest evidence.
    row = page.locator("#row-NOR-2012-09")
    row.scroll_into_view_if_needed()
    expect(row).to_contain_text("Not confirmed since 13 September 2013 (last verdict: On track)")

    # A filter moves the figures, the chart and the list together, in place.
    page.get_by_label("Theme", exact=True).select_option("norm")
    expect(page).to_have_url(f"{live_server.url}/?theme=norm")
    expect(page.locator("section.overall .covers")).to_contain_text("that match Theme")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    norm = page.locator("section.overall .progress-block").first
    expect(norm.locator(".percent")).to_have_text(re.compile(r"^62\.5\s%$"))
    assert verdict_counts(norm) == {
        "Not yet assessed": 0,
        "Not confirmed": 0,
        "Not started": 0,
        "Off track": 1,
        "In progress": 0,
        "On track": 1,
        "Achieved": 0,
    }
    titles = page.locator("section[aria-labelledby=history-heading] .multiple-title")
    expect(titles.filter(has_text="Upholding the norm")).to_have_count(1)
    expect(titles.filter(has_text="Promotion and presidency")).to_have_count(0)
    no_axe_violations(page)

    # The statements list leads to the statement's own progress, above its text.
    page.get_by_role("link", name="Statements", exact=True).first.click()
    expect(page).to_have_url(f"{live_server.url}/statements/")
    card = page.locator(".statement-card").first
    expect(card.locator(".verdict-bar")).to_be_visible()
    no_axe_violations(page)
    card.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/statements/norway-2012-04-16-universalisation/"))
    block = page.locator(".progress-block").first
    expect(block.locator(".verdict-bar")).to_be_visible()
    assert verdict_counts(block)["Not confirmed"] == 1
    text = page.locator(".statement-text").first
    assert block.bounding_box()["y"] < text.bounding_box()["y"]
    no_axe_violations(page)

    # Cite a commitment: the permalink fixes both dates.
    page.goto(f"{live_server.url}/commitments/NOR-2012-07/")
    cite = page.locator("#cite")
    cite.scroll_into_view_if_needed()
    permalink = cite.locator(".cite-url").get_attribute("href")
    today = datetime.date.today().isoformat()
    assert f"as_of={today}" in permalink
    assert f"known_on={today}" in permalink
    citation = cite.locator("textarea").input_value()
    assert "NOR-2012-07" in citation
    assert "Norway" in citation
    assert permalink in citation
    no_axe_violations(page)
    facts = page.locator("dl.facts").first.inner_text()
    assert "In progress" in facts

    # Later, staff back-date a follow-up to before today: today's page changes… ("As
    # recorded" is kept to the second: a later second, however soon, is later.)
    time.sleep(1.05)
    record("NOR-2012-07", Status.OFF_TRACK, recent(5), public_note="Workshop postponed")
    page.goto(f"{live_server.url}/commitments/NOR-2012-07/")
    expect(page.locator("dl.facts").first).to_contain_text("Off track")
    # …and the cited link still shows what the citation saw.
    page.goto(permalink if permalink.startswith("http") else f"{live_server.url}{permalink}")
    expect(page.locator("dl.facts").first).to_contain_text("In progress")
    expect(page.locator(".timeline")).not_to_contain_text("Workshop postponed")
    # The whole-tracker permalink too: the same figures as before the back-fill.
    page.goto(tracker_permalink)
    expect(page.locator("section.overall .percent").first).to_have_text(re.compile(r"^68\.8\s%$"))
    page.goto(f"{live_server.url}/")
    expect(page.locator("section.overall .percent").first).to_have_text(re.compile(r"^62\.5\s%$"))

    # Nothing wider than the screen on the way.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
