import os
import sqlite3

# bandit B404: runs pg_restore, found on PATH, with a fixed argument list.
import subprocess  # nosec B404
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from commitments.derived import install_triggers, rebuild
from commitments.records import changed

from .backup import pg_tool, postgres_env, sqlite_integrity


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a backup written by `manage.py backup`. "
        "Stop the app servers first; run `manage.py migrate` afterwards if the code is newer."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm."
        )

    def handle(self, *args, path, interactive=True, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No backup at {source}.")
        name = connection.settings_dict["NAME"]
        if interactive:
            answer = input(f"Replace everything in the database {name} with {source}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Restore cancelled; nothing was changed.")
        vendor = connection.vendor
        if vendor == "sqlite":
            self.restore_sqlite(source)
        elif vendor == "postgresql":
            self.restore_postgres(source)
        else:
            raise CommandError(f"No restore method for the {vendor} database.")
        # The backup's derived copies are re-derived and the cached pages outdated: the
        # database's contents changed underneath every server.
        install_triggers()
        rebuild()
        changed()
        self.stdout.write(self.style.SUCCESS(f"Restored {name} from {source}"))

    def restore_sqlite(self, source: Path):
        result = sqlite_integrity(source)
        if result != "ok":
            raise CommandError(f"The backup failed its integrity check, nothing changed: {result}")
        connection.close()
        connection.ensure_connection()
        backup = sqlite3.connect(source)
        try:
            # The online backup API in reverse: the live database is replaced in one step.
            backup.backup(connection.connection)
        finally:
            backup.close()

    def restore_postgres(self, source: Path):
        command = [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            connection.settings_dict["NAME"],
            str(source),
        ]
        connection.close()
        # A fixed argument list, no shell; connection details travel in libpq's variables.
        result = subprocess.run(  # noqa: S603  # nosec B603
            command, env={**os.environ, **postgres_env()}, capture_output=True
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.decode(errors='replace')}")
