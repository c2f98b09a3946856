from itertools import groupby

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment, ReminderLog


class Command(BaseCommand):
    help = (
        "E-mail each owner the list of their commitments past review date. At most one "
        "e-mail a day per owner, however often it runs. Schedule it daily (see README)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="",
            help="Site address to put in front of links, e.g. https://tracker.example.org",
        )

    def handle(self, *args, base_url="", **options):
        today = timezone.localdate()
        overdue = (
            Commitment.objects.overdue(today)
            .filter(owner__isnull=False, owner__is_active=True)
            .exclude(owner__email="")
            .exclude(owner__review_reminder__last_sent_on__gte=today)
            .select_related("owner")
            .order_by("owner_id", "next_review", "reference")
        )
        sent = 0
        for owner, group in groupby(overdue, key=lambda c: c.owner):
            commitments = list(group)
            lines = [
                f"- {c.reference} {c.title} (review was due {c.next_review:%d %B %Y}): "
                f"{base_url}{reverse('admin:commitments_commitment_change', args=[c.pk])}"
                for c in commitments
            ]
            body = (
                f"Hello {owner.get_full_name() or owner.username},\n\n"
                f"These commitments you own are past their review date:\n\n"
                + "\n".join(lines)
                + f"\n\nYour work on the staff page: {base_url}{reverse('staff_home')}\n"
            )
            # Record the day first, in the same transaction: if sending fails the record
            # rolls back and the next run tries again; a success is never sent twice.
            with transaction.atomic():
                ReminderLog.objects.update_or_create(owner=owner, defaults={"last_sent_on": today})
                send_mail(
                    f"[ccmtracker] {len(commitments)} commitment(s) past review date",
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    [owner.email],
                )
            sent += 1
        self.stdout.write(f"Sent {sent} reminder(s).")
