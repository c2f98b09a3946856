import csv
import datetime
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from commitments.exports import COMMITMENT_FIELDS, FOLLOW_UP_FIELDS, neutralise
from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
ATOM = "{http://www.w3.org/2005/Atom}"


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
    ]  # fmt: skip
    assert csv_header(client.get("/data/follow-ups.csv")) == [
        "id", "commitment", "commitment_url", "happened_on", "status", "status_label",
        "progress", "effective_progress", "public_note", "evidence_url", "evidence_label",
        "recorded_at",
        "public_note_fr", "public_note_es", "evidence_label_fr", "evidence_label_es",
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
