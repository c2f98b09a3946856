"""Erase the personal data of the people who sent replies: their name and e-mail address.

Run daily (README, "Replies: the senders' personal data"): it erases them for replies decided
REPLY_SENDER_RETENTION_DAYS ago or more. With --email it erases them for every reply sent from
that address, decided or not, when the sender asks to be forgotten. What they sent, their
organisation and the decisions stay; a reply published stays published.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from commitments import replies


class Command(BaseCommand):
    help = (
        "Erase the name and e-mail address of reply senders: those decided "
        "REPLY_SENDER_RETENTION_DAYS ago or more, or (--email) every reply from one address."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--email",
            help="Erase every reply sent from this address, decided or waiting (on request).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say how many would be erased; change nothing."
        )

    def handle(self, *args, email=None, dry_run=False, **options):
        if email is not None:
            try:
                validate_email(email.strip())
            except ValidationError as error:
                raise CommandError(f"Not an e-mail address: {email!r}") from error
            due = replies.from_address(email)
        else:
            due = replies.past_retention()
        if dry_run:
            count = due.sender_kept().count()
            self.stdout.write(
                f"Would erase the sender's name and e-mail address of {count} replies."
            )
            return
        with transaction.atomic():
            count = replies.erase_senders(due)
        self.stdout.write(f"Erased the sender's name and e-mail address of {count} replies.")
