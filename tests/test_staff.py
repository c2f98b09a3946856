import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from commitments.models import STATUS_INFO, Commitment, FollowUp, Status
from commitments.records import changed, record_follow_up, save_edit

from .conftest import CANARY
from .factories import CommitmentFactory, ThemeFactory, UserFactory
from .html_forms import untouched

pytestmark = pytest.mark.django_db

D2013 = datetime.date(2013, 3, 1)


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


def recorded_days_ago(follow_up, days):
    """As if the follow-up had been recorded `days` ago (history refuses an ORM update)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_followup SET recorded_at = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(days=days), follow_up.pk],
        )
    changed()  # the stored state's last_recorded_at follows, as after any write


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


def test_editor_records_a_follow_up(second_review_off, client, editor, seeded):
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
    checked = record_follow_up(
        Commitment.objects.get(reference="NOR-2012-06"), status=Status.ON_TRACK, by=editor
    )
    recorded_days_ago(checked, 91)
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
    assert "not checked for 90+ days" in stale
    assert "not checked for 90+ days" not in review


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
    second_review_off, staff_client, staff_user, seeded
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


def test_htmx_follow_up_post_returns_only_the_row(second_review_off, staff_client, seeded):
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
    second_review_off, client, editor, seeded, htmx
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
    assert "Title (English): Interest in looking at how to support" in html
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


# The forms start on the current verdict (issue 11: a note sent on an "On track" commitment
# without touching the select downgraded it to "Not yet assessed" in public)


def test_an_untouched_follow_up_form_keeps_the_status_and_progress(
    staff_client, staff_user, seeded
):
    on_track = Commitment.objects.get(reference="NOR-2012-01")  # continuous
    record_follow_up(on_track, status=Status.ON_TRACK, by=staff_user, happened_on=D2013)
    one_off = Commitment.objects.get(reference="NOR-2012-07")
    record_follow_up(
        one_off, status=Status.IN_PROGRESS, progress=70, by=staff_user, happened_on=D2013
    )
    page = staff_client.get("/staff/?show=all").content.decode()
    for commitment in (on_track, one_off):
        data = untouched(page, record_url(commitment.reference))
        data[f"c{commitment.pk}-public_note"] = "Only a note"
        response = staff_client.post(record_url(commitment.reference), data)
        assert response.status_code == 302
    on_track.refresh_from_db()
    one_off.refresh_from_db()
    assert (on_track.status, on_track.progress) == (Status.ON_TRACK, 100)
    assert (one_off.status, one_off.progress) == (Status.IN_PROGRESS, 70)
    assert FollowUp.objects.filter(public_note="Only a note").count() == 2


# Progress that contradicts its status is refused


@pytest.mark.parametrize("status", [s for s in Status if s != Status.NOT_ASSESSED])
def test_each_status_standard_figure_lies_in_its_allowed_range(status):
    info = STATUS_INFO[status]
    low, high = info.progress_range
    assert low <= info.default_progress <= high
    assert info.allows(None)  # no figure given: the standard one counts


@pytest.mark.parametrize(
    ("reference", "status", "progress", "message"),
    [
        (
            "NOR-2012-07",
            Status.ACHIEVED,
            10,
            "“Achieved” allows a progress figure of 100\xa0% only.",
        ),
        ("NOR-2012-07", Status.NOT_STARTED, 90, "“Not started” allows a progress figure of 0\xa0%"),
        ("NOR-2012-07", Status.IN_PROGRESS, 100, "“In progress” allows a progress figure of 1–99"),
        ("NOR-2012-01", Status.ON_TRACK, 10, "“On track” allows a progress figure of 50–100"),
        ("NOR-2012-01", Status.NOT_ASSESSED, 10, "not assessed has no progress figure"),
    ],
)
def test_staff_page_refuses_progress_that_contradicts_the_status(
    staff_client, seeded, reference, status, progress, message
):
    commitment = Commitment.objects.get(reference=reference)
    response = staff_client.post(
        record_url(reference),
        follow_up_data(commitment, status=status, progress=progress),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert escape(message) in response.content.decode()
    assert FollowUp.objects.count() == 0


def test_progress_inside_the_range_is_recorded(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = follow_up_data(commitment, status=Status.ACHIEVED, progress=100)
    assert staff_client.post(record_url("NOR-2012-07"), data).status_code == 302
    data = follow_up_data(Commitment.objects.get(pk=commitment.pk), status=Status.OFF_TRACK)
    data[f"c{commitment.pk}-progress"] = 0
    assert staff_client.post(record_url("NOR-2012-07"), data).status_code == 302


def test_every_write_path_refuses_a_contradicting_figure(staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    with pytest.raises(ValidationError) as refused:
        record_follow_up(commitment, status=Status.ACHIEVED, progress=10, by=staff_user)
    assert "progress" in refused.value.message_dict
    assert FollowUp.objects.count() == 0
    commitment.refresh_from_db()
    assert commitment.version == 1  # the transaction gave the version back


def test_the_scale_table_publishes_each_range(client, seeded):
    html = client.get("/").content.decode()
    assert "Progress allowed" in html
    assert "1–99\xa0%" in html or "1–99&nbsp;%" in html


# Confirm, no change


def confirm_url(reference):
    return reverse("staff_confirm", args=[reference])


def confirm_data(commitment, **overrides):
    data = {"version": commitment.version, "public_note": "", "evidence_url": ""}
    data.update(overrides)
    return {f"k{commitment.pk}-{key}": value for key, value in data.items()}


@pytest.fixture
def assessed(staff_user, seeded):
    """NOR-2012-07, "in progress" at 70 % since 2013."""
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    record_follow_up(
        commitment, status=Status.IN_PROGRESS, progress=70, by=staff_user, happened_on=D2013
    )
    return Commitment.objects.get(pk=commitment.pk)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_confirm_renews_the_latest_evidence_and_keeps_the_verdict(
    staff_client, staff_user, assessed, htmx
):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = staff_client.post(
        f"{confirm_url('NOR-2012-07')}?show=all",
        confirm_data(assessed, public_note="Checked the ministry's page: still under way"),
        **extra,
    )
    today = timezone.localdate()
    if htmx:
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<section class="staff-row" id="c-NOR-2012-07"')
        assert "Confirmed “In progress” on NOR-2012-07, as checked today." in html
    else:
        assert response.status_code == 302
        assert response.url == "/staff/?show=all#c-NOR-2012-07"
    confirmation = assessed.follow_ups.timeline().first()
    assert (confirmation.status, confirmation.progress) == (Status.IN_PROGRESS, 70)
    assert confirmation.happened_on == today
    assert confirmation.public_note == "Checked the ministry's page: still under way"
    assert confirmation.author == staff_user
    commitment = Commitment.objects.get(pk=assessed.pk)
    assert (commitment.status, commitment.progress) == (Status.IN_PROGRESS, 70)
    assert commitment.last_follow_up_on == today
    assert commitment.version == assessed.version + 1


def test_confirm_takes_a_link_instead_of_a_note(staff_client, assessed):
    data = confirm_data(assessed, evidence_url="https://example.org/report")
    assert staff_client.post(confirm_url("NOR-2012-07"), data).status_code == 302
    assert assessed.follow_ups.timeline().first().evidence_url == "https://example.org/report"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_confirm_without_a_note_or_a_link_is_refused(staff_client, assessed, htmx):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = staff_client.post(
        confirm_url("NOR-2012-07"), confirm_data(assessed, public_note="  "), **extra
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert ("<html" in html) is not htmx
    assert "Not confirmed." in html
    assert "give a short public note or an evidence link" in html
    assert assessed.follow_ups.count() == 1


def test_a_commitment_not_yet_assessed_has_nothing_to_confirm(staff_client, assessed):
    page = staff_client.get("/staff/?show=all").content.decode()
    assert f'action="{confirm_url("NOR-2012-07")}' in page
    assert f'action="{confirm_url("NOR-2012-10")}' not in page  # not yet assessed
    unassessed = Commitment.objects.get(reference="NOR-2012-10")
    response = staff_client.post(
        confirm_url("NOR-2012-10"), confirm_data(unassessed, public_note="Looked")
    )
    assert response.status_code == 422
    assert "NOR-2012-10 is not yet assessed: there is no verdict to confirm." in (
        response.content.decode()
    )
    assert unassessed.follow_ups.count() == 0


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_stale_confirm_is_refused_with_the_conflict(client, editor, assessed, htmx):
    stale = confirm_data(assessed, public_note="Still true, I think")
    other = UserFactory(is_staff=True, username="colleague")
    record_follow_up(assessed, status=Status.OFF_TRACK, by=other, public_note="Stalled meanwhile")
    client.force_login(editor)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(confirm_url("NOR-2012-07"), stale, **extra)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Not saved: NOR-2012-07 was changed by someone else" in html
    assert "Stalled meanwhile" in html
    assert "Still true, I think" in html  # kept, on a form based on the current version
    assert f'name="k{assessed.pk}-version" value="3"' in html
    assert assessed.follow_ups.count() == 2
    assert Commitment.objects.get(pk=assessed.pk).status == Status.OFF_TRACK


def test_confirm_refuses_anonymous_non_staff_and_viewers(client, member_client, viewer, assessed):
    data = confirm_data(assessed, public_note="Looked")
    assert member_client.post(confirm_url("NOR-2012-07"), data).status_code == 403
    member_client.logout()
    response = client.post(confirm_url("NOR-2012-07"), data)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    client.force_login(viewer)
    assert client.post(confirm_url("NOR-2012-07"), data).status_code == 403
    assert "confirm-form" not in client.get("/staff/?show=all").content.decode()
    assert client.get(confirm_url("NOR-2012-07")).status_code == 405
    assert assessed.follow_ups.count() == 1


# The "not checked" queue: when staff last recorded a follow-up, not when the evidence happened


def test_a_follow_up_back_filled_today_is_a_check_made_today(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-06")
    Commitment.objects.filter(pk=commitment.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400)
    )
    record_follow_up(commitment, status=Status.ON_TRACK, by=staff_user, happened_on=D2013)
    commitment = Commitment.objects.as_of().get(pk=commitment.pk)
    assert not commitment.is_stale()
    assert not Commitment.objects.stale().filter(pk=commitment.pk).exists()
    html = staff_client.get("/staff/?show=all").content.decode()
    row = re.search(r'<section class="staff-row" id="c-NOR-2012-06".*?</section>', html, re.S)[0]
    assert "not checked for" not in row
    today = timezone.localdate()
    assert 'latest evidence <time datetime="2013-03-01">1 Mar 2013</time>' in row
    assert f'last checked <time datetime="{today:%Y-%m-%d}' in row


def test_an_achieved_commitment_never_needs_re_checking(staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")  # one-off
    done = record_follow_up(commitment, status=Status.ACHIEVED, by=staff_user, happened_on=D2013)
    recorded_days_ago(done, 400)
    commitment = Commitment.objects.as_of().get(pk=commitment.pk)
    assert not commitment.is_stale()
    assert not Commitment.objects.stale().filter(pk=commitment.pk).exists()


def test_a_commitment_really_left_unchecked_is_in_the_queue(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    old = record_follow_up(commitment, status=Status.IN_PROGRESS, by=staff_user)
    recorded_days_ago(old, 91)
    commitment = Commitment.objects.as_of().get(pk=commitment.pk)
    assert commitment.is_stale()
    assert list(Commitment.objects.stale().values_list("reference", flat=True)) == ["NOR-2012-07"]
    html = staff_client.get("/staff/?show=stale").content.decode()
    assert html.count('class="staff-row"') == 1
    assert "Not checked for 90 days" in html
    assert "not checked for 90+ days" in html
    # Confirming it is a check: it leaves the queue.
    staff_client.post(confirm_url("NOR-2012-07"), confirm_data(commitment, public_note="Seen"))
    assert not Commitment.objects.stale().exists()
