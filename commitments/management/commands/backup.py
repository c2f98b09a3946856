import os
import shutil
import sqlite3

# bandit B404: runs pg_dump, found on PATH, with a fixed argument list.
import subprocess  # nosec B404
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone


def default_path(suffix: str) -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BASE_DIR) / "var" / "backups" / f"ccmtracker-{stamp}{suffix}"


def postgres_env() -> dict:
    """libpq's own variables, so the password never appears on a command line."""
    db = connection.settings_dict
    env = {
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
        "PGPASSWORD": db.get("PASSWORD") or "",
        "PGDATABASE": db["NAME"],
    }
    return {key: value for key, value in env.items() if value}


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"{name} was not found. Install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) whose major version matches the server."
        )
    return path


def sqlite_integrity(path: Path) -> str:
    check = sqlite3.connect(path)
    try:
        return check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database while the app runs: SQLite through its "
        "online backup API (checked with PRAGMA integrity_check), PostgreSQL with pg_dump -Fc. "
        "Restore it with `manage.py restore PATH`."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="Where to write it (default: var/backups/).")

    def handle(self, *args, path=None, **options):
        vendor = connection.vendor
        if vendor == "sqlite":
            target = Path(path) if path else default_path(".sqlite3")
            self.backup_sqlite(target)
        elif vendor == "postgresql":
            target = Path(path) if path else default_path(".dump")
            self.backup_postgres(target)
        else:
            raise CommandError(f"No backup method for the {vendor} database.")
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target}"))
        return None

    def backup_sqlite(self, target: Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        connection.ensure_connection()
        copy = sqlite3.connect(partial)
        try:
            # Copies page by page under SQLite's locks: consistent even while others write.
            connection.connection.backup(copy)
        finally:
            copy.close()
        result = sqlite_integrity(partial)
        if result != "ok":
            partial.unlink()
            raise CommandError(f"The copy failed its integrity check: {result}")
        partial.replace(target)

    def backup_postgres(self, target: Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        command = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
        # A fixed argument list, no shell; connection details travel in libpq's variables.
        result = subprocess.run(  # noqa: S603  # nosec B603
            command, env={**os.environ, **postgres_env()}, capture_output=True
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.decode(errors='replace')}")
