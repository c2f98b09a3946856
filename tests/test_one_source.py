"""Every public figure equals a recompute from the follow-ups alone, whatever path wrote them.

The oracle here is deliberately naive and independent of commitments/derived.py: plain Python
over the rows of the follow-ups and commitments. Each write path of the issue — model save and
delete, queryset update and delete, bulk_create, raw SQL, loaddata, the CSV import, a restore,
a migration — is driven, and then the dashboard (overall, themes, status counts), a
statement's page, the chart's points and the CSV export are compared with it, without any
explicit sync: the public reads must bring the stored copies up to date themselves.
"""

import csv
import datetime
import io
import json
import os
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from tablib import Dataset

from commitments import derived
from commitments.models import (
    STATUS_INFO,
    Commitment,
    FollowUp,
    Statement,
    Status,
)
from commitments.records import record_follow_up
from commitments.resources import CommitmentResource

from .factories import CommitmentFactory, UserFactory

D = datetime.date


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    # The figures, not the cache, are under test here (tests/test_cache.py has the cache).
    settings.PAGE_CACHE_SECONDS = 0


# --- the oracle ----------------------------------------------------------------------------


def _effective(status, progress):
    if status == Status.NOT_ASSESSED:
        return None
    return progress if progress is not None else STATUS_INFO[Status(status)].default_progress


def recompute(as_at=None, known_before=None):
    """{reference: (status, effective progress, date of latest evidence)} for every published
    commitment made by `as_at`, from the follow-ups that had happened by then (and had been
    recorded before `known_before`)."""
    rows = defaultdict(list)
    for f in FollowUp.objects.values(
        "commitment_id", "happened_on", "recorded_at", "id", "status", "progress"
    ):
        if as_at is not None and f["happened_on"] > as_at:
            continue
        if known_before is not None and f["recorded_at"] >= known_before:
            continue
        rows[f["commitment_id"]].append(f)
    states = States()
    states.day = as_at or timezone.localdate()
    for c in Commitment.objects.filter(published=True).values(
        "pk", "reference", "statement__date", "created_at"
    ):
        if as_at is not None and c["statement__date"] > as_at:
            continue
        if known_before is not None and c["created_at"] >= known_before:
            continue
        mine = rows.get(c["pk"])
        if not mine:
            states[c["reference"]] = (Status.NOT_ASSESSED.value, None, None)
            continue
        latest = max(mine, key=lambda f: (f["happened_on"], f["recorded_at"], f["id"]))
        states[c["reference"]] = (
            latest["status"],
            _effective(latest["status"], latest["progress"]),
            latest["happened_on"],
        )
    return states


class States(dict):
    """{reference: (status, effective progress, latest evidence)} as seen on `day`."""

    day = None


def _lapsed(status, evidence, day):
    """Written apart from the app's rule on purpose: a 12-month window after the latest
    evidence (the default setting), "achieved" and "not assessed" never lapse."""
    if status in ("achieved", "not_assessed") or evidence is None:
        return False
    try:
        last_day = evidence.replace(year=evidence.year + 1)
    except ValueError:  # 29 February
        last_day = evidence.replace(year=evidence.year + 1, day=28)
    return day > last_day


def figures(states, references=None):
    """(percent, assessed and confirmed, unassessed, {verdict: count}) over some commitments,
    as seen on the day of `states`."""
    weights = dict(Commitment.objects.values_list("reference", "weight"))
    weighted = total_weight = assessed = unassessed = 0
    counts = defaultdict(int)
    for reference, (status, progress, day) in states.items():
        if references is not None and reference not in references:
            continue
        lapsed = _lapsed(status, day, states.day)
        counts["not_confirmed" if lapsed else status] += 1
        if progress is None:
            unassessed += 1
        elif not lapsed:
            assessed += 1
            weighted += weights[reference] * progress
            total_weight += weights[reference]
    percent = round(weighted / total_weight, 1) if total_weight else None
    return percent, assessed, unassessed, dict(counts)


def summary_figures(summary):
    return summary.percent, summary.assessed, summary.unassessed, summary.verdict_counts


# --- what the public sees ------------------------------------------------------------------


