"""The senders' personal data (commitments/replies.py, erase_senders, and the
erase_reply_senders command): a reply sender's name and e-mail address are erased
REPLY_SENDER_RETENTION_DAYS after the decision, or at once on request; nothing else about a
reply changes, and a sender erased before the decision is not written to."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from commitments.models import AppendOnlyError, ReplyDecision, ReplyOutcome, ReplySubmission
from commitments.replies import erase_senders

from .conftest import member_of
from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "sender-3f9a@example.org"
NAME = "Sender Name-3f9a"


@pytest.fixture
def commitment():
    return CommitmentFactory(reference="NOR-2012-01")


def sent(commitment, email=EMAIL, **fields):
    values = {"name": NAME, "organisation": "Mission of Norway", "text": "We ratified."}
    return ReplySubmission.objects.create(
        commitment=commitment, email=email, language="en", **{**values, **fields}
    )


def decided(commitment, days_ago, outcome=ReplyOutcome.PUBLISHED, **fields):
    """A submission decided `days_ago` (the decision recorded as made then)."""
    submission = sent(commitment, **fields)
    ReplyDecision.objects.create(
        submission=submission,
        outcome=outcome,
        reason="Off topic." if outcome == ReplyOutcome.REJECTED else "",
        decided_by=UserFactory(is_staff=True),
        decided_at=timezone.now() - datetime.timedelta(days=days_ago),
    )
    return submission


def erase(*args):
    out = io.StringIO()
    call_command("erase_reply_senders", *args, stdout=out)
    return out.getvalue()


def details(submission):
    submission = ReplySubmission.objects.get(pk=submission.pk)
    return submission.name, submission.email, submission.sender_erased_at


def test_a_senders_details_are_erased_once_the_decision_is_past_the_retention(commitment, settings):
    settings.REPLY_SENDER_RETENTION_DAYS = 30
    old_published = decided(commitment, days_ago=31)
    old_rejected = decided(commitment, days_ago=45, outcome=ReplyOutcome.REJECTED)
    recent = decided(commitment, days_ago=29)
    waiting_long = sent(commitment, submitted_at=timezone.now() - datetime.timedelta(days=400))

    assert erase("--dry-run") == (
        "Would erase the sender's name and e-mail address of 2 replies.\n"
    )
    assert details(old_published)[:2] == (NAME, EMAIL)  # a dry run changes nothing

    assert erase() == "Erased the sender's name and e-mail address of 2 replies.\n"
    for submission in (old_published, old_rejected):
        name, email, erased_at = details(submission)
        assert (name, email) == ("", "")
        assert erased_at is not None
    # Still needed: a recent decision, and a reply still waiting (its sender is to be told).
    assert details(recent)[:2] == (NAME, EMAIL)
    assert details(waiting_long)[:2] == (NAME, EMAIL)
    # Run again: nothing more to do, and the first erasure's date stands.
    first = details(old_published)[2]
    assert erase() == "Erased the sender's name and e-mail address of 0 replies.\n"
    assert details(old_published)[2] == first


def test_what_was_sent_the_organisation_and_the_decision_stay(commitment, settings):
    settings.REPLY_SENDER_RETENTION_DAYS = 1
    submission = decided(commitment, days_ago=2, evidence_url="https://example.org/r")
    erase()
    kept = ReplySubmission.objects.select_related("decision").get(pk=submission.pk)
    assert kept.text == "We ratified."
    assert kept.organisation == "Mission of Norway"
    assert kept.evidence_url == "https://example.org/r"
    assert kept.decision.outcome == ReplyOutcome.PUBLISHED
    # Still published, from the organisation, as before.
    page = Client().get(commitment.get_absolute_url()).content.decode()
    assert "We ratified." in page
    assert "Reply from Mission of Norway" in page


def test_0_keeps_them_until_a_sender_asks(commitment, settings):
    settings.REPLY_SENDER_RETENTION_DAYS = 0
    submission = decided(commitment, days_ago=4000)
    assert erase() == "Erased the sender's name and e-mail address of 0 replies.\n"
    assert details(submission)[:2] == (NAME, EMAIL)


def test_a_sender_who_asks_is_erased_from_every_reply_at_once(commitment, settings):
    settings.REPLY_SENDER_RETENTION_DAYS = 365
    mine = [decided(commitment, days_ago=1), sent(commitment, email=EMAIL.upper())]
    other = sent(commitment, email="someone-else@example.org")
    assert erase("--email", f" {EMAIL} ") == (
        "Erased the sender's name and e-mail address of 2 replies.\n"
    )
    assert [details(s)[:2] for s in mine] == [("", ""), ("", "")]
    assert details(other)[:2] == (NAME, "someone-else@example.org")


def test_a_malformed_address_is_refused_and_changes_nothing(commitment):
    submission = sent(commitment)
    with pytest.raises(CommandError, match="Not an e-mail address"):
        erase("--email", "not-an-address")
    assert details(submission)[:2] == (NAME, EMAIL)


def test_a_sender_erased_before_the_decision_is_not_written_to_and_the_queue_says_so(
    client, commitment, django_capture_on_commit_callbacks
):
    submission = sent(commitment)
    erase("--email", EMAIL)
    client.force_login(member_of("editors"))
    html = client.get("/staff/replies/").content.decode()
    assert "Name and e-mail address erased on" in html
    assert NAME not in html
    assert 'href="mailto:' not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/replies/{submission.pk}/reject/", {f"r{submission.pk}-reason": "Off topic."}
        )
    assert response.status_code == 302
    assert ReplyDecision.objects.get().outcome == ReplyOutcome.REJECTED
    assert mail.outbox == []


def test_erasure_is_the_only_change_history_allows(commitment):
    submission = sent(commitment)
    erase_senders(ReplySubmission.objects.filter(pk=submission.pk))
    submission = ReplySubmission.objects.get(pk=submission.pk)
    submission.name = "Someone"
    with pytest.raises(AppendOnlyError):
        submission.save()
    with pytest.raises(AppendOnlyError):
        ReplySubmission.objects.update(text="rewritten")
    assert details(submission)[:2] == ("", "")


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "email": EMAIL},  # a blank without the erasure's date
        {"name": NAME, "email": ""},
        {"sender_erased_at": "2026-01-01T00:00Z"},  # a date without the blanks
    ],
)
def test_the_database_refuses_a_half_erased_sender(commitment, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        sent(commitment, **fields)
