from django.core.management.base import BaseCommand, CommandError

from commitments.changes import public_data_changed
from commitments.progress import differences, rebuild


class Command(BaseCommand):
    help = (
        "Write the stored progress history (steps and daily/monthly totals) anew from the "
        "commitments and their follow-ups. Needed only after loading rows in bulk, bypassing "
        "the models' save methods; running it at any time changes no figure. With --check, "
        "only compare and fail if the stored history is out of step."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Compare only; exit 1 if anything differs."
        )

    def handle(self, *args, check=False, **options):
        if check:
            steps, totals = differences()
            if steps or totals:
                raise CommandError(
                    f"The stored progress history is out of step: {len(steps)} commitment(s), "
                    f"{len(totals)} total(s). Run `manage.py rebuild_progress` to repair it."
                )
            self.stdout.write("The stored progress history matches the follow-ups.")
            return
        steps = rebuild()
        public_data_changed()
        self.stdout.write(f"Progress history rebuilt: {steps} step(s).")
