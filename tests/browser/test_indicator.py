"""The universalisation indicator as a reader sees it: the dashboard's States Parties and
signatories chart and table, and a universalisation commitment's context beside its verdict,
in the three languages, on a phone and a laptop, with no accessibility violation."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.test_chart import TEXT_SIZES
from tests.factories import StateFactory, TreatyEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
PAGES = [
    "/",
    "/?as_of=2013-09-13",
    "/?as_of=2008-06-01",
    "/commitments/NOR-2012-01/",
    "/commitments/NOR-2012-04/?as_of=2014-01-01",
]


@pytest.fixture
def events(db):
    call_command("seed", verbosity=0)
    countries = ["NO", "LA", "FR", "ES", "DE", "IE", "MX", "GH", "JP", "NZ", "SN", "PH", "ID"]
    for index, country in enumerate(countries):
        state = StateFactory(country=country)
        TreatyEventFactory(state=state, kind="signature", date=D(2008, 12, 3))
        if index < 10:
            TreatyEventFactory(state=state, kind="ratification", date=D(2009 + index, 3, 1))


def test_the_dashboard_shows_states_parties_and_signatories_over_time(
    page: Page, live_server, events
):
    page.goto(f"{live_server.url}/?as_of=2013-09-13")
    section = page.locator("section[aria-labelledby=reach-heading]")
    expect(section.get_by_role("heading", level=2)).to_have_text(
        "States Parties and signatories on 13 September 2013"
    )
    titles = section.locator(".multiple-title")
    expect(titles).to_have_count(2)
    # Deposits of 2009 to 2013 (1 March): bound from 1 Aug 2010, 1 Sep 2010, then each
    # 1 September; the 2013 deposit from 1 September 2013.
    expect(titles.filter(has_text="States Parties")).to_contain_text("5")
    expect(titles.filter(has_text="Signatories")).to_contain_text("8")
    section.locator("summary").click()
    expect(section.locator("tbody tr")).to_have_count(7)
    expect(section.locator("tbody tr").last).to_contain_text("5")
    section.get_by_role("link", name="Every state’s treaty status").wait_for()


@pytest.mark.parametrize(("width", "height"), [(360, 800), (1280, 900)])
def test_indicator_text_is_at_least_12_px_and_fits(page: Page, live_server, events, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/")
    section = page.locator("section[aria-labelledby=reach-heading]")
    section.locator("details").evaluate("details => details.open = true")
    sizes = section.evaluate(TEXT_SIZES)
    small = [text for text in sizes if text["size"] < 12 or text["height"] < 12]
    assert not small, small
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The axis labels' middles are on the plot's top and bottom lines.
    plot = section.locator(".plot").first
    box = plot.locator("svg").bounding_box()
    top = plot.locator(".plot-y span").first.bounding_box()
    bottom = plot.locator(".plot-y span").last.bounding_box()
    assert abs(top["y"] + top["height"] / 2 - box["y"]) <= 1
    assert abs(bottom["y"] + bottom["height"] / 2 - (box["y"] + box["height"])) <= 1


@pytest.mark.parametrize("language", ["", "/fr", "/es"])
def test_indicator_pages_have_no_accessibility_violation(page: Page, live_server, events, language):
    axe = Axe()
    for path in PAGES:
        page.goto(f"{live_server.url}{language}{path}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        results = axe.run(page)
        assert results.violations_count == 0, f"{language}{path}\n{results.generate_report()}"


def test_the_empty_indicator_has_no_accessibility_violation(page: Page, live_server, db):
    call_command("seed", verbosity=0)
    page.goto(f"{live_server.url}/")
    expect(page.locator("section[aria-labelledby=reach-heading]")).to_contain_text(
        "No treaty events recorded yet: staff import the depositary’s table."
    )
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_a_universalisation_commitment_shows_joined_states_beside_its_verdict(
    page: Page, live_server, events
):
    page.goto(f"{live_server.url}/commitments/NOR-2012-01/?as_of=2014-01-01")
    context = page.locator(".joined-since")
    # Deposits after 16 April 2012 and by 1 January 2014: those of 1 March 2013.
    expect(context).to_contain_text(
        "Context, not the verdict: 1 state has joined the Convention since this statement"
    )
    expect(page.locator(".facts")).to_contain_text("Not yet assessed")
    page.goto(f"{live_server.url}/commitments/NOR-2012-02/")
    expect(page.locator(".joined-since")).to_have_count(0)