def assert_public_figures_match(client):
    expected = recompute()
    # The dashboard: overall and per theme.
    response = client.get("/")
    assert response.status_code == 200
    assert summary_figures(response.context["summary"]) == figures(expected)
    by_theme = defaultdict(set)
    for reference, theme in Commitment.objects.filter(published=True).values_list(
        "reference", "theme__slug"
    ):
        by_theme[theme].add(reference)
    shown = {theme.slug: summary for theme, summary in response.context["themes"]}
    assert set(shown) == set(by_theme)
    for slug, summary in shown.items():
        assert summary_figures(summary) == figures(expected, by_theme[slug]), slug
    # Each statement's page: the state of each of its commitments.
    for statement in Statement.objects.all():
        page = client.get(statement.get_absolute_url())
        assert page.status_code == 200
        mine = statement.commitments.filter(published=True).values_list("reference", flat=True)
        assert {
            c.reference: (c.status.value, c.progress, c.last_follow_up_on)
            for c in page.context["commitments"]
        } == {reference: expected[reference] for reference in mine}
    # The CSV export: one row per published commitment, with its state.
    export = client.get("/data/commitments.csv")
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    exported = {
        row["reference"]: (
            row["status"],
            int(row["progress"]) if row["progress"] else None,
            D.fromisoformat(row["last_follow_up_on"]) if row["last_follow_up_on"] else None,
        )
        for row in csv.DictReader(io.StringIO(body))
    }
    assert exported == expected
    # The chart: on every date something happened, and the day before, the history says what
    # a recompute as at that date says.
    today = timezone.localdate()
    history = derived.progress_history(today)
    days = {
        day
        for day in FollowUp.objects.values_list("happened_on", flat=True)
        if day is not None and day <= today
    } | set(Statement.objects.values_list("date", flat=True))
    for day in sorted(days | {d - datetime.timedelta(1) for d in days}):
        points = [point for point in history if point.date <= day]
        shown_percent = points[-1].overall if points else None
        assert shown_percent == figures(recompute(day))[0], day
    # And the stored copies prove equal to a recompute.
    assert not derived.differences()


@pytest.fixture
def tracker(seeded):
    """The seed statement and ten commitments, with follow-ups on some of them."""
    user = UserFactory(is_staff=True)
    plan = [
        ("NOR-2012-01", Status.ON_TRACK, D(2012, 9, 14), None),
        ("NOR-2012-02", Status.OFF_TRACK, D(2013, 4, 1), None),
        ("NOR-2012-02", Status.ON_TRACK, D(2014, 4, 1), None),
        ("NOR-2012-03", Status.IN_PROGRESS, D(2013, 1, 10), 30),
        ("NOR-2012-07", Status.ACHIEVED, D(2015, 6, 1), None),
    ]
    for reference, status, day, progress in plan:
        commitment = Commitment.objects.get(reference=reference)
        if status not in commitment.allowed_statuses:
            status = commitment.allowed_statuses[-1]
        record_follow_up(commitment, status=status, by=user, happened_on=day, progress=progress)
    return user


# --- the write paths -----------------------------------------------------------------------


def model_save(user):
    commitment = Commitment.objects.get(reference="NOR-2012-03")
    commitment.weight = 7
    commitment.save()
    statement = Statement.objects.get()
    statement.date = D(2012, 5, 2)
    statement.save()
    FollowUp(
        commitment=Commitment.objects.get(reference="NOR-2012-05"),
        status=Status.OFF_TRACK,
        happened_on=D(2016, 2, 2),
        author=user,
    ).save()


def model_delete(user):
    Commitment.objects.get(reference="NOR-2012-04").delete()
    spare = CommitmentFactory(statement=Statement.objects.get(), weight=3)
    spare.delete()


def queryset_update(user):
    Commitment.objects.filter(reference="NOR-2012-02").update(published=False)
    Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-03"]).update(weight=5)
    Statement.objects.update(date=D(2012, 1, 20))


def queryset_delete(user):
    fresh = CommitmentFactory(statement=Statement.objects.get(), weight=4)
    record_follow_up(fresh, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 3, 3))
    # Its follow-ups go first (they protect it), then the commitment, in bulk.
    FollowUp.objects.filter(commitment=fresh)._raw_delete(connection.alias)
    Commitment.objects.filter(pk=fresh.pk).delete()
    Commitment.objects.filter(reference="NOR-2012-06").delete()


def bulk_create(user):
    commitments = list(Commitment.objects.filter(reference__in=["NOR-2012-08", "NOR-2012-09"]))
    FollowUp.objects.bulk_create(
        FollowUp(
            commitment=commitment,
            status=commitment.allowed_statuses[-1],
            happened_on=D(2014, 1, 1 + n),
            author=user,
        )
        for n, commitment in enumerate(commitments)
    )


