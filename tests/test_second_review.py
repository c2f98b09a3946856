"""A second reviewer (issue 15): a follow-up that changes a commitment's status waits until
another editor confirms it, is public only then, and either decision is kept as history."""

import datetime
import json
import logging
import os
import subprocess  # nosec B404: runs this project's own manage.py
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import (
    AppendOnlyError,
    Commitment,
    Decision,
    FollowUp,
    ProposedFollowUp,
    Review,
    StaleVersion,
    State,
    Status,
)
from commitments.records import (
    AlreadyReviewed,
    confirm_proposal,
    needs_review,
    propose_follow_up,
    record_follow_up,
    send_back,
    submit_follow_up,
    withdraw_proposal,
)

from .conftest import CANARY, member_of

pytestmark = pytest.mark.django_db

MARKER = "SECOND-REVIEW-MARKER-51a2"
D2012 = datetime.date(2012, 5, 1)  # the seed commitments, entered long ago
REF = "NOR-2012-10"  # one-off: it takes "in progress"


@pytest.fixture
def commitment(seeded):
    return Commitment.objects.get(reference=REF)


@pytest.fixture
def author(db):
    return member_of("editors", username="author", first_name="Ada", last_name="Author")


@pytest.fixture
def reviewer(db):
    return member_of("editors", username="reviewer", first_name="Rita", last_name="Reviewer")


def staff_post(commitment, **overrides):
    prefix = f"c{commitment.pk}"
    data = {
        "version": commitment.version,
        "status": Status.IN_PROGRESS,
        "progress": "",
        "happened_on": "2013-03-01",
        "public_note": f"{MARKER} met the ministry",
        "internal_note": CANARY,
        "evidence_url": "",
        "evidence_label": "",
        **overrides,
    }
    return {f"{prefix}-{key}": value for key, value in data.items()}


def propose(commitment, author, **fields):
    return propose_follow_up(
        commitment,
        status=fields.pop("status", Status.IN_PROGRESS),
        by=author,
        happened_on=fields.pop("happened_on", datetime.date(2013, 3, 1)),
        public_note=fields.pop("public_note", f"{MARKER} met the ministry"),
        internal_note=CANARY,
        **fields,
    )


def public_outputs(client, commitment):
    """Every public output that could show a follow-up: pages, fragments, exports, feeds."""
    urls = [
        "/",
        "/?status=in_progress",
        commitment.get_absolute_url(),
        f"/fr{commitment.get_absolute_url()}",
        commitment.statement.get_absolute_url(),
        "/feed/",
        f"/commitments/{commitment.reference}/feed/",
        "/data/follow-ups.csv",
        "/data/follow-ups.json",
        "/data/commitments.csv",
        "/data/commitments.json",
        "/states/NO/",
    ]
    bodies = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies[url] = response.getvalue().decode()
    fragment = client.get("/?status=in_progress", headers={"HX-Request": "true"})
    bodies["/ (htmx)"] = fragment.getvalue().decode()
    return bodies


# --- The rule: which follow-ups wait ------------------------------------------------------------


def test_by_default_every_change_of_status_waits_and_nothing_else(commitment):
    assert settings.SECOND_REVIEW == "status-changes"  # the documented default
    assert commitment.status == Status.NOT_ASSESSED
    assert needs_review(commitment, Status.IN_PROGRESS)
    assert not needs_review(commitment, Status.NOT_ASSESSED)


def test_a_team_can_turn_the_second_review_off(settings, commitment, author):
    settings.SECOND_REVIEW = "off"
    assert not needs_review(commitment, Status.IN_PROGRESS)
    entry = submit_follow_up(commitment, status=Status.IN_PROGRESS, by=author)
    assert isinstance(entry, FollowUp)
    assert not ProposedFollowUp.objects.exists()


