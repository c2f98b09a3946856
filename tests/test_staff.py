import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment, FollowUp, Status
from commitments.records import record_follow_up, save_edit

from .conftest import CANARY
from .factories import CommitmentFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db


def follow_up_data(commitment, **overrides):
    prefix = f"c{commitment.pk}"
    data = {
        "version": commitment.version,
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


def record_url(reference):
    return reverse("staff_record_follow_up", args=[reference])


# Who may come in


def test_staff_page_sends_anonymous_users_to_login(client, db):
    response = client.get("/staff/?show=all")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/?next=/staff/")


def test_staff_page_refuses_logged_in_non_staff(member_client):
    assert member_client.get("/staff/").status_code == 403


def test_staff_page_refuses_staff_without_a_role(client, db):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/staff/").status_code == 403


def test_staff_post_refuses_anonymous_and_non_staff(client, member_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    data = follow_up_data(commitment, status=Status.ON_TRACK)
    assert member_client.post(record_url("NOR-2012-01"), data).status_code == 403
    member_client.logout()
    assert client.post(record_url("NOR-2012-01"), data).status_code == 302
    assert FollowUp.objects.count() == 0


def test_htmx_anonymous_post_is_told_to_redirect_to_login(client, seeded):
    response = client.post(record_url("NOR-2012-01"), {}, HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"].startswith("/admin/login/")


def test_viewer_sees_internal_notes_but_no_form_and_cannot_post(client, viewer, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-04")
    record_follow_up(commitment, status=Status.ON_TRACK, by=staff_user, internal_note=CANARY)
    client.force_login(viewer)
    html = client.get("/staff/?show=all").content.decode()
    assert CANARY in html
    assert 'class="follow-up-form"' not in html
    response = client.post(record_url("NOR-2012-04"), follow_up_data(commitment))
    assert response.status_code == 403
    assert FollowUp.objects.count() == 1


def test_editor_records_a_follow_up(client, editor, seeded):
    client.force_login(editor)
    commitment = Commitment.objects.get(reference="NOR-2012-04")
    assert 'class="follow-up-form"' in client.get("/staff/?show=all").content.decode()
    data = follow_up_data(commitment, status=Status.ON_TRACK)
    response = client.post(record_url("NOR-2012-04"), data)
    assert response.status_code == 302
    assert FollowUp.objects.get().author == editor


# What needs attention


def test_staff_page_opens_on_my_commitments_with_counts(client, editor, seeded):
    today = timezone.localdate()
    mine = Commitment.objects.get(reference="NOR-2012-02")
    mine.owner = editor
    mine.save()
    Commitment.objects.filter(reference__in=["NOR-2012-03", "NOR-2012-05"]).update(
        next_review=today - datetime.timedelta(days=1)
    )
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-06"),
        status=Status.ON_TRACK,
        by=editor,
        happened_on=today - datetime.timedelta(days=91),
    )
    client.force_login(editor)
    response = client.get("/staff/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="c-NOR-2012-02"' in html
    assert 'id="c-NOR-2012-03"' not in html
    queues = {name: count for name, _label, count in response.context["queues"]}
    assert queues == {"mine": 1, "review": 2, "stale": 1, "all": 10}

    review = client.get("/staff/?show=review").content.decode()
    assert 'id="c-NOR-2012-03"' in review
    assert 'id="c-NOR-2012-05"' in review
    assert 'id="c-NOR-2012-02"' not in review
    stale = client.get("/staff/?show=stale").content.decode()
    assert 'id="c-NOR-2012-06"' in stale
    assert stale.count('class="staff-row"') == 1
    assert "no follow-up for 90+ days" in stale
    assert "no follow-up for 90+ days" not in review


def test_commitment_created_long_ago_without_follow_up_is_stale(staff_client, db):
    old = CommitmentFactory()
    Commitment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=100)
    )
    CommitmentFactory()
    html = staff_client.get("/staff/?show=stale").content.decode()
    assert html.count('class="staff-row"') == 1
    assert f'id="c-{old.reference}"' in html


def test_filters_by_theme_status_and_owner_are_shareable_urls(staff_client, staff_user, seeded):
    owner = UserFactory(is_staff=True)
    Commitment.objects.filter(reference__in=["NOR-2012-02", "NOR-2012-03"]).update(owner=owner)
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-03"), status=Status.ON_TRACK, by=staff_user
    )
    by_theme = staff_client.get("/staff/?show=all&theme=norm").content.decode()
    assert by_theme.count('class="staff-row"') == 2
    by_status = staff_client.get("/staff/?show=all&theme=norm&status=on_track")
    assert by_status.content.decode().count('class="staff-row"') == 1
    assert 'id="c-NOR-2012-03"' in by_status.content.decode()
    by_owner = staff_client.get(f"/staff/?show=all&owner={owner.pk}").content.decode()
    assert by_owner.count('class="staff-row"') == 2
    nobody = staff_client.get("/staff/?show=all&owner=none").content.decode()
    assert nobody.count('class="staff-row"') == 8
    # The form shows the filters in force, and the queue links keep them.
    assert 'value="norm" selected' in by_theme
    assert "?show=review&amp;theme=norm" in by_theme


def test_unknown_filter_values_are_ignored(staff_client, seeded):
    response = staff_client.get("/staff/?show=bogus&theme=nope&status=zzz&owner=abc")
    assert response.status_code == 200
    assert response.context["show"] == "mine"


def test_htmx_filter_returns_only_the_results(staff_client, seeded):
    response = staff_client.get("/staff/?show=all&theme=norm", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<form method="get"')
    assert html.count('class="staff-row"') == 2
    assert "Vary" not in response.headers or "no-store" in response.headers["Cache-Control"]


def test_htmx_history_restore_gets_the_full_page(staff_client, seeded):
    response = staff_client.get(
        "/staff/?show=all", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_staff_page_lists_every_commitment_with_a_form(staff_client, seeded):
    CommitmentFactory(published=False, title="Draft commitment")
    response = staff_client.get("/staff/?show=all")
    html = response.content.decode()
    assert response.status_code == 200
    assert Commitment.objects.count() < 25  # one page
    assert html.count('class="follow-up-form"') == Commitment.objects.count()
    assert "Draft commitment" in html
    assert "no-store" in response.headers["Cache-Control"]


def test_a_long_queue_comes_a_page_at_a_time_with_its_total(staff_client, staff_user, seeded):
    theme = ThemeFactory(slug="long")
    CommitmentFactory.create_batch(30, theme=theme)
    first = staff_client.get("/staff/?show=all&theme=long").content.decode()
    assert first.count('class="follow-up-form"') == 25
    assert "30 commitments, 1 to 25 shown." in first
    assert "Page 1 of 2" in first
    assert 'href="?show=all&amp;theme=long&amp;page=2#staff-results"' in first
    assert 'data-hx-target="#staff-results" data-hx-swap="innerHTML"' in first
    # Switching queue starts again at page 1; the filters stay.
    second = staff_client.get("/staff/?show=all&theme=long&page=2").content.decode()
    assert second.count('class="follow-up-form"') == 5
    assert "30 commitments, 26 to 30 shown." in second
    assert 'href="?show=review&amp;theme=long"' in second
    # The queue counts are the totals, not the page's.
    all_count = Commitment.objects.count()
    assert (
        f'All <span class="count">{all_count}</span>'
        in staff_client.get("/staff/?show=all").content.decode()
    )


def test_a_refused_entry_is_shown_even_when_its_row_is_on_another_page(
    staff_client, staff_user, seeded
):
    theme = ThemeFactory(slug="long")
    batch = CommitmentFactory.create_batch(30, theme=theme)
    last = sorted(batch, key=lambda c: c.reference)[-1]  # on page 2
    response = staff_client.post(
        f"{record_url(last.reference)}?show=all&theme=long&page=1",
        follow_up_data(last, happened_on="", public_note="Keep this text"),
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert f'id="c-{last.reference}"' in html
    assert "Keep this text" in html
    assert html.count('class="follow-up-form"') == 26
    assert FollowUp.objects.count() == 0


def test_recording_on_page_two_comes_back_to_page_two(staff_client, seeded):
    theme = ThemeFactory(slug="long")
    batch = CommitmentFactory.create_batch(30, theme=theme)
    last = sorted(batch, key=lambda c: c.reference)[-1]
    response = staff_client.post(
        f"{record_url(last.reference)}?show=all&theme=long&page=2", follow_up_data(last)
    )
    assert response.status_code == 302
    assert response.url == f"/staff/?show=all&theme=long&page=2#c-{last.reference}"


# Recording


def test_plain_follow_up_post_records_and_redirects_to_the_same_view(
    staff_client, staff_user, seeded
):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = staff_client.post(
        f"{record_url('NOR-2012-07')}?show=all&theme=regional&evil=1",
        follow_up_data(commitment, internal_note=CANARY),
    )
    assert response.status_code == 302
    assert response.url == "/staff/?show=all&theme=regional#c-NOR-2012-07"
    follow_up = FollowUp.objects.get()
    assert follow_up.author == staff_user
    assert follow_up.internal_note == CANARY
    commitment.refresh_from_db()
    assert commitment.status == Status.IN_PROGRESS
    assert commitment.version == 2
    page = staff_client.get(response.url).content.decode()
    assert "Recorded “In progress” on NOR-2012-07." in page


def test_htmx_follow_up_post_returns_only_the_row(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = staff_client.post(
        record_url("NOR-2012-07"), follow_up_data(commitment), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="staff-row" id="c-NOR-2012-07"')
    assert "<html" not in html
    assert "In progress" in html
    assert 'value="2"' in html  # the fresh form is based on the new version
    assert FollowUp.objects.count() == 1


def test_plain_invalid_post_rerenders_page_with_errors_and_saves_nothing(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = staff_client.post(
        f"{record_url('NOR-2012-07')}?show=all",
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
        record_url("NOR-2012-09"),
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
    assert staff_client.get(record_url("NOR-2012-07")).status_code == 405


# No lost updates


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_stale_follow_up_is_refused_shows_what_changed_and_keeps_input(
    client, editor, seeded, htmx
):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    stale = follow_up_data(commitment, public_note="My typed words", internal_note="Mine too")
    other = UserFactory(is_staff=True, username="colleague")
    record_follow_up(
        commitment, status=Status.NOT_STARTED, by=other, public_note="Recorded meanwhile"
    )
    client.force_login(editor)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"{record_url('NOR-2012-07')}?show=all", stale, **extra)
    html = response.content.decode()
    assert response.status_code == 409
    assert ("<html" in html) is not htmx
    assert "Not saved: NOR-2012-07 was changed by someone else" in html
    assert "Recorded meanwhile" in html
    assert "colleague" in html
    assert "My typed words" in html
    assert "Mine too" in html
    assert FollowUp.objects.count() == 1
    commitment.refresh_from_db()
    assert commitment.version == 2
    # The kept form is based on the current version: sending it again is a deliberate choice.
    assert f'name="c{commitment.pk}-version" value="2"' in html
    again = client.post(
        record_url("NOR-2012-07"),
        follow_up_data(commitment, public_note="My typed words"),
        **extra,
    )
    assert again.status_code in (200, 302)
    assert FollowUp.objects.count() == 2


def test_stale_follow_up_lists_edits_made_to_the_commitment_meanwhile(client, editor, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    stale = follow_up_data(commitment)
    commitment.title = "A retitled commitment"
    save_edit(commitment, based_on_version=commitment.version, by=UserFactory(username="boss"))
    client.force_login(editor)
    response = client.post(record_url("NOR-2012-07"), stale, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 409
    assert "Title: Interest in looking at how to support" in html
    assert "→ A retitled commitment" in html
    assert "boss" in html
    assert FollowUp.objects.count() == 0


def test_follow_up_without_a_version_is_an_error_not_a_blind_write(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = follow_up_data(commitment)
    del data[f"c{commitment.pk}-version"]
    response = staff_client.post(record_url("NOR-2012-07"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert FollowUp.objects.count() == 0
