"""The universalisation indicator (issue 14, item 6): the dashboard's States Parties and
signatories over time, and on a universalisation commitment's page how many states joined
after its statement, as context beside its verdict."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.charts import HEIGHT, WIDTH, reach_chart
from commitments.indicator import reach_days
from commitments.models import UNIVERSALISATION, Commitment, Theme, TreatyEvent, Viewpoint
from commitments.reach import Reach

from .factories import StateFactory, TreatyEventFactory

pytestmark = pytest.mark.django_db

D = datetime.date
SIGNATURE, RATIFICATION, ACCESSION = "signature", "ratification", "accession"
EMPTY = "No treaty events recorded yet: staff import the depositary’s table."


def moment(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def event(country, kind, on, recorded=None, **kwargs):
    return TreatyEventFactory(
        state=StateFactory(country=country),
        kind=kind,
        date=on,
        recorded_at=moment(recorded or on),
        **kwargs,
    )


@pytest.fixture
def three_deposits(db):
    """Three signatories of 3 December 2008 that deposit in 2009, 2011 and 2013: the first
    is bound from the Convention's own entry into force (1 August 2010), the second from
    1 September 2011 (Art. 17(2)), the third, a December deposit, from 1 June 2014."""
    for country, deposit in [
        ("NO", D(2009, 3, 10)),
        ("FR", D(2011, 3, 24)),
        ("ES", D(2013, 12, 20)),
    ]:
        event(country, SIGNATURE, D(2008, 12, 3))
        event(country, RATIFICATION, deposit)
    # An accession without a signature: never a signatory; a State Party from 1 March 2011.
    event("IE", ACCESSION, D(2010, 9, 15))


def table(html):
    """The indicator's table: [(ISO date, States Parties, signatories)]."""
    section = html.split('aria-labelledby="reach-heading"', 1)[1].split("</section>", 1)[0]
    return [
        (day, int(parties), int(signatories))
        for day, parties, signatories in re.findall(
            r'<tr><th scope="row"><time datetime="([\d-]+)">[^<]*</time></th>'
            r"<td>(\d+)</td><td>(\d+)</td></tr>",
            section,
        )
    ]


def reach_section(html):
    return html.split('aria-labelledby="reach-heading"', 1)[1].split("</section>", 1)[0]


# --- The days counted -------------------------------------------------------------------------


def test_days_are_the_opening_each_year_end_and_the_date_shown():
    assert reach_days(D(2011, 5, 1)) == [
        D(2008, 12, 3),
        D(2008, 12, 31),
        D(2009, 12, 31),
        D(2010, 12, 31),
        D(2011, 5, 1),
    ]
    # A date shown on a year's end is counted once; before the opening nothing is counted.
    assert reach_days(D(2010, 12, 31))[-2:] == [D(2009, 12, 31), D(2010, 12, 31)]
    assert reach_days(D(2008, 12, 3)) == [D(2008, 12, 3)]
    assert reach_days(D(2008, 12, 2)) == []


# --- The dashboard ----------------------------------------------------------------------------


def test_year_end_counts_honour_entry_into_force(client, three_deposits):
    html = client.get("/?as_of=2014-06-30").content.decode()
    assert table(html) == [
        ("2008-12-03", 0, 3),
        ("2008-12-31", 0, 3),
        ("2009-12-31", 0, 3),  # deposited in 2009, bound only from 1 August 2010
        ("2010-12-31", 1, 2),  # the accession of September 2010 binds from 1 March 2011
        ("2011-12-31", 3, 1),
        ("2012-12-31", 3, 1),
        ("2013-12-31", 3, 1),  # deposited 20 December 2013: still a signatory
        ("2014-06-30", 4, 0),  # bound from 1 June 2014
    ]
    section = reach_section(html)
    # The plots' latest figures, and the chart's dots: one per count.
    assert re.search(r"States Parties</span>\s*<span class=\"multiple-figure\">4</span>", section)
    assert re.search(r"Signatories</span>\s*<span class=\"multiple-figure\">0</span>", section)
    assert section.count(" h0") == 2 * 8
    assert 'href="/states/?as_of=2014-06-30"' in section
    assert EMPTY not in html


