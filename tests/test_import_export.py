import csv as csv_module
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from tablib import Dataset

from commitments.models import Commitment, Statement
from commitments.records import record_follow_up
from commitments.resources import CommitmentResource, StatementResource

from .conftest import CANARY

pytestmark = pytest.mark.django_db


def export_csv(resource):
    return resource.export().csv


def snapshot():
    return (
        list(Statement.objects.order_by("pk").values()),
        list(Commitment.objects.order_by("pk").values()),
        list(Commitment.articles.through.objects.order_by("pk").values()),
        Commitment.history.count(),
        Statement.history.count(),
    )


def test_round_trip_changes_nothing(seeded):
    before = snapshot()
    for resource in (StatementResource(), CommitmentResource()):
        dataset = Dataset().load(export_csv(resource), format="csv")
        result = resource.import_data(dataset, dry_run=False, raise_errors=True)
        assert not result.has_errors()
        assert {row.import_type for row in result.rows} == {"skip"}
    assert snapshot() == before


def test_export_has_no_internal_notes_or_derived_state(seeded, staff_user):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    record_follow_up(commitment, status="on_track", by=staff_user, internal_note=CANARY)
    csv = export_csv(CommitmentResource())
    assert CANARY not in csv
    header = csv.splitlines()[0]
    assert header == (
        "reference,statement,theme,title,quote,kind,articles,weight,owner,next_review,published,"
        "reading,criteria,title_fr,title_es,reading_fr,reading_es,criteria_fr,criteria_es"
    )


def bad_and_good_rows():
    csv = export_csv(CommitmentResource())
    lines = csv.splitlines(keepends=True)
    header = lines[0]
    new = (
        "NOR-2012-11,norway-2012-04-16-universalisation,promotion,Promote implementation,"
        '"And in this way all states should be in a position to promote implementation and '
        'universalisation of the Convention in this way.",continuous,"6,21",1,,,0,,\r\n'
    )
    bad = new.replace("NOR-2012-11", "NOR-2012-12").replace("all states should", "all should")
    return header + new + bad, header + new


def test_import_with_a_bad_row_reports_it_and_writes_nothing(seeded):
    with_bad, _good = bad_and_good_rows()
    result = CommitmentResource().import_data(
        Dataset().load(with_bad, format="csv"),
        dry_run=False,
        rollback_on_validation_errors=True,  # as the admin's import does
    )
    assert result.has_validation_errors()
    invalid = result.invalid_rows
    assert len(invalid) == 1
    assert invalid[0].number == 2
    assert "word for word" in str(invalid[0].error_dict)
    assert not Commitment.objects.filter(reference__in=["NOR-2012-11", "NOR-2012-12"]).exists()


def test_import_of_a_changed_commitment_bumps_version_and_is_audited(seeded):
    history_before = Commitment.objects.get(reference="NOR-2012-01").history.count()
    csv = export_csv(CommitmentResource()).replace(
        "Continuous work needed for more ratifications and new accessions", "Renamed by import"
    )
    result = CommitmentResource().import_data(Dataset().load(csv, format="csv"), dry_run=False)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    assert commitment.title == "Renamed by import"
    assert commitment.version == 2
    assert commitment.history.count() == history_before + 1
    assert Commitment.objects.exclude(reference="NOR-2012-01").filter(version=1).count() == 9


# Through the admin: preview first, then confirm


