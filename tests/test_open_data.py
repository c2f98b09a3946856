import csv
import datetime
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import translation

from commitments.exports import (
    COMMITMENT_CONTENT,
    COMMITMENT_FIELDS,
    FOLLOW_UP_CONTENT,
    FOLLOW_UP_FIELDS,
    commitment_records,
    neutralise,
)
from commitments.forms import public_selection
from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def author():
    # One plain user: hashing a password per follow-up would make these tests slow.
    return get_user_model().objects.get_or_create(username="author")[0]


def record(reference, status, on, **kwargs):
    commitment = Commitment.objects.get(reference=reference)
    kwargs.setdefault("by", author())
    return record_follow_up(commitment, status=status, happened_on=on, **kwargs)


def read_csv(response):
    text = response.getvalue().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def csv_header(response):
    return next(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))


@pytest.fixture
def history(seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2012, 9, 1), public_note="Workshop held",
           internal_note=CANARY)  # fmt: skip
    record("NOR-2012-07", Status.ACHIEVED, D(2014, 1, 1), public_note="Initiative funded",
           evidence_url="https://example.org/funded", evidence_label="Press release")  # fmt: skip
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1), public_note="Raised at the UNGA",
           internal_note=CANARY)  # fmt: skip


# The schema is a promise to everyone who reuses the data: this list changes only by
# adding columns at the end, with docs/open-data.md.
def test_csv_columns_are_the_documented_stable_schema(client, history):
    assert csv_header(client.get("/data/commitments.csv")) == [
        "reference", "title", "url", "statement", "statement_url", "delegation",
        "statement_date", "theme", "kind", "articles", "weight", "quote", "status",
        "status_label", "progress", "last_follow_up_on", "next_review", "review_overdue",
        "last_recorded_at", "verdict", "verdict_label", "confirmed", "confirm_by",
        "counted_progress", "criteria", "reading",
        # Issue 13: each translatable column's French and Spanish versions.
        "title_fr", "title_es", "statement_fr", "statement_es", "delegation_fr",
        "delegation_es", "theme_fr", "theme_es", "criteria_fr", "criteria_es", "reading_fr",
        "reading_es",
        # Issue 14: who made the statement, by code, and a state's ISO 3166 alpha-2 code.
        "delegation_code", "delegation_country",
        # The Convention meeting the statement was made at, by its code.
        "statement_meeting",
    ]  # fmt: skip
    assert csv_header(client.get("/data/follow-ups.csv")) == [
        "id", "commitment", "commitment_url", "happened_on", "status", "status_label",
        "progress", "effective_progress", "public_note", "evidence_url", "evidence_label",
        "recorded_at",
        "public_note_fr", "public_note_es", "evidence_label_fr", "evidence_label_es",
        # Issue 14: the states a follow-up concerns.
        "states",
        # Issue 15: confirmed by a second reviewer.
        "second_review",
    ]  # fmt: skip


def test_schema_is_documented_column_by_column():
    text = (Path(__file__).resolve().parents[1] / "docs" / "open-data.md").read_text("utf-8")
    for name in COMMITMENT_FIELDS + FOLLOW_UP_FIELDS:
        assert f"| `{name}` |" in text, name