def test_the_date_shown_is_the_last_count_and_today_by_default(client, three_deposits):
    rows = table(client.get("/?as_of=2011-09-01").content.decode())
    assert rows[-2:] == [("2010-12-31", 1, 2), ("2011-09-01", 3, 1)]
    today = timezone.localdate()
    rows = table(client.get("/").content.decode())
    assert rows[-1] == (today.isoformat(), 4, 0)
    assert len(rows) == 1 + (today.year - 2008) + 1


def test_what_was_recorded_later_is_not_known(client, three_deposits):
    # Recorded in 2020, dated 2012: as known at the end of 2019 it had not happened.
    event("DE", RATIFICATION, D(2012, 2, 1), recorded=D(2020, 1, 15))
    assert table(client.get("/?as_of=2013-01-01").content.decode())[-1] == ("2013-01-01", 4, 1)
    known = table(client.get("/?as_of=2013-01-01&known_on=2019-12-31").content.decode())
    assert known[-1] == ("2013-01-01", 3, 1)


def test_a_correction_counts_from_when_it_was_recorded(client, db):
    wrong = event("NO", RATIFICATION, D(2012, 2, 1), recorded=D(2012, 2, 2))
    event("NO", SIGNATURE, D(2008, 12, 3))
    event("NO", RATIFICATION, D(2013, 2, 1), recorded=D(2013, 3, 1), corrects=wrong)
    before = table(client.get("/?as_of=2012-12-31&known_on=2013-01-01").content.decode())
    after = table(client.get("/?as_of=2012-12-31").content.decode())
    assert before[-1] == ("2012-12-31", 1, 0)
    assert after[-1] == ("2012-12-31", 0, 1)


def test_no_events_says_so_instead_of_a_zero_line(client, db):
    html = client.get("/").content.decode()
    section = reach_section(html)
    assert EMPTY in section
    assert "<svg" not in section
    assert "<table" not in section
    assert 'href="/states/"' in section


def test_nothing_recorded_by_the_known_on_day_says_so(client, three_deposits):
    section = reach_section(client.get("/?known_on=2008-12-01").content.decode())
    assert "No treaty events had been recorded by" in section
    assert "<svg" not in section


def test_before_the_opening_nothing_is_counted(client, three_deposits):
    section = reach_section(client.get("/?as_of=2008-06-01").content.decode())
    assert "The Convention was opened for signature on" in section
    assert "<svg" not in section
    assert EMPTY not in section


def test_events_dated_after_the_date_shown_draw_a_true_zero(client, db):
    # Recorded, but none had happened by the date shown: zero is the count, not a gap.
    event("NO", ACCESSION, D(2015, 5, 5))
    html = client.get("/?as_of=2009-06-30").content.decode()
    assert table(html) == [
        ("2008-12-03", 0, 0),
        ("2008-12-31", 0, 0),
        ("2009-06-30", 0, 0),
    ]
    assert EMPTY not in html


def test_the_indicator_is_in_every_language(client, three_deposits):
    for prefix in ("/fr", "/es"):
        html = client.get(f"{prefix}/?as_of=2014-06-30").content.decode()
        assert table(html)[-1] == ("2014-06-30", 4, 0)
        assert 'href="/states/?as_of=2014-06-30"' not in html or prefix == ""
        assert f'href="{prefix}/states/?as_of=2014-06-30"' in html


def test_the_htmx_filter_answer_leaves_the_indicator_alone(client, three_deposits):
    response = client.get("/?theme=norm", headers={"HX-Request": "true", "HX-Target": "selection"})
    assert b"reach-heading" not in response.content


