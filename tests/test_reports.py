"""The meeting report (/reports/<meeting>/ and its PDF): what changed between the close of
the meeting before and the close of this one — states, headline figures, verdicts, follow-ups
— as recorded on a day, the same figures on the page and in the PDF."""

import datetime
import html
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from commitments.models import Commitment, Meeting, Status
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import (
    CommitmentFactory,
    MeetingFactory,
    StateFactory,
    TreatyEventFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
REPORT = "/reports/4MSP/"
PDF = "/reports/4MSP/report.pdf"


def meetings():
    """1MSP, 3MSP and 4MSP with their real dates (found, if the migrations hold them), and
    no other meeting between 3MSP and 4MSP, nor before 1MSP."""
    first = MeetingFactory(code="1MSP", start=D(2010, 11, 9), end=D(2010, 11, 12))
    third = MeetingFactory(code="3MSP", start=D(2012, 9, 11), end=D(2012, 9, 14))
    fourth = MeetingFactory(code="4MSP", start=D(2013, 9, 9), end=D(2013, 9, 13))
    Meeting.objects.filter(end__gt=third.end, end__lt=fourth.end).delete()
    Meeting.objects.filter(end__lt=first.end).delete()
    return first, third, fourth


def record(reference, status, on, **kwargs):
    author = get_user_model().objects.get_or_create(username="author")[0]
    return record_follow_up(
        Commitment.objects.get(reference=reference),
        status=status,
        happened_on=on,
        by=author,
        **kwargs,
    )


def event(country, kind, on, **kwargs):
    return TreatyEventFactory(state=StateFactory(country=country), kind=kind, date=on, **kwargs)


@pytest.fixture
def tracker(seeded):
    meetings()
    # Belgium: a State Party long before both dates; unchanged, never listed.
    event("BE", "signature", D(2008, 12, 3))
    event("BE", "ratification", D(2009, 12, 22))
    # France ratified in January 2013 (in force 1 July): joined. A mistaken entry recorded
    # first, then corrected: only the correction is a source.
    mistaken = event("FR", "ratification", D(2013, 1, 10), notification="C.N.1.2013.WRONG")
    event("FR", "ratification", D(2013, 1, 15), notification="C.N.15.2013", corrects=mistaken)
    # Germany signed in February 2013.
    event("DE", "signature", D(2013, 2, 1), notification="C.N.20.2013")
    # Italy deposited in June 2013: a State Party from 1 December, after the close.
    event("IT", "accession", D(2013, 6, 20), notification="C.N.30.2013")
    # Spain withdrew: received 1 November 2012, in effect 1 May 2013.
    event("ES", "ratification", D(2009, 6, 17))
    event("ES", "withdrawal", D(2012, 11, 1), notification="C.N.40.2012")
    # Portugal's withdrawal, received in August 2013, takes effect after the close.
    event("PT", "ratification", D(2011, 3, 9))
    event("PT", "withdrawal", D(2013, 8, 1), source_url="https://example.org/pt-withdrawal")

    record("NOR-2012-10", Status.IN_PROGRESS, D(2012, 9, 11), public_note="3MSP agenda set")
    record("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9), public_note="Presidency report",
           internal_note=CANARY)  # fmt: skip
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1), public_note="Raised at the UNGA")
    record("NOR-2012-08", Status.OFF_TRACK, D(2013, 9, 20), public_note="After the close")
    hidden = CommitmentFactory(reference="HID-1", published=False)
    record_follow_up(hidden, status=Status.ACHIEVED, happened_on=D(2013, 3, 1),
                     by=get_user_model().objects.get(username="author"),
                     public_note="HIDDEN-NOTE")  # fmt: skip


def text(response):
    """The page's words, as a reader sees them."""
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", words)


def test_the_report_lists_the_states_that_joined_signed_or_left_with_sources(client, tracker):
    response = client.get(REPORT)
    assert response.status_code == 200
    page = text(response)
    assert "France Became a State Party on 1 July 2013" in page
    assert "C.N.15.2013" in page
    assert "C.N.1.2013.WRONG" not in page  # corrected
    assert "Germany Became a signatory on 1 February 2013" in page
    assert "Italy Instrument deposited: becomes a State Party on 1 December 2013" in page
    assert "Spain Left: its withdrawal took effect on 1 May 2013" in page
    assert "Portugal Withdrawal received: takes effect on 1 February 2014" in page
    assert 'href="https://example.org/pt-withdrawal"' in response.content.decode()
    assert "Belgium" not in page


def test_a_correction_recorded_on_another_state_removes_the_mistake_from_the_sources(
    client, tracker
):
    # Greece signed in the window. A ratification was then entered on Greece by mistake;
    # it was Grenada's, from before 3MSP. The correction is recorded on Grenada, whose
    # standing did not change in the window, and names Greece's entry.
    event("GR", "signature", D(2013, 2, 5), notification="C.N.50.2013")
    wrong = event("GR", "ratification", D(2013, 3, 1), notification="C.N.GR.WRONG")
    event("GD", "ratification", D(2012, 3, 1), notification="C.N.60.2012", corrects=wrong)
    response = client.get(REPORT)
    page = text(response)
    assert "Greece Became a signatory on 5 February 2013" in page
    assert "C.N.50.2013" in page
    assert "C.N.GR.WRONG" not in page
    assert "Grenada" not in page  # a State Party at both closes


