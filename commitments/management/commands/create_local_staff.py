import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create a first staff login for local use and print its password once. "
        "Does nothing if a superuser already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        # `make run` serves on PORT (8000 unless given) and passes it here.
        site = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "A staff login already exists (its password was printed when it was made). "
                f"To set a new one: python manage.py changepassword {username}\n"
                f"Log in at {site}/admin/ or {site}/staff/"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                "\nFirst staff login for this machine (shown once, keep it):\n"
                f"  username: {username}\n  password: {password}\n"
                f"  log in at {site}/admin/ or {site}/staff/\n"
            )
        )
