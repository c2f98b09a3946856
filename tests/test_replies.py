"""The right of reply (commitments/replies.py): the public form and each of its defences,
moderation, the messages to the sender, and where a published reply shows (and never its
sender's name or e-mail address)."""

import json
import logging
import time

import pytest
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.test import Client, RequestFactory

from commitments.models import (
    REPLY_MAX_LENGTH,
    AppendOnlyError,
    CommitmentState,
    FollowUp,
    ProposedFollowUp,
    ReplyDecision,
    ReplyOutcome,
    ReplySubmission,
    Status,
)
from commitments.records import record_follow_up
from commitments.replies import TIMER_SALT, decide, over_address_rate, start_timer

from .conftest import member_of
from .factories import CommitmentFactory, UserFactory
from .sample import ESCAPED_MARKER, PAYLOAD, RAW_MARKER

pytestmark = pytest.mark.django_db

EMAIL = "sender-7c1d@example.org"
NAME = "Sender Name-7c1d"


@pytest.fixture
def commitment():
    return CommitmentFactory(reference="NOR-2012-01")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what waits for the commit (the sender's messages, outdating
    the cached pages) at the end of the block, as the end of a request's transaction does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def editor_client(client):
    client.force_login(member_of("editors"))
    return client


def reply_url(commitment, prefix=""):
    return f"{prefix}/commitments/{commitment.reference}/reply/"


def form_data(**changes):
    data = {
        "name": NAME,
        "organisation": "Ministry of Foreign Affairs",
        "email": EMAIL,
        "writes_for_delegation": "on",
        "text": "We ratified on 1 May.\nSee the depositary's record.",
        "evidence_url": "https://example.org/ratified",
        "started": start_timer(time.time() - 60),  # filled in over a minute
    }
    data.update(changes)
    return data


def waiting(commitment, **fields):
    values = {
        "commitment": commitment,
        "name": NAME,
        "organisation": "Ministry of Foreign Affairs",
        "email": EMAIL,
        "text": "We ratified on 1 May.",
        "evidence_url": "https://example.org/ratified",
        "language": "en",
        **fields,
    }
    return ReplySubmission.objects.create(**values)


def public_outputs(client, commitment):
    """Every public place a reply could show: the commitment page, both feeds, the export."""
    return {
        url: client.get(url).getvalue().decode()
        for url in (
            commitment.get_absolute_url(),
            f"{commitment.get_absolute_url()}feed/",
            "/feed/",
            "/data/replies.csv",
            "/data/replies.json",
            "/",
        )
    }


# --- The form ----------------------------------------------------------------------------------


def test_the_commitment_page_links_to_the_reply_page_and_sets_no_cookie(client, commitment):
    response = client.get(commitment.get_absolute_url())
    assert not response.cookies
    assert f'href="{reply_url(commitment)}"' in response.content.decode()


def test_the_reply_page_sets_the_csrf_cookie_so_it_is_private_and_never_stored(client, commitment):
    response = client.get(reply_url(commitment))
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert f"at most {REPLY_MAX_LENGTH:,} characters" in html
    # The honeypot: hidden by a class (the CSP forbids style=""), off the keyboard, labelled.
    assert 'class="field honeypot visually-hidden"' in html
    assert 'tabindex="-1"' in html
    assert "Leave this field empty" in html
    assert "style=" not in html


def test_an_unpublished_commitment_has_no_reply_page(client):
    hidden = CommitmentFactory(published=False)
    assert client.get(reply_url(hidden)).status_code == 404
    assert client.post(reply_url(hidden), form_data()).status_code == 404
    assert not ReplySubmission.objects.exists()


