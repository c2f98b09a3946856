import datetime

import pytest
from django.urls import reverse

from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_dashboard_shows_overall_progress_and_how_it_is_computed(client, seeded):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'Not yet assessed <strong class="count">10</strong>' in html
    assert "How these figures are computed" in html
    assert "NOR-2012-01" in html
    assert "NOR-2012-10" in html


def test_dashboard_shows_theme_progress_after_a_follow_up(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    record_follow_up(commitment, status=Status.ACHIEVED, by=UserFactory())
    html = client.get("/").content.decode()
    assert "1 of 10 commitments assessed" in html
    assert "100.0&nbsp;%" in html


def test_commitment_page_shows_quote_status_and_public_timeline(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-09")
    record_follow_up(
        commitment,
        status=Status.ON_TRACK,
        by=UserFactory(),
        happened_on=datetime.date(2013, 9, 10),
        public_note="Raised at the UN General Assembly",
        evidence_url="https://example.org/unga",
        evidence_label="UNGA statement",
    )
    response = client.get(reverse("commitment_detail", args=["NOR-2012-09"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert commitment.quote in html
    assert "#quote-NOR-2012-09" in html
    assert "On track" in html
    assert "Raised at the UN General Assembly" in html
    assert 'href="https://example.org/unga"' in html


def test_statement_page_highlights_and_links_every_commitment(client, seeded):
    html = client.get("/statements/norway-2012-04-16-universalisation/").content.decode()
    for commitment in Commitment.objects.all():
        assert f'id="quote-{commitment.reference}"' in html
        assert f'href="/commitments/{commitment.reference}/"' in html


def test_unknown_commitment_is_404(client, db):
    assert client.get("/commitments/NOPE/").status_code == 404


def test_unpublished_commitment_is_hidden_from_public_pages(client, db):
    commitment = CommitmentFactory(published=False, title="Secret plan")
    assert client.get(commitment.get_absolute_url()).status_code == 404
    assert "Secret plan" not in client.get("/").content.decode()
    statement_html = client.get(commitment.statement.get_absolute_url()).content.decode()
    assert "Secret plan" not in statement_html
    assert f"quote-{commitment.reference}" not in statement_html


def test_internal_note_never_reaches_public_pages(client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    record_follow_up(
        commitment,
        status=Status.ON_TRACK,
        by=staff_user,
        public_note="Public text",
        internal_note=CANARY,
    )
    for url in ["/", commitment.get_absolute_url(), commitment.statement.get_absolute_url()]:
        html = client.get(url).content.decode()
        assert CANARY not in html, url
    assert "Public text" in client.get(commitment.get_absolute_url()).content.decode()


def test_public_pages_set_no_cookies(client, seeded):
    for url in [
        "/",
        "/commitments/NOR-2012-01/",
        "/statements/norway-2012-04-16-universalisation/",
    ]:
        assert not client.get(url).cookies, url
