"""The public states pages (issue 14): /states/, a map and a table of every state's status
towards the Convention, and /states/<code>/, a state's status, treaty events and follow-ups.
Every status is reach.py's, from the page's viewpoint (as at, known on)."""

import datetime
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from commitments.models import FollowUp, State, Status
from commitments.records import record_follow_up
from commitments.states import world_map

from .conftest import CANARY
from .factories import (
    CommitmentFactory,
    DelegationFactory,
    StateFactory,
    StatementFactory,
    TreatyEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
UNTC = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-6&chapter=26"


def event(code, kind, day, **fields):
    fields.setdefault("source_url", UNTC)
    return TreatyEventFactory(state=StateFactory(country=code), kind=kind, date=day, **fields)


@pytest.fixture
def events(db):
    """Norway: signed and ratified on the day of opening (in force 1 Aug 2010). Andorra:
    acceded on 9 Apr 2013 (in force 1 Oct 2013). Canada: signed 2008, ratified 16 Mar 2015
    (in force 1 Sep 2015). Lithuania: ratified 24 Mar 2011, withdrew 6 Sep 2024 (effect
    6 Mar 2025)."""
    event("NO", "signature", D(2008, 12, 3))
    event("NO", "ratification", D(2008, 12, 3), notification="C.N.1.2008.TREATIES-XXVI.6")
    event("AD", "accession", D(2013, 4, 9), notification="C.N.200.2013.TREATIES-XXVI.6")
    event("CA", "signature", D(2008, 12, 3))
    event("CA", "ratification", D(2015, 3, 16))
    event("LT", "signature", D(2008, 12, 3))
    event("LT", "ratification", D(2011, 3, 24))
    event("LT", "withdrawal", D(2024, 9, 6), notification="C.N.400.2024.TREATIES-XXVI.6")


class Page(HTMLParser):
    """The states table's rows ({code: [cell texts]}), the map's shapes ({code: (status,
    title)}) and the page's text."""

    def __init__(self, html):
        super().__init__()
        self.rows, self.shapes, self.text = {}, {}, []
        self.row = self.cell = self.shape = self.title = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and (a.get("id") or "").startswith("state-"):
            self.row = a["id"].removeprefix("state-")
            self.rows[self.row] = []
        elif tag in ("td", "th") and self.row:
            self.cell = []
        elif tag == "a" and "map-state" in (a.get("class") or ""):
            code = re.search(r"/states/([A-Z]{2})/", a["href"])[1]
            status = re.search(r"map-(state_party|signatory|neither)", a["class"])[1]
            self.shape = code
            self.shapes[code] = [status, ""]
        elif tag == "title" and self.shape:
            self.title = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[self.row].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif tag == "title" and self.title is not None:
            self.shapes[self.shape][1] = "".join(self.title)
            self.title = None
        elif tag == "a" and self.shape and self.title is None:
            self.shape = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.title is not None:
            self.title.append(data)
        self.text.append(data)

    @property
    def all_text(self):
        return " ".join("".join(self.text).split())


def get(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return Page(response.content.decode())


# --- The map and table ------------------------------------------------------------------------


def test_every_state_is_in_the_table_and_on_the_map_with_its_status_today(client, events):
    page = get(client, "/states/")
    assert len(page.rows) == State.objects.count() == 197
    assert set(page.shapes) == set(page.rows)
    name, region, status, since, pending, latest = page.rows["NO"]
    assert (name, region, status, since) == ("Norway", "Europe", "State Party", "1 August 2010")
    assert pending == "—"
    assert latest.startswith("Ratification, 3 December 2008 C.N.1.2008.TREATIES-XXVI.6")
    assert page.rows["AD"][2:4] == ["State Party", "1 October 2013"]
    assert page.rows["CA"][2:4] == ["State Party", "1 September 2015"]
    # Lithuania left when its withdrawal took effect: neither, since then.
    assert page.rows["LT"][2:4] == ["Neither party nor signatory", "6 March 2025"]
    assert page.rows["LT"][5].startswith("Withdrawal, 6 September 2024")
    # A state with no event: neither, never anything.
    assert page.rows["US"][2:6] == ["Neither party nor signatory", "—", "—", "—"]
    assert page.shapes["NO"] == ["state_party", "Norway: State Party"]
    assert page.shapes["LT"] == ["neither", "Lithuania: Neither party nor signatory"]
    assert "State Party 3" in page.all_text  # the legend's counts
    assert "Neither party nor signatory 194" in page.all_text


def test_the_table_is_sorted_by_name_in_the_page_s_language(client, events):
    english = list(get(client, "/states/").rows.values())
    names = [row[0] for row in english]
    assert names.index("Egypt") < names.index("El Salvador") < names.index("Equatorial Guinea")
    french = [row[0] for row in get(client, "/fr/states/").rows.values()]
    # Égypte among the E, not after the Z; accents aside.
    assert french.index("Équateur") < french.index("Érythrée") < french.index("Espagne")
    assert french.index("Zimbabwe") == len(french) - 1
    spanish = [row[0] for row in get(client, "/es/states/").rows.values()]
    assert spanish.index("Noruega") < spanish.index("Nueva Zelanda") < spanish.index("Omán")


def test_statuses_as_at_an_earlier_date(client, events):
    # 2012: Andorra had done nothing; Canada had signed; Lithuania was a State Party.
    page = get(client, "/states/?as_of=2012-06-30")
    assert page.rows["AD"][2:5] == ["Neither party nor signatory", "—", "—"]
    assert page.rows["AD"][5] == "—"  # its accession had not happened
    assert page.rows["CA"][2:4] == ["Signatory", "3 December 2008"]
    assert page.rows["LT"][2:4] == ["State Party", "1 September 2011"]
    assert page.shapes["CA"][0] == "signatory"
    # Between Andorra's deposit and its entry into force: pending.
    page = get(client, "/states/?as_of=2013-06-01")
    assert page.rows["AD"][2:5] == [
        "Neither party nor signatory",
        "—",
        "State Party from 1 October 2013",
    ]
    page = get(client, "/states/?as_of=2013-10-01")
    assert page.rows["AD"][2:4] == ["State Party", "1 October 2013"]
    # Lithuania between its withdrawal's receipt and its effect.
    page = get(client, "/states/?as_of=2024-12-31")
    assert page.rows["LT"][2] == "State Party"
    assert page.rows["LT"][4] == "Withdrawal takes effect on 6 March 2025"


def test_known_on_leaves_out_events_recorded_later(client, db):
    # Norway's ratification recorded at the time; a back-fill: Uruguay's ratification, dated
    # 2009, recorded only in 2020. As known on 2019, Uruguay's had not happened.
    event(
        "NO",
        "ratification",
        D(2008, 12, 3),
        recorded_at=timezone.make_aware(datetime.datetime(2009, 1, 5, 12)),
    )
    event(
        "UY",
        "ratification",
        D(2009, 9, 24),
        recorded_at=timezone.make_aware(datetime.datetime(2020, 1, 15, 12)),
    )
    assert get(client, "/states/").rows["UY"][2] == "State Party"
    page = get(client, "/states/?known_on=2019-12-31")
    assert page.rows["UY"][2] == "Neither party nor signatory"
    assert page.rows["UY"][5] == "—"
    assert page.shapes["UY"][0] == "neither"
    assert page.rows["NO"][2] == "State Party"
    assert get(client, "/states/?known_on=2020-01-15").rows["UY"][2] == "State Party"
    detail = get(client, "/states/UY/?known_on=2019-12-31")
    assert "Ratification" not in detail.all_text
    assert "No treaty event had been recorded by this date." in detail.all_text


def test_a_correction_replaces_the_entry_it_corrects_from_when_it_is_recorded(client, db):
    wrong = event("AD", "accession", D(2013, 4, 19))
    event("AD", "accession", D(2013, 4, 9), corrects=wrong, notification="C.N.9.2013")
    page = get(client, "/states/")
    assert page.rows["AD"][5].startswith("Accession, 9 April 2013 C.N.9.2013")
    detail = get(client, "/states/AD/")
    text = detail.all_text
    assert "19 April 2013 Accession corrected" in text
    assert "it does not count" in text
    assert "A correction: it replaces the entry “Accession, 19 April 2013”" in text


def test_the_table_filters_by_status_and_region_without_javascript(client, events):
    page = get(client, "/states/?status=state_party")
    assert set(page.rows) == {"NO", "AD", "CA"}
    page = get(client, "/states/?status=state_party&region=europe")
    assert set(page.rows) == {"NO", "AD"}
    page = get(client, "/states/?region=oceania")
    assert all(State.objects.get(country=code).region == "oceania" for code in page.rows)
    assert len(page.rows) == State.objects.filter(region="oceania").count()
    # The map still shows every state; the counts follow the region.
    assert len(page.shapes) == 197
    assert "By status, in Oceania:" in page.all_text
    # The filters keep the date shown, and the date keeps the filters.
    page = get(client, "/states/?status=signatory&as_of=2012-01-01")
    assert set(page.rows) == {"CA"}
    html = client.get("/states/?status=signatory&as_of=2012-01-01").content.decode()
    assert 'name="as_of" value="2012-01-01"' in html
    assert '<input type="hidden" name="status" value="signatory">' in html


def test_a_bad_filter_is_reported_and_the_rest_applies(client, events):
    html = client.get("/states/?status=nope&region=europe").content.decode()
    assert 'role="alert"' in html
    page = Page(html)
    assert set(page.rows) == set(
        State.objects.filter(region="europe").values_list("country", flat=True)
    )


def test_htmx_filters_answer_the_table_and_push_the_address(client, events):
    response = client.get(
        "/states/?status=state_party&region=", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="state-table"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="state-table">')
    assert "<svg" not in html  # not the map, nor the page
    assert set(Page(html).rows) == {"NO", "AD", "CA"}
    assert response["HX-Push-Url"] == "/states/?status=state_party"
    assert 'data-hx-swap-oob="true"' in html  # the count said to screen readers


def test_the_page_says_where_the_record_comes_from(client, events):
    text = get(client, "/states/").all_text
    assert "participant table" in text
    today = timezone.localdate()
    assert (
        f"The most recent event in the record is dated 6 September 2024; the record was last "
        f"added to on {today.day} {today:%B %Y}." in text
    )


def test_with_no_event_recorded_every_state_is_neither_and_the_page_says_so(client, db):
    page = get(client, "/states/")
    assert {row[2] for row in page.rows.values()} == {"Neither party nor signatory"}
    assert "No treaty event has been recorded yet" in page.all_text


def test_the_states_pages_are_translated(client, events):
    french = client.get("/fr/states/").content.decode()
    assert '<html lang="fr">' in french
    assert "Norvège" in french
    spanish = client.get("/es/states/NO/").content.decode()
    assert '<html lang="es">' in spanish
    assert "Noruega" in spanish
    assert 'href="/es/states/"' in spanish  # the breadcrumb, in the page's language


def test_the_header_links_to_the_states(client, db):
    html = client.get("/").content.decode()
    assert 'href="/states/"' in html
    html = client.get("/states/").content.decode()
    assert '<a href="/states/" aria-current="page">States</a>' in html


# --- The map file ------------------------------------------------------------------------------


def test_the_map_has_every_state_and_nothing_but_path_data():
    data = world_map()
    states = json.loads((Path(settings.BASE_DIR) / "commitments/data/states.json").read_text())
    codes = {row["country"] for row in states["states"]}
    assert codes <= set(data["countries"]) | set(data["markers"])
    assert "TV" in data["markers"]  # too small for 1:50m: a marker
    assert not set(data["countries"]) - codes  # the others are drawn neutral, unnamed
    size = (Path(settings.BASE_DIR) / "commitments/data/world-map.json").stat().st_size
    assert size < 300_000


# --- A state's page -----------------------------------------------------------------------------


def test_a_state_s_page_shows_its_status_and_timeline_with_sources(client, events):
    response = client.get("/states/LT/")
    html = response.content.decode()
    text = Page(html).all_text
    assert "<h1>Lithuania</h1>" in html
    assert "Neither party nor signatory, since 6 March 2025" in text
    assert "24 March 2011 Ratification" in text
    assert "The Convention enters into force for it on 1 September 2011 (Article 17)." in text
    assert "6 September 2024 Withdrawal" in text
    assert "The withdrawal takes effect on 6 March 2025 (Article 20)." in text
    assert "depositary notification C.N.400.2024.TREATIES-XXVI.6" in text
    assert f'href="{UNTC.replace("&", "&amp;")}"' in html


def test_a_state_s_page_as_at_an_earlier_date(client, events):
    text = get(client, "/states/LT/?as_of=2024-10-01").all_text
    assert "On 1 October 2024 State Party, since 1 September 2011" in text
    assert "Withdrawal takes effect on 6 March 2025" in text
    text = get(client, "/states/LT/?as_of=2011-01-01").all_text
    assert "Signatory, since 3 December 2008" in text
    assert "Ratification" not in text  # not yet deposited


def test_the_code_is_case_insensitive_and_an_unknown_one_is_404(client, events):
    response = client.get("/states/no/?as_of=2012-01-01")
    assert response.status_code == 301
    assert response["Location"] == "/states/NO/?as_of=2012-01-01"
    assert client.get("/states/NO/").status_code == 200
    assert client.get("/fr/states/no/")["Location"] == "/fr/states/NO/"
    for unknown in ("XX", "xx", "NOR", "1", "TW"):  # TW: a country, not among the states
        assert client.get(f"/states/{unknown}/").status_code == 404, unknown


@pytest.fixture
def follow_ups(db):
    """Follow-ups naming Norway: on a published commitment (public), on an unpublished one
    (never shown), and one recorded on a past day with an internal note."""
    author = UserFactory()
    public = CommitmentFactory(reference="PUB-2012-01", published=True)
    hidden = CommitmentFactory(reference="HID-2012-01", published=False)
    norway, canada = StateFactory(country="NO"), StateFactory(country="CA")
    shown = record_follow_up(
        public,
        status=Status.IN_PROGRESS,
        happened_on=D(2013, 5, 1),
        by=author,
        public_note="Workshop for the signatories",
        internal_note=CANARY,
    )
    shown.set_states_once([norway, canada])
    secret = record_follow_up(
        hidden,
        status=Status.ACHIEVED,
        happened_on=D(2013, 6, 1),
        by=author,
        public_note="Not yet public",
    )
    secret.set_states_once([norway])
    return shown


def test_a_state_s_page_shows_the_public_follow_ups_that_concern_it_and_nothing_else(
    client, follow_ups
):
    html = client.get("/states/NO/").content.decode()
    assert "Workshop for the signatories" in html
    assert "PUB-2012-01" in html
    assert CANARY not in html
    assert "Not yet public" not in html
    assert "HID-2012-01" not in html
    assert "Workshop for the signatories" in client.get("/states/CA/").content.decode()
    assert "Workshop" not in client.get("/states/LT/").content.decode()


def test_a_state_s_follow_ups_are_seen_from_the_viewpoint(client, follow_ups):
    assert "Workshop" not in client.get("/states/NO/?as_of=2013-04-30").content.decode()
    assert "Workshop" in client.get("/states/NO/?as_of=2013-05-01").content.decode()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    before = client.get(f"/states/NO/?known_on={yesterday}").content.decode()
    assert "Workshop" not in before
    assert "No follow-up concerning it had been recorded by this date." in before


def test_no_internal_note_or_unpublished_follow_up_on_the_list(client, follow_ups):
    html = client.get("/states/").content.decode()
    assert CANARY not in html
    assert "Not yet public" not in html


@pytest.fixture
def statements(db):
    """Norway's delegation made a statement in 2012 with a published commitment (in progress
    since 2013) and an unpublished one; an organisation's statement names no state."""
    author = UserFactory()
    norway = DelegationFactory(kind="state", state=StateFactory(country="NO"), name="", code="NOR")
    statement = StatementFactory(delegation=norway, title="Norway on universalisation",
                                 date=D(2012, 4, 16))  # fmt: skip
    shown = CommitmentFactory(statement=statement, reference="NOR-2012-01", published=True,
                              title="Host a regional workshop")  # fmt: skip
    CommitmentFactory(statement=statement, reference="NOR-2012-02", published=False,
                      title="Not yet published")  # fmt: skip
    record_follow_up(shown, status=Status.IN_PROGRESS, happened_on=D(2013, 2, 1), by=author)
    CommitmentFactory(statement=StatementFactory(title="ICRC statement"), published=True,
                      reference="ICRC-2012-01")  # fmt: skip


def test_a_state_s_page_shows_its_statements_and_commitments_with_their_verdicts(
    client, statements
):
    html = client.get("/states/NO/").content.decode()
    text = Page(html).all_text
    assert "Norway on universalisation" in text
    assert "NOR-2012-01" in text
    assert "Host a regional workshop" in text
    assert 'class="verdict-bar"' in html  # the verdict bar, as on the statements page
    assert "In progress" in text
    assert "NOR-2012-02" not in html
    assert "Not yet published" not in html
    assert "ICRC" not in html  # not Norway's
    assert "/?delegation=NOR" in html
    # Before the statement, nothing; before the follow-up, not yet assessed.
    text = get(client, "/states/NO/?as_of=2012-01-01").all_text
    assert "Norway on universalisation" not in text
    assert "No published commitment of its delegation to show for this date." in text
    text = get(client, "/states/NO/?as_of=2012-12-31").all_text
    assert "NOR-2012-01" in text
    assert "Not assessed" in text or "Not yet assessed" in text
    # A state whose delegation made no statement.
    text = get(client, "/states/CA/").all_text
    assert "The tracker follows no statement of its delegation yet." in text


# --- Queries ------------------------------------------------------------------------------------


def _many_events_and_follow_ups():
    """Events for 120 states and follow-ups naming 30 of them, each with Andorra; Andorra's
    delegation made two statements with three published commitments each."""
    author = UserFactory()
    states = list(State.objects.order_by("country")[:120])
    andorra = DelegationFactory(kind="state", state=states[0], name="", code="AND")
    for year in (2012, 2013):
        statement = StatementFactory(delegation=andorra, date=D(year, 4, 16))
        for number in range(3):
            CommitmentFactory(statement=statement, published=True, reference=f"AND-{year}-{number}")
    for state in states:
        TreatyEventFactory(state=state, kind="signature", date=D(2008, 12, 3))
        TreatyEventFactory(state=state, kind="ratification", date=D(2010, 3, 1))
    commitment = CommitmentFactory(published=True)
    for index, state in enumerate(states[:30]):
        follow_up = record_follow_up(
            commitment,
            status=Status.IN_PROGRESS,
            happened_on=D(2013, 1, 1) + datetime.timedelta(days=index),
            by=author,
            public_note=f"Note {index}",
        )
        follow_up.set_states_once([state, states[0]])


@pytest.mark.parametrize(
    "url",
    [
        "/states/",
        "/states/?as_of=2012-01-01&known_on=2026-01-01",
        "/states/?status=state_party&region=europe",
        "/fr/states/",
        "/states/AD/",
        "/states/AD/?as_of=2013-06-01",
    ],
)
def test_the_query_count_does_not_grow_with_the_states_events_and_follow_ups(
    client, django_assert_max_num_queries, url, settings
):
    settings.PAGE_CACHE_SECONDS = 0  # count the page as built

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    # Andorra's delegation with one statement and one commitment, then many more of each.
    andorra = DelegationFactory(
        kind="state", state=State.objects.get(country="AD"), name="", code="AND"
    )
    CommitmentFactory(statement=StatementFactory(delegation=andorra), published=True)
    few = count()
    _many_events_and_follow_ups()
    assert FollowUp.objects.filter(states__country="AD").count() == 30
    many = count()
    assert many == few, (few, many)
    # The list: the states, their standings (two), the events. A state: itself, its standing
    # (two), its events, its follow-ups, then (if nothing needs syncing) its commitments'
    # figures, statements and list.
    with django_assert_max_num_queries(8 if "/AD/" in url else 4):
        client.get(url)