def test_an_unknown_setting_stops_start_up_with_a_clear_message():
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "SECOND_REVIEW": "sometimes", "DJANGO_DEBUG": "1"}
    result = subprocess.run(  # nosec B603: fixed arguments
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    message = 'SECOND_REVIEW must be "status-changes", "off" or a comma-separated list'
    assert message in result.stderr
    assert "commitments.E001" in result.stderr


def test_a_team_can_hold_only_the_changes_to_some_statuses(settings, commitment, author):
    settings.SECOND_REVIEW = "achieved, off_track"
    assert needs_review(commitment, Status.ACHIEVED)
    assert needs_review(commitment, Status.OFF_TRACK)
    assert not needs_review(commitment, Status.IN_PROGRESS)
    assert isinstance(submit_follow_up(commitment, status=Status.IN_PROGRESS, by=author), FollowUp)
    commitment.forget_state()
    assert commitment.status == Status.IN_PROGRESS
    held = submit_follow_up(commitment, status=Status.ACHIEVED, by=author)
    assert isinstance(held, ProposedFollowUp)
    # The same status again is never held, listed or not.
    assert not needs_review(commitment, Status.IN_PROGRESS)


@pytest.mark.parametrize("value", ["achieved,finished", ",", "status_changes"])
def test_a_list_with_an_unknown_status_is_refused(settings, value):
    from django.core.exceptions import ImproperlyConfigured

    from commitments.records import review_statuses

    settings.SECOND_REVIEW = value
    with pytest.raises(ImproperlyConfigured, match="finished|status_changes|it is ','"):
        review_statuses()


def test_a_status_change_on_the_staff_page_waits_and_says_so(client, commitment, author):
    client.force_login(author)
    response = client.post(
        reverse("staff_record_follow_up", args=[REF]), staff_post(commitment), follow=True
    )
    assert response.status_code == 200
    assert "sent for a second review: it will be public once another editor confirms it" in (
        response.content.decode()
    )
    proposal = ProposedFollowUp.objects.get()
    assert (proposal.status_before, proposal.status) == (Status.NOT_ASSESSED, Status.IN_PROGRESS)
    assert proposal.author == author
    assert proposal.based_on_version == commitment.version
    assert not FollowUp.objects.filter(commitment=commitment).exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_ASSESSED
    assert commitment.version == 1  # nothing public moved


def test_the_htmx_row_says_it_waits(client, commitment, author):
    client.force_login(author)
    response = client.post(
        reverse("staff_record_follow_up", args=[REF]),
        staff_post(commitment),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "is sent for a second review" in html
    assert "Waiting for a second review: “In progress”, proposed by" in html


def test_same_status_and_confirm_no_change_go_straight_through(client, commitment, author):
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=author)
    commitment.refresh_from_db()
    client.force_login(author)
    client.post(
        reverse("staff_record_follow_up", args=[REF]),
        staff_post(commitment, public_note="Same status"),
    )
    assert FollowUp.objects.filter(public_note="Same status").exists()
    commitment.refresh_from_db()
    prefix = f"k{commitment.pk}"
    client.post(
        reverse("staff_confirm", args=[REF]),
        {f"{prefix}-version": commitment.version, f"{prefix}-public_note": "Checked"},
    )
    assert FollowUp.objects.filter(public_note="Checked").exists()
    assert not ProposedFollowUp.objects.exists()


def test_the_admin_form_and_the_bulk_action_send_status_changes_for_review(
    client, commitment, author
):
    client.force_login(author)
    other = Commitment.objects.get(reference="NOR-2012-07")
    response = client.post(
        "/admin/commitments/commitment/",
        {
            "action": "bulk_follow_up",
            "_selected_action": [commitment.pk, other.pk],
            "apply": "1",
            f"version-{commitment.pk}": commitment.version,
            f"version-{other.pk}": other.version,
            "status": Status.IN_PROGRESS,
            "happened_on": "2013-03-02",
        },
        follow=True,
    )
    assert "change a status and are sent for a second review" in response.content.decode()
    assert ProposedFollowUp.objects.count() == 2
    assert not FollowUp.objects.exists()


def test_a_proposal_from_a_stale_form_is_refused(commitment, author):
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=author)  # version 2
    with pytest.raises(StaleVersion):
        propose(commitment, author, status=Status.ACHIEVED, based_on_version=1)
    assert not ProposedFollowUp.objects.exists()


# --- Confirming -----------------------------------------------------------------------------


