import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from commitments.models import Commitment, ReminderLog

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def run():
    call_command("send_review_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_each_owner_gets_one_email_listing_their_overdue_commitments(seeded):
    today = timezone.localdate()
    ann = UserFactory(username="ann", email="ann@example.org")
    bob = UserFactory(username="bob", email="bob@example.org")
    Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]).update(
        owner=ann, next_review=today - datetime.timedelta(days=3)
    )
    Commitment.objects.filter(reference="NOR-2012-03").update(
        owner=ann, next_review=today + datetime.timedelta(days=3)
    )
    Commitment.objects.filter(reference="NOR-2012-04").update(
        owner=bob, next_review=today - datetime.timedelta(days=1)
    )
    Commitment.objects.filter(reference="NOR-2012-05").update(
        owner=None, next_review=today - datetime.timedelta(days=1)
    )
    run()
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.org", "bob@example.org"]
    to_ann = next(m for m in mail.outbox if m.to == ["ann@example.org"])
    assert "NOR-2012-01" in to_ann.body
    assert "NOR-2012-02" in to_ann.body
    assert "NOR-2012-03" not in to_ann.body
    assert "NOR-2012-04" not in to_ann.body
    assert "2 commitment(s) past review date" in to_ann.subject
    assert ReminderLog.objects.get(owner=ann).last_sent_on == today


def test_reminders_go_at_most_once_a_day_per_owner(seeded):
    today = timezone.localdate()
    ann = UserFactory(username="ann", email="ann@example.org")
    Commitment.objects.filter(reference="NOR-2012-01").update(
        owner=ann, next_review=today - datetime.timedelta(days=3)
    )
    run()
    run()
    assert len(mail.outbox) == 1
    ReminderLog.objects.filter(owner=ann).update(last_sent_on=today - datetime.timedelta(1))
    run()
    assert len(mail.outbox) == 2


def test_no_reminder_without_overdue_commitments_or_address(seeded):
    today = timezone.localdate()
    nomail = UserFactory(username="nomail", email="")
    Commitment.objects.filter(reference="NOR-2012-01").update(
        owner=nomail, next_review=today - datetime.timedelta(days=3)
    )
    run()
    assert mail.outbox == []
    assert not ReminderLog.objects.exists()
