"""The meeting report in a real browser: reached from the dashboard, accessible (axe), and its
PDF downloaded and read back."""

import datetime
import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from ..factories import MeetingFactory, StateFactory, TreatyEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date


@pytest.fixture
def tracker(db):
    call_command("seed", verbosity=0)
    user = get_user_model().objects.create(username="author", is_staff=True)
    MeetingFactory(code="3MSP", start=D(2012, 9, 11), end=D(2012, 9, 14))
    MeetingFactory(code="4MSP", start=D(2013, 9, 9), end=D(2013, 9, 13))
    TreatyEventFactory(state=StateFactory(country="FR"), kind="ratification",
                       date=D(2013, 1, 15), notification="C.N.15.2013")  # fmt: skip
    TreatyEventFactory(state=StateFactory(country="DE"), kind="signature", date=D(2013, 2, 1))
    for reference, status, on, note in [
        ("NOR-2012-10", Status.IN_PROGRESS, D(2012, 9, 11), "3MSP agenda set"),
        ("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9), "Presidency report"),
        ("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1), "Raised at the UNGA"),
    ]:
        record_follow_up(Commitment.objects.get(reference=reference), status=status,
                         happened_on=on, by=user, public_note=note)  # fmt: skip


@pytest.mark.parametrize("language", ["", "/fr", "/es"])
def test_the_reports_have_no_accessibility_violation(page: Page, live_server, tracker, language):
    axe = Axe()
    for path in ("/reports/", "/reports/4MSP/", "/reports/3MSP/", "/reports/4MSP/?known_on=x"):
        page.goto(f"{live_server.url}{language}{path}")
        results = axe.run(page)
        assert results.violations_count == 0, f"{language}{path}\n{results.generate_report()}"


def test_a_visitor_finds_the_report_and_downloads_its_pdf(page: Page, live_server, tracker):
    from pypdf import PdfReader

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Meeting reports", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/reports/")
    page.get_by_role("link", name=re.compile(r"^4MSP")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meeting report: 4MSP")
    expect(page.get_by_role("row", name=re.compile(r"^France"))).to_contain_text(
        "Became a State Party on 1 July 2013"
    )
    expect(page.get_by_role("row", name="States Parties 0 1 +1")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the 4MSP report as PDF").click()
    assert download.value.suggested_filename == "ccm-report-4MSP.pdf"
    reader = PdfReader(io.BytesIO(open(download.value.path(), "rb").read()))  # noqa: SIM115
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "States Parties 0 1 +1" in text
    assert "Presidency report" in text