def test_the_dashboard_takes_the_same_queries_whatever_the_number_of_events(client, db):
    def count():
        cache.clear()  # as when a change has just outdated the page (this test's transaction
        # never commits, so the bump does not happen)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/?as_of=2020-01-01").status_code == 200
        return len(captured)

    event("NO", SIGNATURE, D(2008, 12, 3))
    few = count()
    countries = ["FR", "ES", "DE", "IE", "AT", "BE", "NL", "LU", "PT", "IT", "DK", "SE", "FI"]
    countries += ["CH", "MX", "CL", "PE", "GH", "ML", "NZ", "JP", "LA", "LB", "MZ", "SN", "ZM"]
    for index, country in enumerate(countries):
        event(country, SIGNATURE, D(2008, 12, 3))
        event(country, RATIFICATION, D(2009 + index % 10, 1 + index % 12, 1 + index % 28))
        event(country, SIGNATURE, D(2008, 12, 4), notification=f"C.N.{index}")
    assert TreatyEvent.objects.count() > 75
    assert count() == few


# --- The chart's geometry ---------------------------------------------------------------------


def test_reach_chart_draws_dots_joined_on_one_scale_for_both():
    rows = [
        Reach(D(2008, 12, 3), 0, 40),
        Reach(D(2008, 12, 31), 0, 50),
        Reach(D(2009, 12, 31), 30, 30),
    ]
    chart = reach_chart(rows)
    parties, signatories = chart["series"]
    assert (WIDTH, HEIGHT) == (1000, 100)
    assert [parties.label, signatories.label] == ["States Parties", "Signatories"]
    # 50 at most: an axis to 60 (a multiple of 20), labelled 60, 30, 0.
    assert chart["y_labels"] == ["60", "30", "0"]
    assert chart["y_ticks"] == ["75", "50", "25", "0"]
    # x: 3 Dec 2008 at 0, 31 Dec 2009 at 1000; 31 Dec 2008 is 28 of 393 days in.
    assert signatories.points == "M0 33.3 L71.2 16.7 L1000 50"
    assert signatories.markers == "M0 33.3 h0 M71.2 16.7 h0 M1000 50 h0"
    assert signatories.area == "M0 100 L0 33.3 L71.2 16.7 L1000 50 V100 Z"
    assert parties.points == "M0 100 L71.2 100 L1000 50"
    assert (parties.last, signatories.last) == (30, 30)
    assert chart["x_ticks"] == [("73.8", 2009)]  # 1 January 2009: 29 days in
    assert not chart["percent"]


def test_reach_chart_of_nothing_counted_has_an_axis_all_the_same():
    chart = reach_chart([Reach(D(2008, 12, 3), 0, 0)])
    assert chart["y_labels"] == ["20", "10", "0"]
    assert chart["series"][0].points == "M0 100"
    assert reach_chart([]) is None


# --- A universalisation commitment's page -----------------------------------------------------


@pytest.fixture
def joined(seeded):
    """Around the seed statement of 16 April 2012: one deposit before it, two after (one
    still to enter into force: it has joined all the same), a signature after (not joining),
    and a deposit after 2014."""
    event("NO", RATIFICATION, D(2008, 12, 3))
    event("LA", RATIFICATION, D(2009, 3, 18))
    event("TT", ACCESSION, D(2012, 4, 16))  # the statement's own day: not after it
    event("GD", ACCESSION, D(2012, 4, 17))
    event("SO", ACCESSION, D(2013, 12, 20))
    event("PH", SIGNATURE, D(2013, 1, 1))
    event("IS", RATIFICATION, D(2015, 8, 31))


def context(html):
    match = re.search(r'<dd class="joined-since">(.*?)</dd>', html, re.S)
    return match and " ".join(match[1].split())


def test_a_universalisation_commitment_shows_how_many_joined_since(client, joined):
    html = client.get("/commitments/NOR-2012-01/?as_of=2014-06-30").content.decode()
    text = context(html)
    assert text.startswith(
        "Context, not the verdict: 2 states have joined the Convention since this statement, "
        "as at 30 June 2014."
    ), text
    assert 'href="/states/?as_of=2014-06-30"' in text
    # Beside the verdict, not instead of it.
    verdict = html.index("Verdict on")
    assert verdict < html.index('class="joined-since"')
    assert "Not yet assessed" in html[verdict : html.index('class="joined-since"')]
    today = client.get("/commitments/NOR-2012-04/").content.decode()
    assert "3 states have joined" in context(today)


