import datetime

import pytest
from django.urls import reverse

from commitments.models import Commitment, FollowUp, Status

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def follow_up_data(commitment, **overrides):
    prefix = f"c{commitment.pk}"
    data = {
        "status": Status.IN_PROGRESS,
        "progress": "",
        "happened_on": "2013-03-01",
        "public_note": "Met the ministry",
        "internal_note": "",
        "evidence_url": "",
        "evidence_label": "",
    }
    data.update(overrides)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def test_dashboard_shows_overall_progress_and_how_it_is_computed(client, seeded):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "10 not yet assessed" in html
    assert "How this figure is computed" in html
    assert "NOR-2012-01" in html
    assert "NOR-2012-10" in html


def test_dashboard_shows_theme_progress_after_a_follow_up(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    commitment.record_follow_up(status=Status.ACHIEVED, by=UserFactory())
    html = client.get("/").content.decode()
    assert "1 of 10 commitments assessed" in html
    assert "100.0&nbsp;%" in html


def test_commitment_page_shows_quote_status_and_public_timeline(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-09")
    commitment.record_follow_up(
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
    commitment.record_follow_up(
        status=Status.ON_TRACK, by=staff_user, public_note="Public text", internal_note=CANARY
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


def test_staff_page_sends_anonymous_users_to_login(client, db):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/?next=/staff/")


def test_staff_page_refuses_logged_in_non_staff(member_client):
    assert member_client.get("/staff/").status_code == 403


def test_staff_post_refuses_anonymous_and_non_staff(client, member_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    url = reverse("staff_record_follow_up", args=[commitment.reference])
    data = follow_up_data(commitment, status=Status.ON_TRACK)
    assert member_client.post(url, data).status_code == 403
    member_client.logout()
    assert client.post(url, data).status_code == 302
    assert FollowUp.objects.count() == 0


def test_htmx_anonymous_post_is_told_to_redirect_to_login(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    url = reverse("staff_record_follow_up", args=[commitment.reference])
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"].startswith("/admin/login/")


def test_staff_page_lists_every_commitment_with_a_form(staff_client, seeded):
    CommitmentFactory(published=False, title="Draft commitment")
    response = staff_client.get("/staff/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="follow-up-form"') == Commitment.objects.count()
    assert "Draft commitment" in html
    assert "no-store" in response.headers["Cache-Control"]


def test_plain_follow_up_post_records_and_redirects(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = staff_client.post(
        reverse("staff_record_follow_up", args=["NOR-2012-07"]),
        follow_up_data(commitment, internal_note=CANARY),
    )
    assert response.status_code == 302
    assert response.url == "/staff/#c-NOR-2012-07"
    follow_up = FollowUp.objects.get()
    assert follow_up.author == staff_user
    assert follow_up.internal_note == CANARY
    commitment.refresh_from_db()
    assert commitment.status == Status.IN_PROGRESS
    page = staff_client.get(response.url).content.decode()
    assert "Recorded “In progress” on NOR-2012-07." in page


def test_htmx_follow_up_post_returns_only_the_row(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = staff_client.post(
        reverse("staff_record_follow_up", args=["NOR-2012-07"]),
        follow_up_data(commitment),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="staff-row" id="c-NOR-2012-07"')
    assert "<html" not in html
    assert "In progress" in html
    assert FollowUp.objects.count() == 1


def test_plain_invalid_post_rerenders_page_with_errors_and_saves_nothing(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = staff_client.post(
        reverse("staff_record_follow_up", args=["NOR-2012-07"]),
        follow_up_data(commitment, happened_on="", public_note="Keep this text"),
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was saved" in html
    assert "Keep this text" in html
    assert "<html" in html
    assert FollowUp.objects.count() == 0


def test_htmx_invalid_post_returns_row_with_errors_and_saves_nothing(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-09")  # continuous
    response = staff_client.post(
        reverse("staff_record_follow_up", args=["NOR-2012-09"]),
        follow_up_data(commitment, status=Status.ACHIEVED, public_note="Keep this text"),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in html
    assert "Nothing was saved" in html
    assert "Keep this text" in html
    assert FollowUp.objects.count() == 0
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_ASSESSED


def test_staff_follow_up_refuses_get(staff_client, seeded):
    url = reverse("staff_record_follow_up", args=["NOR-2012-07"])
    assert staff_client.get(url).status_code == 405


def test_dashboard_query_count_does_not_grow_with_data(client, django_assert_max_num_queries):
    user = UserFactory()
    for size in (3, 30):
        for commitment in CommitmentFactory.create_batch(size):
            commitment.record_follow_up(status=Status.IN_PROGRESS, by=user)
        # 12: list and its count, summary, two per-theme aggregates, themes, chart history
        # (2), first statement date, and the three filter menus (theme, statement, article).
        with django_assert_max_num_queries(12):
            assert client.get("/").status_code == 200


def test_staff_page_query_count_does_not_grow_with_data(
    staff_client, django_assert_max_num_queries
):
    for size in (3, 30):
        CommitmentFactory.create_batch(size)
        with django_assert_max_num_queries(6):
            assert staff_client.get("/staff/").status_code == 200
