"""Reference data shipped with the app, each file with its source: the states
(states.json, migration 0014) and the Convention's meetings (meetings.json)."""

import datetime
import json
from pathlib import Path

MEETINGS = Path(__file__).resolve().parent / "meetings.json"


def add_missing_meetings(Meeting):
    """Add the meetings of meetings.json whose code is not in the database; change none that
    is (staff may have corrected it). `Meeting`: the model, or a migration's historical copy
    (only the fields every version has are written). The one writer of meetings.json's rows:
    the data migration and the seed command both call it. Returns how many were added."""
    known = set(Meeting.objects.values_list("code", flat=True))
    new = []
    for row in json.loads(MEETINGS.read_text(encoding="utf-8"))["meetings"]:
        if row["code"] in known:
            continue
        names = {f"name_{code}": text for code, text in row["name"].items()}
        places = {f"place_{code}": text for code, text in row["place"].items()}
        new.append(
            Meeting(
                code=row["code"],
                kind=row["kind"],
                # The unsuffixed columns are the library's proxy; English is the original.
                name=row["name"]["en"],
                place=row["place"]["en"],
                **names,
                **places,
                start=datetime.date.fromisoformat(row["start"]),
                end=datetime.date.fromisoformat(row["end"]),
                source_url=row["source_url"],
            )
        )
    Meeting.objects.bulk_create(new)
    return len(new)