def test_one_state_joined_is_said_in_the_singular(client, joined):
    text = context(client.get("/commitments/NOR-2012-01/?as_of=2013-01-01").content.decode())
    assert "1 state has joined the Convention since this statement, as at 1 January 2013" in text


def test_joined_since_honours_known_on(client, joined):
    event("KM", ACCESSION, D(2013, 6, 1), recorded=D(2016, 1, 1))
    now = context(client.get("/commitments/NOR-2012-01/?as_of=2014-06-30").content.decode())
    then = context(
        client.get(
            "/commitments/NOR-2012-01/?as_of=2014-06-30&known_on=2015-12-31"
        ).content.decode()
    )
    assert "3 states have joined" in now
    assert "2 states have joined" in then
    assert "known_on=2015-12-31" in then


def test_other_themes_and_dates_before_the_statement_show_no_such_figure(client, joined):
    for reference in Commitment.objects.exclude(theme__slug=UNIVERSALISATION).values_list(
        "reference", flat=True
    ):
        html = client.get(f"/commitments/{reference}/").content.decode()
        assert "joined-since" not in html, reference
        assert "Context, not the verdict" not in html, reference
    html = client.get("/commitments/NOR-2012-01/?as_of=2012-01-01").content.decode()
    assert "joined-since" not in html


def test_the_rule_is_the_theme_slug():
    assert Theme(slug=UNIVERSALISATION).is_universalisation
    assert not Theme(slug="regional").is_universalisation


def test_a_universalisation_commitment_takes_one_query_more_whatever_the_events(client, joined):
    def count(reference):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/commitments/{reference}/").status_code == 200
        return len(captured)

    other = count("NOR-2012-02")
    few = count("NOR-2012-01")
    for index, country in enumerate(["FR", "ES", "DE", "IE", "AT", "BE", "NL", "PT", "IT"]):
        event(country, ACCESSION, D(2013, 1 + index, 1))
    assert few == other + 1
    assert count("NOR-2012-01") == few
    assert "12 states have joined" in context(
        client.get("/commitments/NOR-2012-01/").content.decode()
    )


def test_the_viewpoint_is_applied_as_a_viewpoint(joined):
    from commitments.indicator import joined_since

    commitment = Commitment.objects.select_related("statement", "theme").get(
        reference="NOR-2012-01"
    )
    assert joined_since(commitment, Viewpoint(D(2014, 6, 30))) == 2
    assert joined_since(commitment, Viewpoint(D(2012, 4, 16))) == 0
    assert joined_since(commitment, Viewpoint(D(2012, 4, 15))) is None


def test_recording_a_treaty_event_outdates_the_cached_pages(
    client, seeded, django_capture_on_commit_callbacks
):
    # (One write only: in a test's never-committed transaction a second write's bump is
    # taken for the first's, already due.)
    assert EMPTY in client.get("/").content.decode()
    assert "joined-since" in client.get("/commitments/NOR-2012-01/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        event("FR", ACCESSION, D(2013, 3, 1))
    assert table(client.get("/").content.decode())[-1][1:] == (1, 0)
    page = client.get("/commitments/NOR-2012-01/").content.decode()
    assert "1 state has joined" in context(page)


def test_every_filter_and_language_shares_one_indicator_until_something_changes(
    client, three_deposits
):
    first = client.get("/?as_of=2014-06-30").content.decode()
    # Another page of the dashboard (another filter, language) reuses the counts: no query
    # reads the treaty events.
    with CaptureQueriesContext(connection) as captured:
        other = client.get("/fr/?as_of=2014-06-30&theme=norm").content.decode()
    assert not [q for q in captured if "treatyevent" in q["sql"]]
    assert table(other) == table(first)