def test_the_report_compares_with_the_meeting_before(client, tracker):
    page = text(client.get(REPORT))
    assert "compared with the close of the meeting before it, 3MSP" in page
    # States Parties: Belgium, Spain, Portugal at 3MSP; Belgium, France, Portugal at 4MSP.
    assert "States Parties 3 3 0" in page
    assert "Signatories 0 1 +1" in page
    assert "Published commitments 10 10 0" in page
    assert "Achieved 0 1 +1" in page
    assert "On track 0 1 +1" in page


def test_the_first_meeting_is_compared_with_the_opening_for_signature(client, tracker):
    page = text(client.get("/reports/1MSP/"))
    assert "No earlier meeting is recorded" in page
    assert "3 December 2008" in page
    # Belgium and Spain were States Parties from 1 August 2010.
    assert "Belgium Became a State Party on 1 August 2010" in page
    assert "States Parties 0 2 +2" in page


def test_the_report_lists_changed_verdicts_and_follow_ups_between_the_dates(client, tracker):
    response = client.get(REPORT)
    page = text(response)
    assert "NOR-2012-10" in page
    assert "In progress → Achieved" in page
    assert "NOR-2012-09" in page
    assert "Not yet assessed → On track" in page
    assert "Presidency report" in page
    assert "Raised at the UNGA" in page
    assert "3MSP agenda set" not in page  # before the earlier date
    assert "After the close" not in page  # after the later one
    # Public notes of published commitments only.
    assert CANARY not in response.content.decode()
    assert "HIDDEN-NOTE" not in page
    assert "HID-1" not in page
    assert "2 follow-ups that happened between the two dates" in page


def test_the_report_counts_follow_ups_by_theme_and_by_delegation(client, tracker):
    page = text(client.get(REPORT))
    # The seed's one delegation; the themes of NOR-2012-09 and -10 (both "promotion").
    assert "Norway 10 10 50.0 % 100.0 % 2 " in page
    assert "Promotion and presidency 2 2 50.0 % 100.0 % 2 " in page
    assert "Universalisation 2 2 — — 0 " in page


def test_as_recorded_on_an_earlier_day_leaves_out_what_was_recorded_later(client, tracker):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page = text(client.get(f"{REPORT}?known_on={yesterday.isoformat()}"))
    assert "what was recorded later is left out" in page
    assert "No state joined, signed or left" in page
    assert "No verdict changed" in page
    assert "Presidency report" not in page


def test_the_report_says_when_it_was_recorded_and_links_permanently(client, tracker):
    response = client.get(REPORT)
    page = text(response)
    today = timezone.localdate()
    assert f"As recorded on {today.day} " in page
    assert re.search(
        rb'href="/reports/4MSP/\?known_on=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', response.content
    )
    assert b'id="cite"' in response.content


def test_an_unknown_or_unfinished_meeting_has_no_report(client, tracker):
    assert client.get("/reports/99MSP/").status_code == 404
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    MeetingFactory(code="NEXT", start=tomorrow, end=tomorrow)
    assert client.get("/reports/NEXT/").status_code == 404
    assert client.get("/reports/NEXT/report.pdf").status_code == 404


def test_the_list_of_reports_shows_closed_meetings_newest_first(client, tracker):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    MeetingFactory(code="NEXT", start=tomorrow, end=tomorrow)
    page = client.get("/reports/").content.decode()
    assert "/reports/NEXT/" not in page
    assert (
        page.index("/reports/4MSP/") < page.index("/reports/3MSP/") < page.index("/reports/1MSP/")
    )
    assert "/reports/4MSP/report.pdf" in page


def test_the_dashboard_and_every_public_page_link_to_the_reports(client, tracker):
    dashboard = client.get("/").content.decode()
    assert 'href="/reports/"' in dashboard
    assert 'href="/fr/reports/"' in client.get("/fr/statements/").content.decode()


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_report_is_translated(client, tracker, language):
    response = client.get(f"/{language}{REPORT}")
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()[:200]


# --- The PDF ---------------------------------------------------------------------------------


def pdf_text(response):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def figures(page):
    """The report's figures as read from its text: each headline row (label, before, after,
    change), each breakdown row and each state's change."""
    rows = re.findall(r"((?:States Parties|Signatories|Published commitments|Not yet assessed|"
                      r"Not confirmed|Not started|Off track|In progress|On track|Achieved) "
                      r"-?\d+ -?\d+ [+-]?\d+)", page)  # fmt: skip
    rows += re.findall(r"Weighted progress [\d.]+ % [\d.]+ %", page)
    rows += re.findall(r"Norway \d+ \d+ [\d.]+ % [\d.]+ % \d+", page)
    rows += re.findall(r"(?:Became|becomes|takes effect|took effect) [^(]*? \d{4}", page)
    rows += re.findall(r"\d+ (?:follow-ups|commitments whose|states whose)", page)
    return rows


