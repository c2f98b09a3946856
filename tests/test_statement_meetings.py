"""A statement names the Convention meeting it was made at (Statement.convention_meeting, a
Meeting record): the seed and the migration link those whose date one meeting's dates
contain, staff choose it in the admin or an import, a date outside the meeting is refused,
and the public pages link the meeting's report, which lists the statements made there."""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from commitments.models import Commitment, Meeting, Statement
from commitments.resources import StatementResource

from .factories import CommitmentFactory, DelegationFactory, MeetingFactory, StatementFactory
from .test_import_export import edited, export_csv, import_csv
from .test_reports import meetings, text

pytestmark = pytest.mark.django_db

D = datetime.date
LINK = import_module("commitments.migrations.0022_statement_convention_meeting").link_statements
NORWAY = "norway-2012-04-16-universalisation"


def test_the_seed_links_norways_statement_to_the_2012_intersessional_meetings(seeded):
    statement = Statement.objects.get(slug=NORWAY)
    assert statement.convention_meeting.code == "IM2012"
    # The words of the statement's own heading stay as they were.
    assert (
        statement.meeting == "Convention on Cluster Munitions, intersessional meetings, April 2012"
    )


def test_the_migration_links_a_statement_to_the_one_meeting_whose_dates_contain_it(db):
    _first, third, fourth = meetings()
    MeetingFactory(code="X1", start=D(2014, 3, 1), end=D(2014, 3, 5))
    MeetingFactory(code="X2", start=D(2014, 3, 4), end=D(2014, 3, 8))  # overlaps X1
    at_3msp = StatementFactory(date=D(2012, 9, 14))  # its last day
    at_4msp = StatementFactory(date=D(2013, 9, 9))  # its first day
    between = StatementFactory(date=D(2013, 1, 10))  # at no meeting (the UNGA, say)
    ambiguous = StatementFactory(date=D(2014, 3, 4))  # X1 and X2 both
    chosen = StatementFactory(date=D(2013, 9, 10), convention_meeting=third)  # left as staff set
    Statement.objects.filter(pk=chosen.pk).update(convention_meeting=third)
    LINK(apps, None)

    def linked(statement):
        return Statement.objects.get(pk=statement.pk).convention_meeting

    assert linked(at_3msp) == third
    assert linked(at_4msp) == fourth
    assert linked(between) is None
    assert linked(ambiguous) is None
    assert linked(chosen) == third