def admin_import(client, csv_text):
    upload = SimpleUploadedFile("commitments.csv", csv_text.encode(), content_type="text/csv")
    return client.post(
        "/admin/commitments/commitment/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )


def test_admin_import_previews_and_refuses_a_file_with_a_bad_row(client, administrator, seeded):
    client.force_login(administrator)
    with_bad, _good = bad_and_good_rows()
    response = admin_import(client, with_bad)
    html = response.content.decode()
    assert response.status_code == 200
    assert "word for word" in html
    assert 'name="confirm' not in html
    assert "Confirm import" not in html
    assert not Commitment.objects.filter(reference="NOR-2012-11").exists()


def test_admin_import_of_a_good_file_previews_then_applies_on_confirm(
    client, administrator, seeded
):
    client.force_login(administrator)
    _bad, good = bad_and_good_rows()
    preview = admin_import(client, good)
    html = preview.content.decode()
    assert "Confirm import" in html
    assert not Commitment.objects.filter(reference="NOR-2012-11").exists()  # dry run
    form = preview.context["confirm_form"]
    confirm = client.post("/admin/commitments/commitment/process_import/", form.initial)
    assert confirm.status_code == 302
    created = Commitment.objects.get(reference="NOR-2012-11")
    assert created.published is False
    assert sorted(a.number for a in created.articles.all()) == [6, 21]
    assert {r.history_user for r in created.history.all()} == {administrator}


def test_editors_and_viewers_may_export_but_not_import(client, editor, viewer, seeded):
    for user in (editor, viewer):
        client.force_login(user)
        assert client.get("/admin/commitments/commitment/import/").status_code == 403
        assert client.get("/admin/commitments/statement/import/").status_code == 403
        assert client.get("/admin/commitments/commitment/export/").status_code == 200


# Issue 13: each text's French and Spanish versions have columns of their own


def import_csv(resource, csv, dry_run=False):
    return resource.import_data(
        Dataset().load(csv, format="csv"), dry_run=dry_run, rollback_on_validation_errors=True
    )


def edited(csv, changes):
    """`csv` with {(row index, column): new value} written into its cells."""
    rows = list(csv_module.DictReader(io.StringIO(csv)))
    for (index, column), value in changes.items():
        rows[index][column] = value
    out = io.StringIO()
    writer = csv_module.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def english_only(csv):
    """The file as it was written before the language columns: their cells dropped."""
    dataset = Dataset().load(csv, format="csv")
    for header in list(dataset.headers):
        if header.endswith(("_fr", "_es")):
            del dataset[header]
    return dataset.csv


def test_import_with_language_columns_writes_each_version_into_its_own_column(seeded):
    before = Commitment.objects.get(reference="NOR-2012-01")
    csv = export_csv(CommitmentResource())
    assert before.title_fr in csv
    assert before.title_es in csv
    csv = csv.replace(before.title_fr, "Titre importé").replace(before.title_es, "Título importado")
    with translation.override("fr"):  # a staff member whose session is in French
        result = import_csv(CommitmentResource(), csv)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    after = Commitment.objects.get(reference="NOR-2012-01")
    assert (after.title_en, after.title_fr, after.title_es) == (
        before.title_en,
        "Titre importé",
        "Título importado",
    )
    assert after.criteria_fr == before.criteria_fr
    # The round trip: what was imported is exported, and importing it again changes nothing.
    again = export_csv(CommitmentResource())
    assert "Titre importé" in again
    assert {row.import_type for row in import_csv(CommitmentResource(), again).rows} == {"skip"}


def test_a_row_without_its_english_title_is_refused_even_with_a_french_one(seeded):
    before = snapshot()
    csv = edited(export_csv(CommitmentResource()), {(1, "title"): ""})
    with translation.override("fr"):
        result = import_csv(CommitmentResource(), csv)
    assert [row.number for row in result.invalid_rows] == [2]
    assert "title" in result.invalid_rows[0].error_dict
    assert snapshot() == before


def test_an_empty_language_cell_is_no_version(seeded):
    csv = export_csv(CommitmentResource())
    first = next(csv_module.DictReader(io.StringIO(csv)))["reference"]
    result = import_csv(CommitmentResource(), edited(csv, {(0, "title_fr"): "  "}))
    assert not result.has_validation_errors()
    commitment = Commitment.objects.get(reference=first)
    assert commitment.title_fr is None  # as the staff forms store it
    assert commitment.title_en


def test_a_french_session_imports_the_unsuffixed_columns_as_the_english_original(seeded):
    before = Commitment.objects.get(reference="NOR-2012-01")
    csv = english_only(export_csv(CommitmentResource())).replace(before.title_en, "Renamed")
    assert "title_fr" not in csv.splitlines()[0]  # a file written before issue 13
    with translation.override("fr"):
        result = import_csv(CommitmentResource(), csv)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    after = Commitment.objects.get(reference="NOR-2012-01")
    assert (after.title_en, after.title_fr, after.title_es) == (
        "Renamed",
        before.title_fr,
        before.title_es,
    )
    # …and exports the English as English, whatever the session.
    with translation.override("es"):
        rows = list(csv_module.DictReader(io.StringIO(export_csv(CommitmentResource()))))
    row = next(row for row in rows if row["reference"] == "NOR-2012-01")
    assert (row["title"], row["title_fr"], row["title_es"]) == (
        "Renamed",
        before.title_fr,
        before.title_es,
    )


def test_statements_import_their_language_columns(seeded):
    statement = Statement.objects.get()
    csv = export_csv(StatementResource())
    header = csv.splitlines()[0].split(",")
    assert header[-8:] == [
        "title_fr", "title_es", "delegation_fr", "delegation_es",
        "meeting_fr", "meeting_es", "place_fr", "place_es",
    ]  # fmt: skip
    # The delegation's names are the delegation's (issue 14): written, and ignored on import.
    assert "Norway,NOR," in csv
    assert "Norvège,Noruega" in csv
    changed_csv = edited(csv, {(0, "place_es"): "Oslo (Noruega)", (0, "delegation_fr"): "Norge"})
    with translation.override("fr"):
        result = import_csv(StatementResource(), changed_csv)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    after = Statement.objects.get()
    assert (after.place_en, after.place_es) == (statement.place_en, "Oslo (Noruega)")
    assert after.delegation == statement.delegation
    assert after.delegation.version_of("name", "fr") == "Norvège"


def test_a_bad_language_cell_is_a_row_error_and_nothing_is_written(seeded):
    before = snapshot()
    csv = edited(
        export_csv(CommitmentResource()),
        {(0, "title_fr"): "Nouveau titre", (1, "title_es"): "x" * 201},  # good, then too long
    )
    result = import_csv(CommitmentResource(), csv)
    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert "title_es" in result.invalid_rows[0].error_dict
    assert snapshot() == before  # all or nothing