def raw_sql(user):
    pk = Commitment.objects.get(reference="NOR-2012-10").pk
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO commitments_followup (commitment_id, status, progress, happened_on, "
            "public_note, internal_note, evidence_url, evidence_label, author_id, recorded_at) "
            "VALUES (%s, 'off_track', 10, %s, '', '', '', '', %s, %s)",
            [pk, D(2017, 3, 3), user.pk, timezone.now()],
        )
        cursor.execute("UPDATE commitments_commitment SET weight = 9 WHERE id = %s", [pk])


def loaddata(user, tmp_path):
    commitment = Commitment.objects.get(reference="NOR-2012-05")
    fixture = tmp_path / "follow-ups.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "commitments.followup",
                    "pk": 9000 + n,
                    "fields": {
                        "commitment": commitment.pk,
                        "status": "in_progress" if n else "not_started",
                        "progress": None,
                        "happened_on": f"201{3 + n}-05-05",
                        "public_note": "",
                        "internal_note": "",
                        "evidence_url": "",
                        "evidence_label": "",
                        "author": user.pk,
                        "recorded_at": "2026-01-01T00:00:00Z",
                        "commitment_version": None,
                    },
                }
                for n in range(2)
            ]
        )
    )
    call_command("loaddata", str(fixture), verbosity=0)


def csv_import(user):
    resource = CommitmentResource()
    exported = resource.export(Commitment.objects.filter(reference="NOR-2012-01")).csv
    rows = list(csv.DictReader(io.StringIO(exported)))
    rows[0].update(weight="8", published="0")
    edited = io.StringIO()
    writer = csv.DictWriter(edited, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    dataset = Dataset().load(edited.getvalue(), format="csv")
    result = resource.import_data(dataset, dry_run=False, raise_errors=True)
    assert not result.has_errors()


WRITE_PATHS = [model_save, model_delete, queryset_update, queryset_delete, bulk_create, raw_sql]


@pytest.mark.parametrize("write", WRITE_PATHS, ids=lambda f: f.__name__)
def test_every_public_figure_equals_a_recompute_after(write, client, tracker):
    assert_public_figures_match(client)
    write(tracker)
    assert_public_figures_match(client)


def test_every_public_figure_equals_a_recompute_after_loaddata(client, tracker, tmp_path):
    loaddata(tracker, tmp_path)
    assert FollowUp.objects.filter(pk=9001).exists()
    assert_public_figures_match(client)


def test_every_public_figure_equals_a_recompute_after_the_csv_import(client, tracker):
    csv_import(tracker)
    assert not Commitment.objects.get(reference="NOR-2012-01").published
    assert_public_figures_match(client)


@pytest.mark.django_db(transaction=True)
def test_every_public_figure_equals_a_recompute_after_a_restore(client, tmp_path):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True)
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-01"), status=Status.ON_TRACK, by=user
    )
    path = tmp_path / "backup.db"
    call_command("backup", str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    # After the backup: more follow-ups, which the restore takes away again.
    for reference in ("NOR-2012-02", "NOR-2012-03"):
        commitment = Commitment.objects.get(reference=reference)
        record_follow_up(commitment, status=commitment.allowed_statuses[-1], by=user)
    call_command("restore", str(path), "--no-input", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert FollowUp.objects.count() == 1
    assert_public_figures_match(client)


@pytest.mark.django_db(transaction=True)
def test_every_public_figure_equals_a_recompute_after_migrations(client):
    """A migration runs without the triggers (they come off before, go back on after, and
    everything is derived again): what it writes counts like anything else."""
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True)
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-01"), status=Status.ON_TRACK, by=user
    )
    # Read before going back: the models are the latest migration's.
    pk = Commitment.objects.get(reference="NOR-2012-02").pk
    call_command("migrate", "commitments", "0008", verbosity=0)
    derived.drop_triggers()  # as the pre_migrate signal does before a migration writes
    with connection.cursor() as cursor:  # what a data migration might do
        cursor.execute(
            "INSERT INTO commitments_followup (commitment_id, status, progress, happened_on, "
            "public_note, internal_note, evidence_url, evidence_label, author_id, recorded_at) "
            "VALUES (%s, 'off_track', NULL, %s, '', '', '', '', %s, %s)",
            [
                pk,
                D(2013, 2, 2),
                user.pk,
                timezone.now(),
            ],
        )
    assert derived.missing_triggers()
    call_command("migrate", verbosity=0)
    assert not derived.missing_triggers()
    assert_public_figures_match(client)