def test_another_editor_confirms_and_it_is_public_then(
    client, commitment, author, reviewer, django_capture_on_commit_callbacks
):
    norway = State.objects.get(country="NO")
    proposal = propose(
        commitment,
        author,
        evidence_url="https://example.org/e",
        evidence_label="Report",
        versions={"public_note_fr": f"{MARKER} fr"},
        states=[norway],
    )
    for url, body in public_outputs(client, commitment).items():
        assert MARKER not in body, url
        assert CANARY not in body, url
    client.force_login(reviewer)
    queue = client.get(reverse("staff_review")).content.decode()
    assert f"{MARKER} met the ministry" in queue
    assert "Not yet assessed" in queue
    assert "In progress" in queue
    with django_capture_on_commit_callbacks(execute=True):  # the cached pages are outdated
        response = client.post(reverse("staff_review_confirm", args=[proposal.pk]))
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(proposal=proposal)
    assert follow_up.author == author
    assert follow_up.confirmed_by == reviewer
    assert follow_up.public_note_fr == f"{MARKER} fr"
    assert follow_up.evidence_label == "Report"
    assert list(follow_up.states.all()) == [norway]
    assert follow_up.recorded_at >= proposal.proposed_at
    review = Review.objects.get(proposal=proposal)
    assert (review.decision, review.reviewer) == (Decision.CONFIRMED, reviewer)
    commitment.refresh_from_db()
    commitment.forget_state()
    assert commitment.status == Status.IN_PROGRESS
    client.logout()
    bodies = public_outputs(client, commitment)
    page = bodies[commitment.get_absolute_url()]
    assert MARKER in page
    today = timezone.localdate().strftime("%-d %B %Y")
    assert f"Confirmed by a second reviewer on {today}." in page
    for feed in ("/feed/", f"/commitments/{commitment.reference}/feed/"):
        assert f"Confirmed by a second reviewer on {today}." in bodies[feed], feed
        assert "Rita" not in bodies[feed], feed  # never who (Rita Reviewer)
    assert MARKER in bodies["/data/follow-ups.csv"]
    [exported] = json.loads(bodies["/data/follow-ups.json"])["follow_ups"]
    assert exported["second_review"] is True
    assert exported["recorded_at"] == follow_up.recorded_at.isoformat()
    assert all(CANARY not in body for body in bodies.values())
    assert not ProposedFollowUp.objects.pending().exists()


def test_the_author_can_never_confirm_their_own(client, commitment, author):
    proposal = propose(commitment, author)
    with pytest.raises(ValidationError):
        confirm_proposal(proposal, by=author)
    client.force_login(author)
    queue = client.get(reverse("staff_review")).content.decode()
    assert reverse("staff_review_confirm", args=[proposal.pk]) not in queue
    assert "You proposed this follow-up: another editor must confirm it" in queue
    for htmx in (False, True):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(reverse("staff_review_confirm", args=[proposal.pk]), headers=headers)
        assert response.status_code == 403
        assert "another editor must review it" in response.content.decode()
    assert not FollowUp.objects.exists()
    assert not Review.objects.exists()


def test_the_database_refuses_a_follow_up_confirmed_by_its_author(commitment, author):
    proposal = propose(commitment, author)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(
            commitment=commitment,
            status=Status.IN_PROGRESS,
            happened_on=datetime.date(2013, 3, 1),
            author=author,
            proposal=proposal,
            confirmed_by=author,
        )


def test_confirming_after_the_commitment_moved_is_refused_with_what_changed(
    client, commitment, author, reviewer
):
    proposal = propose(commitment, author)
    other = member_of("editors", username="other")
    record_follow_up(
        commitment,
        status=Status.OFF_TRACK,
        by=other,
        happened_on=datetime.date(2013, 4, 1),
        public_note="Talks stalled",
    )
    client.force_login(reviewer)
    for htmx in (True, False):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(reverse("staff_review_confirm", args=[proposal.pk]), headers=headers)
        html = response.content.decode()
        assert response.status_code == 409
        assert f"Not confirmed: {REF} changed after this follow-up was proposed" in html
        assert "Talks stalled" in html  # what changed
        assert ("<html" in html) is not htmx
    assert not FollowUp.objects.filter(proposal=proposal).exists()
    assert not Review.objects.exists()
    response = client.post(
        reverse("staff_review_send_back", args=[proposal.pk]),
        {f"p{proposal.pk}-note": "Overtaken by the April follow-up"},
    )
    assert response.status_code == 302
    assert Review.objects.get().decision == Decision.SENT_BACK


def test_a_proposal_is_reviewed_once(client, commitment, author, reviewer):
    proposal = propose(commitment, author)
    confirm_proposal(proposal, by=reviewer)
    third = member_of("editors", username="third")
    with pytest.raises(AlreadyReviewed):
        confirm_proposal(proposal, by=third)
    with pytest.raises(AlreadyReviewed):
        send_back(proposal, by=third, note="Too late")
    client.force_login(third)
    response = client.post(reverse("staff_review_confirm", args=[proposal.pk]))
    assert response.status_code == 409
    assert FollowUp.objects.filter(proposal=proposal).count() == 1
    assert Review.objects.count() == 1


