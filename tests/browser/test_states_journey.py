"""Issue 14 from end to end, as staff and a reader do it: staff import the depositary's table
(the excerpt), record a withdrawal and a follow-up naming two states; /states/ shows the map
and the table with the right statuses today and at an earlier date; a state's page shows its
timeline with sources and the follow-up; the meeting report lists what changed and its PDF
holds the same figures."""

import io
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import FollowUp, TreatyEvent

from ..factories import UserFactory
from .test_staff_flow import log_in
from .test_states import ensure_states

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXCERPT = Path(__file__).resolve().parents[1] / "data" / "untc-ccm-participants-excerpt.tsv"
SOURCE = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"


def test_staff_record_the_treaty_record_and_readers_see_it_on_the_map_pages_and_report(
    second_review_off, page: Page, live_server
):
    ensure_states()
    call_command("seed", verbosity=0)
    staff = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, staff.username, next_url="/admin/commitments/treatyevent/")

    # 1. The depositary's table: previewed, then recorded.
    page.get_by_role("link", name="Import the depositary's table").click()
    page.get_by_label("Participant table").set_input_files(EXCERPT)
    page.get_by_label("Source URL").fill(SOURCE)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("37 rows: 67 new events, 0 already recorded.")).to_be_visible()
    assert TreatyEvent.objects.count() == 0  # a preview records nothing
    page.get_by_role("button", name="Record 67 events").click()
    expect(page.get_by_text("Recorded 67 treaty events for 37 states")).to_be_visible()

    # 2. A withdrawal (Albania, a State Party since 1 August 2010), received on 15 January
    # 2026: it takes effect six months later (Art. 20(2)).
    page.goto(f"{live_server.url}/admin/commitments/treatyevent/add/")
    page.get_by_label("State:", exact=True).select_option(label="Albania")
    page.get_by_label("Event:", exact=True).select_option("withdrawal")
    page.get_by_label("Date:", exact=True).fill("2026-01-15")
    page.get_by_label("Depositary notification:").fill("C.N.15.2026.TREATIES-XXVI.6")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    withdrawal = TreatyEvent.objects.get(kind="withdrawal")
    assert (withdrawal.state.country.code, withdrawal.recorded_by) == ("AL", staff)

    # 3. A follow-up naming two states: a regional workshop for Angola and Benin.
    page.goto(f"{live_server.url}/staff/?show=all")
    row = page.locator("#c-NOR-2012-07")
    row.get_by_text("Record a follow-up").click()
    row.get_by_label("Status").select_option("in_progress")
    row.get_by_label("Date it happened").fill("2013-05-02")
    row.get_by_label("What happened (public)", exact=True).fill(
        "Regional workshop on the Convention for Angola and Benin"
    )
    row.get_by_label("States it concerns (optional)").select_option(label=["Angola", "Benin"])
    row.get_by_role("button", name="Record follow-up").click()
    expect(row.locator(".message-success")).to_be_visible()
    follow_up = FollowUp.objects.get(public_note_en__startswith="Regional workshop")
    assert sorted(follow_up.states.values_list("country", flat=True)) == ["AO", "BJ"]

    # 4. /states/ today: the map and the table. Andorra acceded in 2013; Albania has left.
    reader = page.context.browser.new_context().new_page()
    reader.goto(f"{live_server.url}/states/")
    expect(reader.locator("svg.map-svg")).to_be_visible()
    expect(reader.locator('.map-state[href="/states/AD/"] title')).to_have_text(
        "Andorra: State Party"
    )
    expect(reader.locator("#state-AD")).to_contain_text("State Party")
    expect(reader.locator("#state-AL")).to_contain_text("Neither party nor signatory")
    expect(reader.locator("#state-AO")).to_contain_text("Signatory")
    assert Axe().run(reader).violations_count == 0

    # … and at an earlier date: in 2012 Andorra had not acceded, Albania was a party.
    reader.goto(f"{live_server.url}/states/?as_of=2012-06-30")
    expect(reader.locator("#state-AD")).to_contain_text("Neither party nor signatory")
    expect(reader.locator("#state-AL")).to_contain_text("State Party")
    expect(reader.locator('.map-state[href^="/states/AL/"] title')).to_have_text(
        "Albania: State Party"
    )

    # 5. Albania's page: its timeline, each entry with its source, the withdrawal's effect.
    reader.goto(f"{live_server.url}/states/AL/")
    events = reader.locator(".treaty-events > li")
    expect(events).to_have_count(3)  # signature, ratification, withdrawal
    expect(events.first.locator("a[href]").first).to_have_attribute("href", SOURCE)
    expect(events.last).to_contain_text("C.N.15.2026.TREATIES-XXVI.6")
    expect(events.last).to_contain_text("15 July 2026")  # six months after its receipt
    # Angola's page: the follow-up that concerns it.
    reader.goto(f"{live_server.url}/states/AO/")
    expect(
        reader.get_by_text("Regional workshop on the Convention for Angola and Benin")
    ).to_be_visible()
    assert Axe().run(reader).violations_count == 0

    # 6. The report of the Fourth Meeting of States Parties (Lusaka, 9–13 September 2013),
    # against the Third (Oslo, September 2012): Andorra's accession and the workshop.
    reader.goto(f"{live_server.url}/reports/")
    reader.get_by_role("link", name=re.compile(r"^4MSP")).click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Meeting report: 4MSP")
    expect(reader.get_by_role("row", name=re.compile(r"^Andorra"))).to_be_visible()
    expect(
        reader.get_by_text("Regional workshop on the Convention for Angola and Benin")
    ).to_be_visible()
    figures = reader.get_by_role("row", name=re.compile(r"^States Parties \d+ \d+"))
    states_parties = re.sub(r"\s+", " ", figures.inner_text()).strip()
    signatories = re.sub(
        r"\s+",
        " ",
        reader.get_by_role("row", name=re.compile(r"^Signatories \d+ \d+")).inner_text(),
    ).strip()
    assert Axe().run(reader).violations_count == 0

    # Its PDF opens and says the same.
    from pypdf import PdfReader

    with reader.expect_download() as download:
        reader.get_by_role("link", name="Download the 4MSP report as PDF").click()
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf.pages))
    assert states_parties in text
    assert signatories in text
    assert "Andorra" in text
    assert "Regional workshop on the Convention for Angola and Benin" in text