def test_a_visitor_sends_a_reply_and_nothing_of_it_is_public_before_a_decision(
    client, commitment, committed
):
    with committed():
        response = client.post(reply_url(commitment, "/fr"), form_data())
    assert response.status_code == 302
    assert response["Location"] == f"/fr/commitments/{commitment.reference}/reply/sent/"
    sent = client.get(response["Location"])
    assert sent.status_code == 200
    submission = ReplySubmission.objects.get()
    assert submission.language == "fr"  # the page's: the sender's messages use it
    assert submission.writes_for_delegation
    assert submission.email == EMAIL
    # One message: received. It never repeats what was sent (no mail to anyone with any text).
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    assert commitment.reference in mail.outbox[0].subject
    assert "ratified" not in mail.outbox[0].body
    for url, text in public_outputs(Client(), commitment).items():
        assert "ratified on 1 May" not in text, url
        assert EMAIL not in text, url


def test_a_missing_field_is_refused_in_place_keeping_what_was_typed(client, commitment):
    response = client.post(reply_url(commitment), form_data(organisation=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Please correct the fields marked below" in html
    assert "We ratified on 1 May." in html
    assert not ReplySubmission.objects.exists()
    assert not mail.outbox


def test_a_text_over_the_limit_is_refused_and_stores_nothing(client, commitment):
    response = client.post(reply_url(commitment), form_data(text="x" * (REPLY_MAX_LENGTH + 1)))
    assert response.status_code == 422
    assert f"at most {REPLY_MAX_LENGTH}" in response.content.decode()
    assert not ReplySubmission.objects.exists()


def test_a_body_over_the_size_limit_is_refused_and_stores_nothing(client, commitment, settings):
    settings.REPLY_MAX_BODY_BYTES = 2_000
    response = client.post(reply_url(commitment), form_data(text="x" * 2_500))
    assert response.status_code == 413
    assert "more than the form takes" in response.content.decode()
    assert not ReplySubmission.objects.exists()


def test_the_honeypot_filled_in_is_refused_and_stores_nothing(client, commitment):
    response = client.post(reply_url(commitment), form_data(website="http://spam.example"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "leave this field empty" in html
    assert "We ratified on 1 May." in html  # a person who filled it loses nothing else
    assert "http://spam.example" not in html
    assert not ReplySubmission.objects.exists()
    assert not mail.outbox


def test_a_form_sent_faster_than_a_person_fills_it_is_refused(client, commitment, settings):
    settings.REPLY_MIN_SECONDS = 5
    response = client.post(reply_url(commitment), form_data(started=start_timer()))
    assert response.status_code == 400
    assert "faster than a person can fill it in" in response.content.decode()
    assert not ReplySubmission.objects.exists()
    # Sent again after the minimum time, from the form it was given back, it is taken.
    settings.REPLY_MIN_SECONDS = 0
    assert client.post(reply_url(commitment), form_data(started=start_timer())).status_code == 302
    assert ReplySubmission.objects.count() == 1


@pytest.mark.parametrize(
    "started",
    [
        "",
        "not-a-token",
        signing.dumps(time.time() - 60, salt="another.salt"),
        signing.dumps(time.time() - 60, salt=TIMER_SALT) + "x",
    ],
    ids=["missing", "garbage", "other-salt", "tampered"],
)
def test_a_missing_or_forged_timer_is_refused(client, commitment, started):
    response = client.post(reply_url(commitment), form_data(started=started))
    assert response.status_code == 400
    assert "not the one this page gave" in response.content.decode()
    assert not ReplySubmission.objects.exists()


def test_a_form_opened_days_ago_is_given_back_to_send_again(client, commitment):
    response = client.post(reply_url(commitment), form_data(started=start_timer(time.time() - 3e5)))
    assert response.status_code == 400
    assert "opened too long ago" in response.content.decode()
    assert not ReplySubmission.objects.exists()


def test_the_tenth_reply_in_a_minute_from_one_address_is_refused(client, commitment, settings):
    settings.REPLY_RATE_PER_MINUTE = 5
    # Whenever it runs: the window slides, so the turn of a minute changes nothing.
    answers = [
        client.post(reply_url(commitment), form_data(email=f"s{n}@example.org")).status_code
        for n in range(10)
    ]
    assert answers == [302] * 5 + [429] * 5
    assert ReplySubmission.objects.count() == 5
    # Another address is not held back by this one.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post(reply_url(commitment), form_data(email="t@example.org")).status_code == 302


def test_a_burst_across_the_turn_of_a_minute_is_held_to_the_limit(settings):
    """The window slides: five replies in the last second of a minute and a sixth in the
    first of the next are six in two seconds, so the sixth is refused; a minute later the
    address may send again."""
    settings.REPLY_RATE_PER_MINUTE = 5
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.9")
    turn = 60 * (int(time.time() // 60) + 10)  # a turn of a minute no other test uses
    assert [over_address_rate(request, now=turn - 1) for _n in range(5)] == [False] * 5
    assert over_address_rate(request, now=turn + 1) is True  # five and a sixth in 2 s
    # Most of the last minute is out of the window by then: 1 + 5 x 1/60 + 1.
    assert over_address_rate(request, now=turn + 59) is False


def test_the_address_limit_message_is_clear_and_keeps_what_was_typed(client, commitment, settings):
    settings.REPLY_RATE_PER_MINUTE = 0
    response = client.post(reply_url(commitment), form_data())
    assert response.status_code == 429
    html = response.content.decode()
    assert "too many replies have come from your address" in html
    assert "We ratified on 1 May." in html
    assert not ReplySubmission.objects.exists()


def test_bot_like_posts_count_against_the_address_too(client, commitment, settings):
    settings.REPLY_RATE_PER_MINUTE = 2
    for _n in range(2):
        client.post(reply_url(commitment), form_data(website="spam"))
    assert client.post(reply_url(commitment), form_data()).status_code == 429
    assert not ReplySubmission.objects.exists()


def test_one_e_mail_address_may_send_only_so_many_an_hour(client, commitment, settings):
    settings.REPLY_RATE_PER_EMAIL_HOUR = 2
    answers = [
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(reply_url(commitment), form_data()).status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]
    assert ReplySubmission.objects.count() == 2


def test_with_the_cache_unreachable_replies_are_still_taken(client, commitment, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "ccmtracker.failsoft.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert client.post(reply_url(commitment), form_data()).status_code == 302
    assert ReplySubmission.objects.count() == 1


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(commitment):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reply_url(commitment), form_data()).status_code == 403
    assert not ReplySubmission.objects.exists()


def test_refusals_are_logged_without_the_senders_details(client, commitment, caplog):
    with caplog.at_level(logging.INFO, logger="commitments.replies"):
        client.post(reply_url(commitment), form_data(website="spam"))
    refused = [r for r in caplog.records if getattr(r, "event", "") == "reply_refused"]
    assert [r.reason for r in refused] == ["honeypot"]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert EMAIL not in logged
    assert NAME not in logged
    assert "127.0.0.1" not in logged


# --- History -----------------------------------------------------------------------------------


def test_submissions_and_decisions_cannot_be_changed_or_deleted(commitment):
    submission = waiting(commitment)
    decision = decide(submission, ReplyOutcome.PUBLISHED, by=UserFactory(is_staff=True))
    submission.text = "rewritten"
    decision.sender_verified = True
    for obj in (submission, decision):
        with pytest.raises(AppendOnlyError):
            obj.save()
        with pytest.raises(AppendOnlyError):
            obj.delete()
    with pytest.raises(AppendOnlyError):
        ReplySubmission.objects.update(text="rewritten")
    with pytest.raises(AppendOnlyError):
        ReplySubmission.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ReplyDecision.objects.update(sender_verified=True)
    with pytest.raises(AppendOnlyError):
        ReplyDecision.objects.all().delete()
    assert ReplySubmission.objects.get().text == "We ratified on 1 May."
    assert not ReplyDecision.objects.get().sender_verified


def test_one_decision_per_submission_and_a_rejection_has_a_reason(commitment):
    submission = waiting(commitment)
    by = UserFactory(is_staff=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplyDecision.objects.create(submission=submission, outcome="rejected", decided_by=by)
    decide(submission, ReplyOutcome.FOLLOW_UP, by=by)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplyDecision.objects.create(submission=submission, outcome="published", decided_by=by)


# --- Moderation --------------------------------------------------------------------------------


def test_the_queue_shows_each_waiting_reply_in_full_to_moderators(editor_client, commitment):
    waiting(commitment, text=f"Waiting {PAYLOAD}")
    html = editor_client.get("/staff/replies/").content.decode()
    assert EMAIL in html
    assert NAME in html
    assert ESCAPED_MARKER in html
    assert RAW_MARKER not in html
    assert "Publish as a reply" in html
    assert "Turn into a follow-up" in html


def test_the_staff_page_links_the_queue_with_its_count_for_moderators_only(client, commitment):
    waiting(commitment)
    waiting(commitment)
    client.force_login(member_of("editors"))
    assert "2 waiting" in client.get("/staff/").content.decode()
    client.force_login(member_of("viewers"))
    assert "/staff/replies/" not in client.get("/staff/").content.decode()
    assert client.get("/staff/replies/").status_code == 403


def test_publishing_shows_the_reply_everywhere_public_without_the_senders_details(
    editor_client, commitment, committed
):
    submission = waiting(commitment, text=f"Published {PAYLOAD}")
    anonymous = Client()
    anonymous.get(commitment.get_absolute_url())  # in the page cache before the decision
    with committed():
        response = editor_client.post(
            f"/staff/replies/{submission.pk}/publish/", {f"r{submission.pk}-sender_verified": "on"}
        )
    assert response.status_code == 302
    decision = ReplyDecision.objects.get()
    assert decision.outcome == ReplyOutcome.PUBLISHED
    assert decision.sender_verified
    outputs = public_outputs(anonymous, commitment)
    page = outputs[commitment.get_absolute_url()]
    assert "Reply from Ministry of Foreign Affairs," in page  # the cached page was outdated
    assert "sender verified by staff" in page
    assert ESCAPED_MARKER in page
    assert 'href="https://example.org/ratified"' in page
    for url, text in outputs.items():
        assert EMAIL not in text, url
        assert NAME not in text, url
        if url != "/":
            assert "Published" in text, url
        if "data/" not in url:
            assert RAW_MARKER not in text, url
    record = json.loads(outputs["/data/replies.json"])["replies"][0]
    assert record["organisation"] == "Ministry of Foreign Affairs"
    assert record["sender_verified"] is True
    assert record["writes_for_delegation"] is False
    assert "email" not in record
    assert "name" not in record
    # The sender is told, in a second message.
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert "is published" in mail.outbox[0].subject
    assert "Staff verified who sent it" in mail.outbox[0].body


def test_an_unverified_reply_says_so(editor_client, commitment):
    submission = waiting(commitment)
    editor_client.post(f"/staff/replies/{submission.pk}/publish/")
    page = Client().get(commitment.get_absolute_url()).content.decode()
    assert "sender not verified" in page
    assert "sender verified by staff" not in page


def test_a_published_reply_changes_no_verdict_or_figure(editor_client, commitment):
    record_follow_up(
        commitment, status=Status.IN_PROGRESS, by=UserFactory(is_staff=True), public_note="x"
    )
    before = list(CommitmentState.objects.values())
    submission = waiting(commitment)
    editor_client.post(f"/staff/replies/{submission.pk}/publish/")
    assert list(CommitmentState.objects.values()) == before
    assert FollowUp.objects.count() == 1


def test_a_published_reply_on_a_commitment_later_unpublished_is_not_shown(commitment):
    decide(waiting(commitment), ReplyOutcome.PUBLISHED, by=UserFactory(is_staff=True))
    type(commitment).objects.filter(pk=commitment.pk).update(published=False)
    assert "Ministry" not in Client().get("/data/replies.csv").getvalue().decode()
    assert "Ministry" not in Client().get("/feed/").content.decode()


def test_a_rejection_needs_a_reason_and_sends_it_to_the_sender(
    editor_client, commitment, committed
):
    submission = waiting(commitment)
    with committed():
        refused = editor_client.post(f"/staff/replies/{submission.pk}/reject/")
    assert refused.status_code == 422
    assert "Give the reason" in refused.content.decode()
    assert not ReplyDecision.objects.exists()
    assert not mail.outbox
    with committed():
        response = editor_client.post(
            f"/staff/replies/{submission.pk}/reject/", {f"r{submission.pk}-reason": "Not about it."}
        )
    assert response.status_code == 302
    assert ReplyDecision.objects.get().outcome == ReplyOutcome.REJECTED
    assert "was not published" in mail.outbox[0].subject
    assert "Not about it." in mail.outbox[0].body
    for url, text in public_outputs(Client(), commitment).items():
        assert "ratified on 1 May" not in text, url
        assert "Not about it." not in text, url


def test_turning_a_reply_into_a_follow_up_opens_the_staff_form_pre_filled(
    editor_client, commitment, committed
):
    submission = waiting(commitment, language="fr", text="Nous avons ratifié.")
    url = f"/staff/replies/{submission.pk}/follow-up/"
    assert editor_client.get(url).status_code == 404  # not decided yet
    with committed():
        response = editor_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == url
    assert ReplyDecision.objects.get().outcome == ReplyOutcome.FOLLOW_UP
    # The sender's message is in the language they wrote in.
    assert "devient un suivi" in mail.outbox[0].subject
    form = editor_client.get(url)
    assert form.status_code == 200
    html = form.content.decode()
    p = f"c{commitment.pk}"
    # The text in the French note (the language it was written in), and the evidence link.
    assert f'name="{p}-public_note_fr"' in html
    assert ">\nNous avons ratifié.</textarea>" in html
    assert 'value="https://example.org/ratified"' in html
    assert f'action="/staff/commitments/{commitment.reference}/follow-ups/"' in html
    # Nothing is public until the follow-up is recorded, through the usual form.
    assert "Nous avons" not in Client().get(commitment.get_absolute_url()).content.decode()
    recorded = editor_client.post(
        f"/staff/commitments/{commitment.reference}/follow-ups/",
        {
            f"{p}-version": commitment.version,
            f"{p}-status": Status.IN_PROGRESS,
            f"{p}-happened_on": "2013-03-01",
            f"{p}-public_note_fr": "Nous avons ratifié.",
        },
    )
    assert recorded.status_code == 302
    # A change of status: it waits for a second reviewer like any other (SECOND_REVIEW).
    assert not FollowUp.objects.exists()
    assert ProposedFollowUp.objects.pending().get().public_note_fr == "Nous avons ratifié."
    assert "Nous avons" not in Client().get(commitment.get_absolute_url()).content.decode()


def test_a_second_decision_is_refused_with_a_message(editor_client, commitment, committed):
    submission = waiting(commitment)
    decide(submission, ReplyOutcome.REJECTED, by=UserFactory(is_staff=True), reason="No.")
    with committed():
        response = editor_client.post(f"/staff/replies/{submission.pk}/publish/", follow=True)
    assert "was already decided" in response.content.decode()
    assert ReplyDecision.objects.get().outcome == ReplyOutcome.REJECTED
    assert not mail.outbox
    assert "ratified on 1 May" not in Client().get(commitment.get_absolute_url()).content.decode()


def test_a_viewer_may_not_moderate(client, commitment):
    submission = waiting(commitment)
    client.force_login(member_of("viewers"))
    for action in ("publish", "reject", "follow-up"):
        assert client.post(f"/staff/replies/{submission.pk}/{action}/").status_code == 403
    assert not ReplyDecision.objects.exists()


def test_a_mail_server_down_loses_no_decision(editor_client, commitment, settings, committed):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    submission = waiting(commitment)
    with committed():
        response = editor_client.post(f"/staff/replies/{submission.pk}/publish/")
    assert response.status_code == 302
    assert ReplyDecision.objects.get().outcome == ReplyOutcome.PUBLISHED


# --- Open data ---------------------------------------------------------------------------------


def test_the_replies_export_is_the_documented_stable_schema(client, commitment):
    from pathlib import Path

    from commitments.exports import REPLY_FIELDS

    decide(waiting(commitment), ReplyOutcome.PUBLISHED, by=UserFactory(is_staff=True))
    body = client.get("/data/replies.csv").getvalue().decode()
    assert body.lstrip("\ufeff").splitlines()[0].split(",") == [
        "id", "commitment", "commitment_url", "organisation", "writes_for_delegation",
        "sender_verified", "text", "evidence_url", "language", "sent_on", "published_at",
    ]  # fmt: skip
    assert body.lstrip("\ufeff").splitlines()[0].split(",") == REPLY_FIELDS
    docs = (Path(__file__).resolve().parents[1] / "docs" / "open-data.md").read_text("utf-8")
    for name in REPLY_FIELDS:
        assert f"| `{name}` |" in docs, name


def test_the_replies_export_takes_the_dashboards_filters_and_viewpoint(client, commitment):
    other = CommitmentFactory(reference="XYZ-2012-01")
    by = UserFactory(is_staff=True)
    decide(waiting(commitment, organisation="First"), ReplyOutcome.PUBLISHED, by=by)
    decide(waiting(other, organisation="Second"), ReplyOutcome.PUBLISHED, by=by)

    def organisations(query):
        data = json.loads(client.get(f"/data/replies.json?{query}").content)
        return [row["organisation"] for row in data["replies"]]

    assert organisations("") == ["First", "Second"]
    assert organisations(f"theme={commitment.theme.slug}") == ["First"]
    assert organisations("known_on=2020-01-01") == []  # published since
    assert organisations("as_of=2020-01-01") == []  # sent since


def test_feeds_with_replies_are_well_formed_atom(client, commitment, settings):
    import feedparser

    settings.SITE_URL = "https://ccm.example.org"
    record_follow_up(
        commitment, status=Status.IN_PROGRESS, by=UserFactory(is_staff=True), public_note="x"
    )
    decide(waiting(commitment, text=PAYLOAD), ReplyOutcome.PUBLISHED, by=UserFactory(is_staff=True))
    for url, unverified in (
        ("/feed/", "Sender not verified by staff."),
        (f"{commitment.get_absolute_url()}feed/", "Sender not verified by staff."),
        ("/fr/feed/", "Expéditeur non vérifié par l’équipe."),
    ):
        feed = feedparser.parse(client.get(url).content)
        assert feed.bozo == 0, (url, feed.get("bozo_exception"))
        assert len(feed.entries) == 2, url
        reply = next(e for e in feed.entries if ":reply:" in e.id)
        assert reply.id.startswith("tag:ccmtracker,2012:reply:")
        assert reply.author == "ccmtracker"
        assert reply.updated
        assert unverified in reply.summary
        assert RAW_MARKER not in client.get(url).content.decode()


def test_as_known_on_a_moment_only_replies_published_by_then_show(client, commitment):
    from django.utils import timezone

    by = UserFactory(is_staff=True)
    decide(waiting(commitment, organisation="Early"), ReplyOutcome.PUBLISHED, by=by)
    moment = timezone.now().replace(microsecond=0)  # "as recorded" by the end of this second
    time.sleep(1.1)
    waiting(commitment, organisation="Still waiting")
    rejected = waiting(commitment, organisation="Turned down")
    decide(rejected, ReplyOutcome.REJECTED, by=by, reason="No.")
    decide(waiting(commitment, organisation="Later"), ReplyOutcome.PUBLISHED, by=by)
    known = f"known_on={moment:%Y-%m-%dT%H:%M:%SZ}"
    page = client.get(f"{commitment.get_absolute_url()}?{known}").content.decode()
    data = client.get(f"/data/replies.json?{known}").content.decode()
    for text in (page, data):
        assert "Early" in text
        assert "Still waiting" not in text
        assert "Turned down" not in text
        assert "Later" not in text  # published after that moment
        assert EMAIL not in text
    assert "Later" in client.get(commitment.get_absolute_url()).content.decode()
    before = client.get(f"{commitment.get_absolute_url()}?known_on=2020-01-01").content.decode()
    assert "Early" not in before