def test_a_statement_dated_outside_its_meeting_is_refused_in_the_admin(client, administrator):
    fourth = MeetingFactory(code="4MSP", start=D(2013, 9, 9), end=D(2013, 9, 13))
    delegation = DelegationFactory(name="ICRC", code="ICRC")
    client.force_login(administrator)
    data = {
        "title_en": "ICRC at 4MSP",
        "slug": "icrc-4msp",
        "delegation": delegation.pk,
        "meeting_en": "Fourth Meeting of States Parties",
        "convention_meeting": fourth.pk,
        "place_en": "Lusaka",
        "date": "2013-09-20",
        "language": "en",
        "text": "We call on all states to join.",
        "commitments-TOTAL_FORMS": "0",
        "commitments-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/commitments/statement/add/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "4MSP was held from 9 September 2013 to 13 September 2013" in page
    assert 'value="ICRC at 4MSP"' in page  # what was typed is kept
    assert not Statement.objects.filter(slug="icrc-4msp").exists()
    data["date"] = "2013-09-12"
    assert client.post("/admin/commitments/statement/add/", data).status_code == 302
    assert Statement.objects.get(slug="icrc-4msp").convention_meeting == fourth


def test_the_statement_pages_link_the_meetings_report_once_it_has_closed(client, seeded):
    page = client.get(f"/statements/{NORWAY}/").content.decode()
    assert 'href="/reports/IM2012/"' in page
    assert "Meeting report: IM2012" in page
    assert 'href="/fr/reports/IM2012/"' in client.get("/fr/statements/").content.decode()
    # A meeting still going on has no report yet: no link to one.
    today = timezone.localdate()
    ongoing = MeetingFactory(code="13MSP", start=today, end=today + datetime.timedelta(days=2))
    Statement.objects.filter(slug=NORWAY).update(date=today, convention_meeting=ongoing)
    page = client.get(f"/statements/{NORWAY}/").content.decode()
    assert "/reports/13MSP/" not in page
    assert client.get("/reports/13MSP/").status_code == 404


def test_the_report_lists_the_statements_made_at_the_meeting_with_their_commitments(client, seeded):
    _first, third, fourth = meetings()
    icrc = DelegationFactory(name="ICRC", code="ICRC")
    at_4msp = StatementFactory(
        title="ICRC at 4MSP", delegation=icrc, date=D(2013, 9, 10), convention_meeting=fourth
    )
    CommitmentFactory(reference="ICRC-2013-01", statement=at_4msp)
    CommitmentFactory(reference="ICRC-2013-02", statement=at_4msp)
    CommitmentFactory(reference="ICRC-2013-03", statement=at_4msp, published=False)
    hidden = StatementFactory(
        title="Unpublished only", date=D(2013, 9, 11), convention_meeting=fourth
    )
    CommitmentFactory(reference="HID-2013-01", statement=hidden, published=False)
    at_3msp = StatementFactory(title="At 3MSP", date=D(2012, 9, 12), convention_meeting=third)
    CommitmentFactory(reference="ICRC-2012-01", statement=at_3msp)

    response = client.get("/reports/4MSP/")
    page = text(response)
    assert "Statements made at the meeting" in page
    assert "ICRC at 4MSP ICRC 10 September 2013 2" in page  # two published commitments
    assert f'href="{at_4msp.get_absolute_url()}"' in response.content.decode()
    assert "Unpublished only" not in page
    assert "At 3MSP" not in page
    assert "At 3MSP" in text(client.get("/reports/3MSP/"))
    # As recorded before the commitments were entered: not yet listed.
    Commitment.objects.filter(statement=at_4msp).update(
        created_at=timezone.make_aware(datetime.datetime(2020, 1, 1))
    )
    earlier = text(client.get("/reports/4MSP/", {"known_on": "2019-12-31"}))
    assert "ICRC at 4MSP" not in earlier
    assert "No statement with published commitments is recorded as made at this meeting" in (
        earlier
    )


def test_the_import_reads_and_the_export_writes_the_meeting_by_its_code(seeded):
    csv = export_csv(StatementResource())
    assert "convention_meeting" in csv.splitlines()[0].split(",")
    assert ",IM2012," in csv
    im2012 = Meeting.objects.get(code="IM2012")

    result = import_csv(StatementResource(), edited(csv, {(0, "convention_meeting"): ""}))
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert Statement.objects.get(slug=NORWAY).convention_meeting is None

    result = import_csv(StatementResource(), edited(csv, {(0, "convention_meeting"): "im2012"}))
    assert not result.has_validation_errors()
    assert Statement.objects.get(slug=NORWAY).convention_meeting == im2012


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("99MSP", "No meeting “99MSP”"),
        ("3MSP", "3MSP was held from 11 September 2012 to 14 September 2012"),
    ],
)
def test_an_unknown_meeting_or_one_at_other_dates_is_the_rows_error(seeded, code, message):
    MeetingFactory(code="3MSP", start=D(2012, 9, 11), end=D(2012, 9, 14))
    before = list(Statement.objects.values())
    csv = edited(export_csv(StatementResource()), {(0, "convention_meeting"): code})
    result = import_csv(StatementResource(), csv)
    errors = [
        str(error)
        for row in result.invalid_rows
        for messages in row.error_dict.values()
        for error in messages
    ] + [str(error.error) for row in result.row_errors() for error in row[1]]
    assert any(message in error for error in errors), errors
    assert list(Statement.objects.values()) == before
