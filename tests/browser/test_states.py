"""The states pages as a reader sees them (issue 14): the map and its table, filtered in
place, at an earlier date, and a state's page; no accessibility violation (axe)."""

import datetime
from importlib import import_module

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, State, Status, TreatyEvent
from commitments.records import record_follow_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
UNTC = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-6&chapter=26"


def ensure_states():
    """The 197 states, as the migration adds them: a transactional test flushes the tables."""
    if not State.objects.exists():
        import_module("commitments.migrations.0014_states").add_states(apps, None)


@pytest.fixture
def treaty_record(db):
    """Norway a State Party since 2010; Andorra acceded in 2013; Canada signed in 2008 and
    ratified in 2015; Lithuania withdrew in 2024; a follow-up names Norway and Canada."""
    ensure_states()
    state = {code: State.objects.get(country=code) for code in ("NO", "AD", "CA", "LT")}
    for code, kind, day in [
        ("NO", "signature", D(2008, 12, 3)),
        ("NO", "ratification", D(2008, 12, 3)),
        ("AD", "accession", D(2013, 4, 9)),
        ("CA", "signature", D(2008, 12, 3)),
        ("CA", "ratification", D(2015, 3, 16)),
        ("LT", "signature", D(2008, 12, 3)),
        ("LT", "ratification", D(2011, 3, 24)),
        ("LT", "withdrawal", D(2024, 9, 6)),
    ]:
        TreatyEvent.objects.create(state=state[code], kind=kind, date=day, source_url=UNTC)
    call_command("seed", verbosity=0)
    author = get_user_model().objects.create(username="author", is_staff=True)
    follow_up = record_follow_up(
        Commitment.objects.get(reference="NOR-2012-07"),
        status=Status.IN_PROGRESS,
        happened_on=D(2014, 3, 1),
        by=author,
        public_note="Regional workshop for the signatories",
    )
    follow_up.set_states_once([state["NO"], state["CA"]])


def row(page, code):
    return page.locator(f"#state-{code}")


def test_the_map_and_table_by_status_today_filtered_and_at_an_earlier_date(
    page: Page, live_server, treaty_record
):
    page.goto(f"{live_server.url}/states/")
    expect(page.locator("svg.map-svg")).to_be_visible()
    assert page.locator(".map-state").count() == 197
    expect(page.locator('.map-state[href="/states/NO/"] title')).to_have_text("Norway: State Party")
    expect(row(page, "CA")).to_contain_text("State Party")
    expect(row(page, "LT")).to_contain_text("Neither party nor signatory")
    # The map is a picture of the table: its links stay out of the tab order, and screen
    # readers skip it for the table, which holds the same.
    assert page.locator(".map-state:not([tabindex='-1'])").count() == 0
    expect(page.locator("svg.map-svg")).to_have_attribute("aria-hidden", "true")
    page.keyboard.press("Tab")
    for _ in range(40):
        page.keyboard.press("Tab")
        assert not page.evaluate("!!document.activeElement.closest('svg')")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    # Filter in place: the table only, the address shareable.
    page.evaluate("window.noReloadMarker = 'still here'")
    page.get_by_label("Treaty status").select_option("state_party")
    expect(page).to_have_url(f"{live_server.url}/states/?status=state_party")
    expect(page.locator("#state-table tbody tr")).to_have_count(3)
    expect(page.locator("#results-status")).to_have_text("3 states match; table updated.")
    assert page.evaluate("window.noReloadMarker") == "still here"

    # An earlier date: Canada a signatory, Andorra not yet anything, Lithuania a party.
    page.goto(f"{live_server.url}/states/")
    page.get_by_label("Show the tracker as it stood on").fill("2012-06-30")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/states/?as_of=2012-06-30&known_on=")
    expect(row(page, "CA")).to_contain_text("Signatory")
    expect(row(page, "AD")).to_contain_text("Neither party nor signatory")
    expect(row(page, "LT")).to_contain_text("State Party")
    expect(page.locator('.map-state[href^="/states/CA/"] title')).to_have_text("Canada: Signatory")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("language", ["", "/fr", "/es"])
def test_a_state_s_page_has_its_timeline_sources_and_follow_ups(
    page: Page, live_server, treaty_record, language
):
    page.goto(f"{live_server.url}/states/")
    page.locator("#state-CA th a").click()
    expect(page).to_have_url(f"{live_server.url}/states/CA/")
    page.goto(f"{live_server.url}{language}/states/ca/")  # any case
    expect(page).to_have_url(f"{live_server.url}{language}/states/CA/")
    events = page.locator(".treaty-events li")
    expect(events).to_have_count(2)
    expect(events.nth(1).locator(".evidence a")).to_have_attribute("href", UNTC)
    expect(page.get_by_text("Regional workshop for the signatories")).to_be_visible()
    results = Axe().run(page)
    assert results.violations_count == 0, f"{language}\n{results.generate_report()}"
    # Norway: its statement and commitments with their verdict bar, and the follow-up.
    page.goto(f"{live_server.url}{language}/states/NO/")
    expect(page.locator(".state-statements li")).to_have_count(1)
    expect(page.locator("svg.verdict-bar")).to_have_count(1)
    expect(page.locator("#row-NOR-2012-07")).to_be_visible()
    results = Axe().run(page)
    assert results.violations_count == 0, f"{language}\n{results.generate_report()}"
