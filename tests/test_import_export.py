import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
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
