"""Assessment criteria: written as text, one line a status; checked on every way in (admin
form, CSV import); read as a list of status → evidence."""

import pytest
from django.core.exceptions import ValidationError
from tablib import Dataset

from commitments.criteria import CRITERIA_MAX_LENGTH, parse_criteria
from commitments.models import Commitment, Kind, Status
from commitments.resources import CommitmentResource

from .factories import CommitmentFactory
from .test_admin import change_url, edit_data

pytestmark = pytest.mark.django_db

ONE_OFF = "Not started: Nothing yet.\nIn progress: A workshop is planned.\nAchieved: It was held."


def test_criteria_are_read_in_scale_order_by_label_or_code_whatever_the_case():
    criteria = parse_criteria(
        "achieved: Held, with a source.\n\n  Not started : Nothing recorded.\nin_progress: Planned."
    )
    assert [(c.status, c.evidence) for c in criteria] == [
        (Status.NOT_STARTED, "Nothing recorded."),
        (Status.IN_PROGRESS, "Planned."),
        (Status.ACHIEVED, "Held, with a source."),
    ]


def test_evidence_may_hold_colons_and_crlf_lines_read_the_same():
    criteria = parse_criteria("On track: A record: dated, with a source.\r\nOff track: None.")
    assert [(c.status, c.evidence) for c in criteria] == [
        (Status.OFF_TRACK, "None."),
        (Status.ON_TRACK, "A record: dated, with a source."),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Done: it was held.", "Line 1: start it with a status"),
        ("Achieved it was held.", "Line 1: start it with a status"),
        ("Not yet assessed: nobody looked.", "Line 1: start it with a status"),
        ("Achieved:   ", "Line 1: say what evidence would count"),
        ("Achieved: held.\n\nachieved: held again.", "Line 3: Achieved already has a line"),
    ],
)
def test_a_criteria_line_that_is_not_status_colon_evidence_is_refused(text, message):
    commitment = CommitmentFactory.build(kind=Kind.ONE_OFF, criteria=text)
    with pytest.raises(ValidationError) as error:
        commitment.full_clean(exclude=["statement", "theme"])
    assert any(message in m for m in error.value.message_dict["criteria"])


def test_blank_lines_and_spaces_around_the_status_are_allowed():
    commitment = CommitmentFactory(kind=Kind.ONE_OFF)
    commitment.criteria = "\nNot started: Nothing.\n\n  Achieved :Held.\n"
    commitment.full_clean()


def test_a_continuous_commitment_cannot_have_criteria_for_achieved():
    commitment = CommitmentFactory(kind=Kind.CONTINUOUS)
    commitment.criteria = "On track: A record.\nAchieved: Done."
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "A continuous commitment cannot be Achieved" in str(error.value.message_dict)
    commitment.criteria = "On track: A record.\nOff track: No record."
    commitment.full_clean()


def test_criteria_and_reading_longer_than_their_limits_are_refused():
    commitment = CommitmentFactory(kind=Kind.ONE_OFF)
    commitment.criteria = "Achieved: " + "x" * CRITERIA_MAX_LENGTH
    commitment.reading = "y" * 2001
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert {"criteria", "reading"} <= set(error.value.message_dict)


# The admin: the "Assessment" fieldset


def test_admin_form_has_an_assessment_fieldset_and_saves_it(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    page = staff_client.get(change_url(commitment)).content.decode()
    assert "Assessment" in page
    for language in ("en", "fr", "es"):  # side by side
        assert f'name="reading_{language}"' in page
        assert f'name="criteria_{language}"' in page
    data = edit_data(commitment, criteria=ONE_OFF.replace("\n", "\r\n"), reading="Read so.")
    assert staff_client.post(change_url(commitment), data).status_code == 302
    commitment.refresh_from_db()
    assert commitment.criteria == ONE_OFF  # one kind of line break, whatever the browser sent
    assert commitment.reading == "Read so."


def test_admin_save_of_untouched_criteria_changes_nothing_in_the_history(staff_client, seeded):
    """A browser sends the textarea back with CRLF line breaks: saving the title alone must
    not record the criteria as changed."""
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = edit_data(commitment, title="Retitled")
    assert "\r\n" in data["criteria_en"]
    assert staff_client.post(change_url(commitment), data).status_code == 302
    latest, before = commitment.history.all()[:2]
    assert latest.diff_against(before).changed_fields == ["title_en"]


def test_admin_refuses_malformed_criteria_with_a_form_error_and_keeps_the_text(
    staff_client, seeded
):
    commitment = Commitment.objects.get(reference="NOR-2012-01")  # continuous
    before = commitment.criteria
    typed = "On track: A record.\nAchieved: Everyone joined."
    response = staff_client.post(change_url(commitment), edit_data(commitment, criteria=typed))
    html = response.content.decode()
    assert response.status_code == 200
    assert "A continuous commitment cannot be Achieved" in html
    assert "Everyone joined." in html  # what was typed is kept
    commitment.refresh_from_db()
    assert commitment.criteria == before


# The CSV import


def import_commitments(csv_text, dry_run=False):
    return CommitmentResource().import_data(
        Dataset().load(csv_text, format="csv"),
        dry_run=dry_run,
        rollback_on_validation_errors=True,  # as the admin's import does
    )


def test_import_sets_criteria_and_reading(seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    exported = CommitmentResource().export()
    row = exported.dict[[r["reference"] for r in exported.dict].index("NOR-2012-07")]
    row.update(criteria="Not started: Nothing.\nAchieved: Held.", reading="Read so.")
    dataset = Dataset(headers=exported.headers)
    dataset.append([row[h] for h in exported.headers])
    result = import_commitments(dataset.csv)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    commitment.refresh_from_db()
    assert commitment.criteria == "Not started: Nothing.\nAchieved: Held."
    assert commitment.reading == "Read so."


def test_import_of_malformed_criteria_is_a_row_error_and_writes_nothing(seeded):
    before = list(Commitment.objects.order_by("pk").values())
    exported = CommitmentResource().export()
    dataset = Dataset(headers=exported.headers)
    for row in exported.dict:
        if row["reference"] == "NOR-2012-09":
            row["criteria"] = "Going well: yes."
        dataset.append([row[h] for h in exported.headers])
    result = import_commitments(dataset.csv)
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert "start it with a status" in str(invalid.error_dict["criteria"])
    assert list(Commitment.objects.order_by("pk").values()) == before
