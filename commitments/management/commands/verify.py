from django.core.management.base import BaseCommand, CommandError

from commitments.derived import differences, install_triggers, rebuild
from commitments.records import changed


class Command(BaseCommand):
    help = (
        "Prove every stored copy derived from the follow-ups (each commitment's state, the "
        "progress history) equal to a recompute from the follow-ups alone, and the database's "
        "marking triggers in place. Exits 1 on any difference. With --repair, put back any "
        "missing trigger and write every copy anew first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Reinstall missing triggers and rewrite every derived copy, then verify.",
        )

    def handle(self, *args, repair=False, **options):
        if repair:
            installed = install_triggers()
            rebuild()
            changed()
            self.stdout.write(
                "Derived copies rewritten"
                + (f"; triggers put back: {', '.join(installed)}." if installed else ".")
            )
        found = differences()
        if found:
            lines = []
            if found.triggers:
                lines.append(f"missing triggers: {', '.join(found.triggers)}")
            if found.states:
                lines.append(f"{len(found.states)} commitment state(s) differ: {found.states[:20]}")
            if found.steps:
                lines.append(f"{len(found.steps)} commitment(s)' history steps differ")
            if found.totals:
                lines.append(f"{len(found.totals)} history total(s) differ")
            raise CommandError(
                "The stored copies do not match the follow-ups: "
                + "; ".join(lines)
                + ". Run `manage.py verify --repair`."
            )
        self.stdout.write("Every stored copy matches a recompute from the follow-ups.")
