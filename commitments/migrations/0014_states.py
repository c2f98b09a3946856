"""The states that can join the Convention (commitments/data/states.json, with its source).
Adds those missing and changes none that staff have edited; reversing removes nothing."""

import json
from pathlib import Path

from django.db import migrations

STATES = Path(__file__).resolve().parent.parent / "data" / "states.json"


def add_states(apps, schema_editor):
    State = apps.get_model("commitments", "State")
    known = set(State.objects.values_list("country", flat=True))
    State.objects.bulk_create(
        State(country=row["country"], region=row["region"])
        for row in json.loads(STATES.read_text())["states"]
        if row["country"] not in known
    )


class Migration(migrations.Migration):
    dependencies = [("commitments", "0013_states_meetings_delegations")]

    operations = [migrations.RunPython(add_states, migrations.RunPython.noop)]