def test_commitments_csv_holds_current_status_progress_and_last_follow_up(client, history):
    response = client.get("/data/commitments.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="ccmtracker-commitments-' in response["Content-Disposition"]
    rows = {row["reference"]: row for row in read_csv(response)}
    assert len(rows) == 10
    row = rows["NOR-2012-07"]
    assert (row["status"], row["status_label"], row["progress"]) == ("achieved", "Achieved", "100")
    assert row["last_follow_up_on"] == "2014-01-01"
    assert row["url"] == "http://testserver/commitments/NOR-2012-07/"
    assert row["articles"] == "6;21"
    assert rows["NOR-2012-01"]["status"] == "not_assessed"
    assert rows["NOR-2012-01"]["progress"] == ""


def test_commitments_json_matches_the_csv(client, history):
    data = client.get("/data/commitments.json").json()
    assert data["schema"] == "ccmtracker/commitments/v1"
    assert data["as_of"] is None
    assert [list(item) for item in data["commitments"]] == [COMMITMENT_FIELDS] * 10
    item = next(c for c in data["commitments"] if c["reference"] == "NOR-2012-07")
    assert (item["status"], item["progress"], item["articles"]) == ("achieved", 100, [6, 21])


def test_exports_respect_filters_and_as_of(client, history):
    rows = read_csv(client.get("/data/commitments.csv", {"theme": "regional"}))
    assert [row["reference"] for row in rows] == ["NOR-2012-07"]
    past = read_csv(client.get("/data/commitments.csv", {"as_of": "2013-01-01"}))
    row = next(r for r in past if r["reference"] == "NOR-2012-07")
    assert (row["status"], row["progress"], row["last_follow_up_on"]) == (
        "in_progress",
        "50",
        "2012-09-01",
    )
    data = client.get("/data/follow-ups.json", {"as_of": "2013-01-01"}).json()
    assert data["as_of"] == "2013-01-01"
    assert [f["public_note"] for f in data["follow_ups"]] == ["Workshop held"]
    searched = client.get("/data/follow-ups.json", {"q": "bilateral"}).json()
    assert [f["commitment"] for f in searched["follow_ups"]] == ["NOR-2012-09"]
    assert searched["filters"] == {"q": "bilateral"}


def test_follow_ups_export_holds_public_fields_in_date_order(client, history):
    rows = read_csv(client.get("/data/follow-ups.csv"))
    assert [(r["commitment"], r["happened_on"]) for r in rows] == [
        ("NOR-2012-07", "2012-09-01"),
        ("NOR-2012-09", "2013-05-01"),
        ("NOR-2012-07", "2014-01-01"),
    ]
    assert rows[2]["evidence_url"] == "https://example.org/funded"
    assert rows[2]["effective_progress"] == "100"
    assert rows[0]["progress"] == ""


def test_exports_never_hold_internal_notes_or_unpublished_commitments(client, history):
    hidden = CommitmentFactory(published=False, title="Secret plan")
    record_follow_up(
        hidden, status=Status.IN_PROGRESS, by=UserFactory(), public_note="Secret progress"
    )
    for url in [
        "/data/commitments.csv",
        "/data/commitments.json",
        "/data/follow-ups.csv",
        "/data/follow-ups.json",
    ]:
        body = client.get(url).getvalue().decode()
        assert CANARY not in body, url
        assert "internal" not in body, url
        assert "Secret" not in body, url
        assert hidden.reference not in body, url


def test_csv_neutralises_spreadsheet_formulas(client, seeded):
    for index, note in enumerate(['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]):
        record("NOR-2012-09", Status.ON_TRACK, D(2013, 1, 1 + index), public_note=note)
    notes = [row["public_note"] for row in read_csv(client.get("/data/follow-ups.csv"))]
    assert notes == ['\'=HYPERLINK("x")', "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    # JSON is data, not a spreadsheet: it keeps the exact text.
    data = client.get("/data/follow-ups.json").json()
    assert data["follow_ups"][0]["public_note"] == '=HYPERLINK("x")'


def test_neutralise_leaves_ordinary_text_and_numbers_alone():
    assert neutralise("Workshop held") == "Workshop held"
    assert neutralise(50) == 50
    assert neutralise("2012-09-01") == "2012-09-01"


def test_export_with_invalid_filter_is_refused_with_a_message(client, seeded):
    response = client.get("/data/commitments.csv", {"as_of": "not-a-date"})
    assert response.status_code == 400
    assert "as_of: Enter a date as YYYY-MM-DD" in response.content.decode()


def test_exports_are_english_whatever_the_visitor_language(client, history):
    rows = read_csv(client.get("/data/commitments.csv", HTTP_ACCEPT_LANGUAGE="fr"))
    assert {row["status_label"] for row in rows} >= {"Achieved", "Not yet assessed"}
    assert rows[0]["url"].startswith("http://testserver/commitments/")


def test_exports_refuse_post(client, seeded):
    assert client.post("/data/commitments.csv").status_code == 405


# Atom feeds


def parse_feed(response):
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own feed, in a test


def test_updates_feed_lists_public_follow_ups_newest_first(client, history):
    feed = parse_feed(client.get("/feed/"))
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [
        "NOR-2012-07: Achieved — Interest in looking at how to support and facilitate regional "
        "universalisation and implementation initiatives",
        "NOR-2012-09: On track — Promote the Convention in bilateral meetings and "
        "multilateral fora, at political and working level",
        "NOR-2012-07: In progress — Interest in looking at how to support and facilitate regional "
        "universalisation and implementation initiatives",
    ]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.startswith("http://testserver/commitments/NOR-2012-07/#follow-up-")
    assert entries[0].find(f"{ATOM}summary").text == (
        '<p>Initiative funded</p><p>Evidence: <a href="https://example.org/funded">'
        "Press release</a></p>"
    )


def test_commitment_feed_holds_only_that_commitment(client, history):
    feed = parse_feed(client.get("/commitments/NOR-2012-09/feed/"))
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{ATOM}summary").text == "<p>Raised at the UNGA</p>"
    assert feed.find(f"{ATOM}title").text == "NOR-2012-09: follow-ups"


def test_feeds_never_hold_internal_notes_or_unpublished_commitments(client, history):
    hidden = CommitmentFactory(published=False)
    record_follow_up(hidden, status=Status.IN_PROGRESS, by=UserFactory(), public_note="Hidden")
    body = client.get("/feed/").content.decode()
    assert CANARY not in body
    assert "Hidden" not in body
    assert client.get(f"/commitments/{hidden.reference}/feed/").status_code == 404


def test_feed_in_french_uses_french_labels_and_stable_ids(client, history):
    english = parse_feed(client.get("/feed/"))
    french = parse_feed(client.get("/fr/feed/"))
    assert french.find(f"{ATOM}entry/{ATOM}title").text.startswith("NOR-2012-07\u00a0: Réalisé")
    ids = [e.find(f"{ATOM}id").text for e in english.findall(f"{ATOM}entry")]
    assert ids == [e.find(f"{ATOM}id").text for e in french.findall(f"{ATOM}entry")]


def test_empty_feed_is_valid_atom(client, seeded):
    feed = parse_feed(client.get("/feed/"))
    assert feed.find(f"{ATOM}updated").text
    assert feed.findall(f"{ATOM}entry") == []


def test_feed_summary_escapes_markup_in_notes(client, seeded):
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 1, 1), public_note="<script>x</script> & co")
    summary = parse_feed(client.get("/feed/")).find(f"{ATOM}entry/{ATOM}summary")
    assert summary.get("type") == "html"
    # Parsed once (XML), the HTML still shows the note as text, never as markup.
    assert summary.text == "<p>&lt;script&gt;x&lt;/script&gt; &amp; co</p>"


def test_empty_evidence_is_null_in_json_and_an_empty_cell_in_csv(client, history):
    """docs/open-data.md: "Empty cells are empty values (JSON `null`)"."""
    follow_ups = client.get("/data/follow-ups.json").json()["follow_ups"]
    without = [f for f in follow_ups if f["public_note"] != "Initiative funded"]
    assert without
    assert all(f["evidence_url"] is None and f["evidence_label"] is None for f in without)
    funded = next(f for f in follow_ups if f["public_note"] == "Initiative funded")
    assert funded["evidence_url"] == "https://example.org/funded"
    assert funded["evidence_label"] == "Press release"
    rows = read_csv(client.get("/data/follow-ups.csv"))
    assert [row["evidence_url"] for row in rows] == ["", "", "https://example.org/funded"]


def test_exports_carry_each_commitments_criteria_and_reading_as_text(client, history):
    seeded = Commitment.objects.get(reference="NOR-2012-07")
    rows = {row["reference"]: row for row in read_csv(client.get("/data/commitments.csv"))}
    row = rows["NOR-2012-07"]
    assert row["criteria"] == seeded.criteria  # the lines in one cell, as written
    assert row["criteria"].splitlines()[0].startswith("Not started: ")
    assert row["reading"] == seeded.reading
    assert rows["NOR-2012-09"]["reading"] == ""  # a plain promise: nothing to explain
    items = {c["reference"]: c for c in client.get("/data/commitments.json").json()["commitments"]}
    assert items["NOR-2012-07"]["criteria"] == seeded.criteria
    assert items["NOR-2012-07"]["reading"] == seeded.reading
    assert items["NOR-2012-09"]["reading"] is None  # empty is null


def test_exports_never_hold_an_unpublished_commitments_criteria(client, seeded):
    CommitmentFactory(published=False, criteria="Achieved: Secret rule.", reading="Secret.")
    for url in ["/data/commitments.csv", "/data/commitments.json"]:
        assert "Secret" not in client.get(url).getvalue().decode(), url


# Issue 13: feeds in their address's language, exports in every language


@pytest.fixture
def versions(history):
    """A follow-up with French and Spanish notes, a French evidence label and no Spanish one;
    the history's others are in English only."""
    record("NOR-2012-09", Status.ON_TRACK, D(2015, 3, 1), public_note="Raised again",
           evidence_url="https://example.org/unga", evidence_label="Record of the debate",
           internal_note=CANARY,
           versions={"public_note_fr": "Évoqué de nouveau", "public_note_es": "Planteado otra vez",
                     "evidence_label_fr": "Compte rendu du débat"})  # fmt: skip


def newest_entry(url):
    feed = parse_feed(Client().get(url))
    return feed, feed.find(f"{ATOM}entry")


def test_french_and_spanish_feeds_carry_their_languages_titles_and_notes(versions):
    commitment = Commitment.objects.get(reference="NOR-2012-09")
    assert commitment.title_fr
    assert commitment.title_es
    for prefix, title, note in [
        ("/fr", commitment.title_fr, "Évoqué de nouveau"),
        ("/es", commitment.title_es, "Planteado otra vez"),
    ]:
        for url in [f"{prefix}/feed/", f"{prefix}/commitments/NOR-2012-09/feed/"]:
            feed, entry = newest_entry(url)
            assert feed.get(XML_LANG) == prefix[1:], url
            assert entry.find(f"{ATOM}title").text.endswith(f"— {title}"), url
            summary = entry.find(f"{ATOM}summary").text
            assert summary.startswith(f"<p>{note}</p>"), url
            assert "Raised again" not in summary
            assert CANARY not in Client().get(url).content.decode()
        assert feed.find(f"{ATOM}subtitle").text == title
    feed, _entry = newest_entry("/feed/")
    assert feed.get(XML_LANG) == "en"


def test_feeds_mark_the_english_where_their_language_has_no_version(versions):
    Commitment.objects.filter(reference="NOR-2012-09").update(title_es=None)
    english = Commitment.objects.get(reference="NOR-2012-09").title_en
    feed, entry = newest_entry("/es/commitments/NOR-2012-09/feed/")
    assert entry.find(f"{ATOM}title").text.endswith(f"— {english} (English)")
    assert feed.find(f"{ATOM}subtitle").text == f"{english} (English)"
    # The Spanish note, then the English label of the evidence, marked as English.
    assert entry.find(f"{ATOM}summary").text == (
        '<p>Planteado otra vez</p><p>Prueba: <a href="https://example.org/unga">'
        '<span lang="en">Record of the debate <small class="fallback">(English)</small></span>'
        "</a></p>"
    )
    # A note in English only: given, marked, in the French feed.
    entries = parse_feed(Client().get("/fr/feed/")).findall(f"{ATOM}entry")
    summaries = [e.find(f"{ATOM}summary").text for e in entries]
    assert '<p><span lang="en">Raised at the UNGA <small class="fallback">(English)</small>' in (
        "".join(summaries)
    )
    # The English feed has nothing to mark.
    assert "fallback" not in Client().get("/feed/").content.decode()


def test_an_entry_keeps_its_id_in_every_language(versions):
    ids = {
        prefix: [e.find(f"{ATOM}id").text for e in parse_feed(Client().get(f"{prefix}/feed/"))
                 .findall(f"{ATOM}entry")]
        for prefix in ["", "/fr", "/es"]
    }  # fmt: skip
    assert ids[""] == ids["/fr"] == ids["/es"]
    assert ids[""][0].startswith("tag:ccmtracker,2012:follow-up:")


def french_session():
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


def test_commitment_exports_carry_every_language_whatever_the_visitors(versions):
    Commitment.objects.filter(reference="NOR-2012-09").update(title_es=None)
    seeded = Commitment.objects.select_related("statement", "theme").get(reference="NOR-2012-09")
    expected = {
        "title": seeded.title_en,
        "title_fr": seeded.title_fr,
        "statement": seeded.statement.title_en,
        "statement_fr": seeded.statement.title_fr,
        "statement_es": seeded.statement.title_es,
        # A state's names come from its country code (issue 14), with its code and country.
        "delegation": "Norway",
        "delegation_fr": "Norvège",
        "delegation_es": "Noruega",
        "delegation_code": "NOR",
        "delegation_country": "NO",
        "statement_meeting": "IM2012",
        "theme": seeded.theme.name_en,
        "theme_fr": seeded.theme.name_fr,
        "theme_es": seeded.theme.name_es,
        "criteria": seeded.criteria_en,
        "criteria_fr": seeded.criteria_fr,
        "criteria_es": seeded.criteria_es,
    }
    assert all(expected.values())
    assert seeded.title_fr != seeded.title_en
    assert seeded.theme.name_fr != seeded.theme.name_en
    client = french_session()
    rows = {row["reference"]: row for row in read_csv(client.get("/data/commitments.csv"))}
    items = {c["reference"]: c for c in client.get("/data/commitments.json").json()["commitments"]}
    for record in [rows["NOR-2012-09"], items["NOR-2012-09"]]:
        assert {name: record[name] for name in expected} == expected
    assert rows["NOR-2012-09"]["title_es"] == ""  # no version yet
    assert items["NOR-2012-09"]["title_es"] is None


def test_commitment_records_are_english_by_column_in_a_french_session(versions):
    """The records themselves, outside the exports' English override: never the bare name."""
    _form, point, _all, matching = public_selection({})
    request = RequestFactory().get("/data/commitments.json")
    with translation.override("fr"):
        records = {
            r["reference"]: r for r in commitment_records(request, matching.for_list(), point)
        }
    seeded = Commitment.objects.select_related("statement", "theme").get(reference="NOR-2012-09")
    record = records["NOR-2012-09"]
    assert (record["title"], record["statement"], record["theme"], record["criteria"]) == (
        seeded.title_en,
        seeded.statement.title_en,
        seeded.theme.name_en,
        seeded.criteria_en,
    )


def test_follow_up_exports_carry_every_language_and_no_internal_note(versions):
    client = french_session()
    for url in ["/data/follow-ups.csv", "/data/follow-ups.json"]:
        body = client.get(url).getvalue().decode()
        assert CANARY not in body, url
    rows = read_csv(client.get("/data/follow-ups.csv"))
    items = client.get("/data/follow-ups.json").json()["follow_ups"]
    assert rows[-1]["public_note"] == items[-1]["public_note"] == "Raised again"
    assert rows[-1]["public_note_fr"] == items[-1]["public_note_fr"] == "Évoqué de nouveau"
    assert rows[-1]["public_note_es"] == items[-1]["public_note_es"] == "Planteado otra vez"
    assert rows[-1]["evidence_label"] == items[-1]["evidence_label"] == "Record of the debate"
    assert (
        rows[-1]["evidence_label_fr"] == items[-1]["evidence_label_fr"] == ("Compte rendu du débat")
    )
    assert (rows[-1]["evidence_label_es"], items[-1]["evidence_label_es"]) == ("", None)
    assert (rows[0]["public_note"], rows[0]["public_note_fr"]) == ("Workshop held", "")


def test_every_exported_translatable_text_has_a_column_per_language():
    """One home: the columns follow TRANSLATED, so a field translated later gets its own."""
    for content, fields, later in [
        (
            COMMITMENT_CONTENT,
            COMMITMENT_FIELDS,
            ["delegation_code", "delegation_country", "statement_meeting"],
        ),
        (FOLLOW_UP_CONTENT, FOLLOW_UP_FIELDS, ["states", "second_review"]),
    ]:
        assert content
        added = [f"{column}_{code}" for column in content for code in ("fr", "es")]
        # At the end when they were added (the schema only grows there); later columns after.
        end = len(fields) - len(later)
        assert fields[end - len(added) : end] == added
        assert fields[end:] == later
    assert "quote" not in COMMITMENT_CONTENT  # the words as delivered: never translated