def test_the_pdf_is_the_report_with_the_same_figures(client, tracker):
    page = text(client.get(REPORT))
    response = client.get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="ccm-report-4MSP.pdf"'
    document = pdf_text(response)
    expected = figures(page)
    assert len(expected) >= 18, expected
    assert figures(document) == expected
    for words in ("Presidency report", "Raised at the UNGA", "NOR-2012-10", "France", "Spain"):
        assert words in document
    assert CANARY not in document
    assert "HIDDEN-NOTE" not in document


def test_a_long_report_s_pdf_lists_the_first_and_counts_the_rest(client, tracker, monkeypatch):
    """Hundreds of pages take WeasyPrint minutes: the PDF lists the first PDF_LISTED follow-ups
    and verdict changes, counts them all, and sends the reader to the page for the rest."""
    from commitments import reports

    monkeypatch.setattr(reports, "PDF_LISTED", 1)
    page = text(client.get(REPORT))
    document = pdf_text(client.get(PDF))
    assert "Presidency report" in page  # the page lists them all
    assert "Raised at the UNGA" in page
    assert "Raised at the UNGA" in document  # the first, by date (1 May 2013)
    assert "Presidency report" not in document  # the second (9 September 2013)
    assert "2 follow-ups that happened between the two dates" in document
    assert (
        "And 1 more, listed on the report's web page: http://testserver/reports/4MSP/" in document
    )
    assert figures(document) == figures(page)  # every figure still counts them all


def test_the_pdf_keeps_the_day_it_is_recorded_on(client, tracker):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page = text(client.get(f"{REPORT}?known_on={yesterday.isoformat()}"))
    response = client.get(f"{PDF}?known_on={yesterday.isoformat()}")
    document = pdf_text(response)
    assert "Presidency report" not in document
    assert figures(document) == figures(page)


def test_the_page_links_its_pdf(client, tracker):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    html = client.get(f"{REPORT}?known_on={yesterday.isoformat()}").content.decode()
    assert f'href="{PDF}?known_on={yesterday.isoformat()}"' in html
    assert f'href="/fr{PDF}"' in client.get(f"/fr{REPORT}").content.decode()


def test_the_french_pdf_is_in_french(client, tracker):
    document = pdf_text(client.get(f"/fr{PDF}"))
    assert "4MSP" in document
    assert "13 septembre 2013" in document
    assert "Cite this page" not in document


def test_the_pdf_fetches_the_apps_static_files_and_nothing_else(settings):
    from commitments.reports import static_files_only

    fetch = static_files_only("testserver")
    css = fetch("http://testserver/static/css/print.css")
    assert b"@page" in css.read()
    for url in (
        "http://example.org/static/css/print.css",  # another host
        "https://testserver.evil/static/css/site.css",
        "http://testserver/admin/",  # not a static file
        "http://testserver/static/../manage.py",
        "file:///etc/passwd",
        "http://testserver/static/css/missing.css",
    ):
        with pytest.raises(ValueError, match="static files"):
            fetch(url)


# --- Queries ---------------------------------------------------------------------------------


def grow(n):
    """n more published commitments of n more delegations, each with follow-ups in the
    window, and n more states that joined in it."""
    from commitments.models import State

    from .factories import DelegationFactory, StatementFactory

    author = get_user_model().objects.get(username="author")
    for index in range(n):
        delegation = DelegationFactory(name=f"Delegation {index}", code=f"D{index:02d}")
        statement = StatementFactory(delegation=delegation)
        commitment = CommitmentFactory(statement=statement, reference=f"GROW-{index}")
        for month in (1, 4, 7):
            on = D(2013, month, 1 + index)
            record_follow_up(commitment, status=Status.IN_PROGRESS, by=author, happened_on=on)
    joined = State.objects.exclude(country__in=["BE", "FR", "DE", "IT", "ES", "PT"])[:n]
    for state in joined:
        TreatyEventFactory(state=state, kind="accession", date=D(2012, 12, 1))


REPORT_QUERIES = 16  # tests/test_query_counts.py says what each is


def test_the_report_takes_the_same_few_queries_whatever_the_size(
    client, tracker, django_assert_max_num_queries
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    small = [count(REPORT), count(PDF)]
    grow(12)
    large = [count(REPORT), count(PDF)]
    assert small == large
    assert "GROW-11" in text(client.get(REPORT))
    cache.clear()
    with django_assert_max_num_queries(REPORT_QUERIES):
        client.get(REPORT)


def test_the_report_and_its_pdf_are_served_from_the_page_cache(
    client, tracker, django_assert_num_queries
):
    for url in (REPORT, PDF, "/fr/reports/4MSP/", "/reports/"):
        first = client.get(url)
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.content == first.content