def test_known_on_before_the_confirmation_does_not_show_it(client, commitment, author, reviewer):
    proposal = propose(commitment, author)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with connection.cursor() as cursor:  # proposed yesterday, confirmed today
        cursor.execute(
            "UPDATE commitments_proposedfollowup SET proposed_at = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(days=1), proposal.pk],
        )
        cursor.execute("UPDATE commitments_commitment SET created_at = %s", [D2012])
    proposal.refresh_from_db()
    confirm_proposal(proposal, by=reviewer)
    url = commitment.get_absolute_url()
    before = client.get(f"{url}?known_on={yesterday.isoformat()}").content.decode()
    after = client.get(f"{url}?known_on={timezone.localdate().isoformat()}").content.decode()
    assert MARKER not in before
    assert MARKER in after
    export = client.get(f"/data/follow-ups.csv?known_on={yesterday.isoformat()}")
    assert MARKER not in export.getvalue().decode()


def test_proposing_and_reviewing_are_logged_with_who_and_never_the_notes(
    commitment, author, reviewer, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        confirm_proposal(propose(commitment, author), by=reviewer)
        send_back(propose(commitment, author, status=Status.ACHIEVED), by=reviewer, note=CANARY)
    events = [(r.event, r.username) for r in caplog.records if hasattr(r, "event")]
    assert sorted(events) == [  # the recorded follow-up is logged when it commits
        ("follow_up_proposed", "author"),
        ("follow_up_proposed", "author"),
        ("follow_up_recorded", "author"),
        ("follow_up_reviewed", "reviewer"),
        ("follow_up_reviewed", "reviewer"),
    ]
    assert CANARY not in caplog.text
    assert MARKER not in caplog.text


# --- Sending back ----------------------------------------------------------------------------


def test_sending_back_needs_a_note(client, commitment, author, reviewer):
    proposal = propose(commitment, author)
    with pytest.raises(ValidationError):
        send_back(proposal, by=reviewer, note="  ")
    client.force_login(reviewer)
    for htmx in (False, True):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(
            reverse("staff_review_send_back", args=[proposal.pk]),
            {f"p{proposal.pk}-note": ""},
            headers=headers,
        )
        assert response.status_code == 422
        assert "Say why you send it back" in response.content.decode()
    assert not Review.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(proposal=proposal, decision=Decision.SENT_BACK, reviewer=reviewer)


def test_the_author_sees_it_sent_back_with_the_note_and_records_again(
    client, commitment, author, reviewer
):
    proposal = propose(commitment, author)
    client.force_login(reviewer)
    response = client.post(
        reverse("staff_review_send_back", args=[proposal.pk]),
        {f"p{proposal.pk}-note": "Give the ministry's letter as evidence"},
        follow=True,
    )
    assert f"Sent back “In progress” on {REF}" in response.content.decode()
    assert not FollowUp.objects.exists()
    review = Review.objects.get()
    assert (review.decision, review.reviewer) == (Decision.SENT_BACK, reviewer)
    client.force_login(author)
    page = client.get(reverse("staff_home")).content.decode()
    assert "Your follow-ups sent for a second review" in page
    assert "sent back by reviewer" in page
    assert "Give the ministry&#x27;s letter as evidence" in page
    assert f"Record again on {REF}" in page
    # Recording again makes a new proposal: the history keeps both.
    client.post(
        reverse("staff_record_follow_up", args=[REF]),
        staff_post(commitment, evidence_url="https://example.org/letter"),
    )
    assert ProposedFollowUp.objects.count() == 2
    assert ProposedFollowUp.objects.pending().get().evidence_url == "https://example.org/letter"


def test_the_author_withdraws_a_waiting_follow_up_and_nobody_else_can(
    client, commitment, author, reviewer
):
    proposal = propose(commitment, author)
    url = reverse("staff_review_withdraw", args=[proposal.pk])
    # Another editor, even one who may confirm it, cannot withdraw it: they send it back.
    client.force_login(reviewer)
    assert client.post(url).status_code == 403
    with pytest.raises(ValidationError):
        withdraw_proposal(proposal, by=reviewer)
    assert not Review.objects.exists()
    # Its author is offered the button, on the staff page and in the queue, and uses it.
    client.force_login(author)
    assert url in client.get(reverse("staff_home")).content.decode()
    assert url in client.get(reverse("staff_review")).content.decode()
    response = client.post(url, follow=True)
    assert f"Withdrawn: “In progress” on {REF} will not be public" in response.content.decode()
    review = Review.objects.get()
    assert (review.decision, review.reviewer) == (Decision.WITHDRAWN, author)
    assert not ProposedFollowUp.objects.pending().exists()
    assert not FollowUp.objects.exists()
    # Decided: nobody confirms it afterwards, and it is not withdrawn twice.
    with pytest.raises(AlreadyReviewed):
        confirm_proposal(proposal, by=reviewer)
    assert "already" in client.post(url, follow=True).content.decode()
    assert Review.objects.count() == 1
    assert MARKER not in client.get(f"/commitments/{REF}/").content.decode()


# --- History is never edited ------------------------------------------------------------------


def test_proposals_and_reviews_are_append_only(commitment, author, reviewer):
    proposal = propose(commitment, author, states=[State.objects.get(country="NO")])
    review = send_back(proposal, by=reviewer, note="No")
    for row in (proposal, review):
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()
        with pytest.raises(AppendOnlyError):
            type(row).objects.filter(pk=row.pk).update(pk=row.pk)
        with pytest.raises(AppendOnlyError):
            type(row).objects.filter(pk=row.pk).delete()
    iceland = State.objects.get(country="IS")
    with pytest.raises(AppendOnlyError), transaction.atomic():
        proposal.states.clear()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        proposal.states.add(iceland)
    assert [s.country.code for s in proposal.states.all()] == ["NO"]


def test_the_admin_shows_proposals_and_reviews_read_only(client, commitment, author, reviewer):
    proposal = propose(commitment, author)
    review = send_back(proposal, by=reviewer, note="No")
    client.force_login(reviewer)
    for url in (
        f"/admin/commitments/proposedfollowup/{proposal.pk}/change/",
        f"/admin/commitments/review/{review.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
    assert client.get("/admin/commitments/proposedfollowup/add/").status_code == 403


# --- Speed ------------------------------------------------------------------------------------


def test_the_queue_takes_the_same_queries_whatever_the_number_of_proposals(
    client, seeded, author, reviewer
):
    client.force_login(reviewer)
    norway = State.objects.get(country="NO")
    counts = []
    for reference in ("NOR-2012-07", "NOR-2012-10", "NOR-2012-07"):
        commitment = Commitment.objects.get(reference=reference)
        for _ in range(4):
            propose(commitment, author, states=[norway])
        send_back(ProposedFollowUp.objects.pending().first(), by=reviewer, note="Check it")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("staff_review")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[-1], counts
    assert counts[0] <= 10, counts


# --- With htmx, and for a reader ----------------------------------------------------------------


def test_with_htmx_confirming_and_sending_back_swap_the_queue_in_place(
    client, commitment, author, reviewer
):
    first = propose(commitment, author)
    second = propose(commitment, author, status=Status.ACHIEVED)
    client.force_login(reviewer)
    htmx = {"HX-Request": "true"}
    response = client.post(
        reverse("staff_review_send_back", args=[second.pk]),
        {f"p{second.pk}-note": "Not achieved yet"},
        headers=htmx,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Sent back “Achieved” on" in html
    assert f'id="p-{first.pk}"' in html  # the one still waiting
    response = client.post(reverse("staff_review_confirm", args=[first.pk]), headers=htmx)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Confirmed “In progress” on" in html
    assert "Nothing is waiting for a second review." in html


def test_a_viewer_reads_the_queue_but_is_offered_no_decision(client, commitment, author, viewer):
    proposal = propose(commitment, author)
    client.force_login(viewer)
    page = client.get(reverse("staff_review")).content.decode()
    assert f"{MARKER} met the ministry" in page
    assert reverse("staff_review_confirm", args=[proposal.pk]) not in page
    assert reverse("staff_review_send_back", args=[proposal.pk]) not in page


def test_the_admins_commitment_page_sends_a_status_change_for_review(client, commitment, author):
    from .test_admin import commitment_form_data, inline_management

    client.force_login(author)
    data = commitment_form_data(commitment)
    data.update(inline_management("follow_ups", 1, 0))
    data.update(inline_management("follow_ups-2", 0, 0))
    data.update(
        {
            "follow_ups-0-status": Status.IN_PROGRESS,
            "follow_ups-0-happened_on": "2012-09-14",
            "follow_ups-0-public_note_en": f"{MARKER} priorities published",
        }
    )
    url = f"/admin/commitments/commitment/{commitment.pk}/change/"
    response = client.post(url, data, follow=True)
    assert "is sent for a second review: it will be public once another editor" in (
        response.content.decode()
    )
    proposal = ProposedFollowUp.objects.get()
    assert (proposal.author, proposal.status) == (author, Status.IN_PROGRESS)
    assert not FollowUp.objects.exists()
