import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commitments import derived
from commitments.models import (
    AppendOnlyError,
    Commitment,
    CommitmentState,
    FollowUp,
    Kind,
    StaleVersion,
    Status,
)
from commitments.records import record_follow_up, save_edit

from .factories import CommitmentFactory, StatementFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_recording_a_follow_up_appends_history_and_moves_current_status():
    commitment = CommitmentFactory()
    user = UserFactory()
    record_follow_up(
        commitment, status=Status.IN_PROGRESS, by=user, happened_on=datetime.date(2013, 1, 5)
    )
    record_follow_up(
        commitment,
        status=Status.ACHIEVED,
        by=user,
        happened_on=datetime.date(2013, 6, 1),
        progress=100,
    )
    commitment.refresh_from_db()
    assert commitment.follow_ups.count() == 2
    assert commitment.status == Status.ACHIEVED
    assert commitment.progress == 100
    assert commitment.last_follow_up_on == datetime.date(2013, 6, 1)


def test_status_progress_defaults_to_the_scale_when_not_given():
    commitment = CommitmentFactory()
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=UserFactory())
    assert commitment.progress == 50


def test_backdated_follow_up_joins_history_without_taking_over():
    commitment = CommitmentFactory()
    user = UserFactory()
    record_follow_up(
        commitment, status=Status.ACHIEVED, by=user, happened_on=datetime.date(2014, 1, 1)
    )
    record_follow_up(
        commitment, status=Status.NOT_STARTED, by=user, happened_on=datetime.date(2013, 1, 1)
    )
    assert commitment.status == Status.ACHIEVED
    assert commitment.last_follow_up_on == datetime.date(2014, 1, 1)


def test_invalid_follow_up_writes_nothing():
    commitment = CommitmentFactory(kind=Kind.CONTINUOUS)
    with pytest.raises(ValidationError) as error:
        record_follow_up(commitment, status=Status.ACHIEVED, by=UserFactory())
    assert "status" in error.value.message_dict
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_ASSESSED
    assert FollowUp.objects.count() == 0


def test_continuous_commitment_is_on_track_not_achieved():
    commitment = CommitmentFactory(kind=Kind.CONTINUOUS)
    record_follow_up(commitment, status=Status.ON_TRACK, by=UserFactory())
    assert commitment.status == Status.ON_TRACK
    assert commitment.progress == 100


def test_follow_up_cannot_be_edited():
    commitment = CommitmentFactory()
    follow_up = record_follow_up(commitment, status=Status.IN_PROGRESS, by=UserFactory())
    follow_up.public_note = "rewritten"
    with pytest.raises(AppendOnlyError):
        follow_up.save()
    assert FollowUp.objects.get().public_note == ""


def test_follow_up_cannot_be_deleted_singly_or_in_bulk():
    commitment = CommitmentFactory()
    follow_up = record_follow_up(commitment, status=Status.IN_PROGRESS, by=UserFactory())
    with pytest.raises(AppendOnlyError):
        follow_up.delete()
    with pytest.raises(AppendOnlyError):
        FollowUp.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        FollowUp.objects.update(public_note="x")
    assert FollowUp.objects.count() == 1


def test_commitment_with_history_cannot_be_deleted():
    commitment = CommitmentFactory()
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).delete()


def test_quote_must_occur_verbatim_in_its_statement():
    statement = StatementFactory()
    commitment = CommitmentFactory.build(
        statement=statement, theme=CommitmentFactory().theme, quote="We will ratify it soon."
    )
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "quote" in error.value.message_dict
    commitment.quote = "We will ratify the Convention this year."
    commitment.full_clean()


def test_quote_check_is_exact_not_case_or_space_insensitive():
    commitment = CommitmentFactory.build(
        statement=StatementFactory(),
        theme=CommitmentFactory().theme,
        quote="we will ratify the Convention this year.",
    )
    with pytest.raises(ValidationError):
        commitment.full_clean()


def test_database_refuses_unknown_status():
    commitment = CommitmentFactory()
    derived.sync()
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentState.objects.filter(pk=commitment.pk).update(status="done-ish")
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.bulk_create(
            [
                FollowUp(
                    commitment=commitment,
                    status="done-ish",
                    happened_on=datetime.date(2013, 1, 1),
                    author=UserFactory(),
                )
            ]
        )


def test_database_refuses_progress_over_100():
    commitment = CommitmentFactory()
    derived.sync()
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentState.objects.filter(pk=commitment.pk).update(progress=101)


def test_references_are_unique():
    CommitmentFactory(reference="TST-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentFactory(reference="TST-1")


def test_progress_summary_is_weighted_and_leaves_unassessed_out():
    user = UserFactory()
    heavy = CommitmentFactory(weight=3)
    light = CommitmentFactory(weight=1)
    CommitmentFactory()  # never assessed
    record_follow_up(heavy, status=Status.ACHIEVED, by=user)  # 100 x 3
    record_follow_up(light, status=Status.NOT_STARTED, by=user)  # 0 x 1
    summary = Commitment.objects.progress_summary()
    assert summary.percent == 75.0
    assert summary.assessed == 2
    assert summary.unassessed == 1


def test_progress_summary_with_nothing_assessed_is_none_not_zero():
    CommitmentFactory()
    summary = Commitment.objects.progress_summary()
    assert summary.percent is None
    assert summary.unassessed == 1


def test_statement_paragraphs_mark_each_quote_once():
    commitment = CommitmentFactory()
    paragraphs = commitment.statement.paragraphs([commitment])
    marked = [c for runs in paragraphs for _text, c in runs if c]
    assert marked == [commitment]
    joined = "\n\n".join("".join(text for text, _c in runs) for runs in paragraphs)
    assert joined == commitment.statement.text


# Versions: no lost updates


def test_every_follow_up_and_edit_moves_the_version():
    commitment = CommitmentFactory()
    user = UserFactory()
    assert commitment.version == 1
    follow_up = record_follow_up(commitment, status=Status.IN_PROGRESS, by=user)
    assert commitment.version == 2
    assert follow_up.commitment_version == 2
    commitment.title = "Edited"
    save_edit(commitment, based_on_version=2, by=user)
    commitment.refresh_from_db()
    assert commitment.version == 3
    assert commitment.history.first().history_user == user


def test_stale_follow_up_raises_and_writes_nothing():
    commitment = CommitmentFactory()
    user = UserFactory()
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user)
    stale = Commitment.objects.get(pk=commitment.pk)
    stale.version = 1
    with pytest.raises(StaleVersion):
        record_follow_up(stale, status=Status.ACHIEVED, by=user, based_on_version=1)
    commitment.refresh_from_db()
    assert commitment.follow_ups.count() == 1
    assert commitment.status == Status.IN_PROGRESS
    assert commitment.version == 2


def test_stale_edit_raises_and_writes_nothing():
    commitment = CommitmentFactory(title="Original")
    other = Commitment.objects.get(pk=commitment.pk)
    other.title = "Theirs"
    save_edit(other, based_on_version=1)
    commitment.title = "Mine"
    with pytest.raises(StaleVersion):
        save_edit(commitment, based_on_version=1)
    commitment.refresh_from_db()
    assert commitment.title == "Theirs"
    assert commitment.version == 2


def test_invalid_follow_up_gives_its_version_back():
    commitment = CommitmentFactory(kind=Kind.CONTINUOUS)
    with pytest.raises(ValidationError):
        record_follow_up(commitment, status=Status.ACHIEVED, by=UserFactory(), based_on_version=1)
    commitment.refresh_from_db()
    assert commitment.version == 1


def test_changes_since_lists_follow_ups_and_field_edits_after_a_version():
    commitment = CommitmentFactory(title="Before")
    user = UserFactory(username="carol")
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user, public_note="one")
    commitment.title = "After"
    save_edit(commitment, based_on_version=commitment.version, by=user)
    changes = commitment.changes_since(1)
    assert [f.public_note for f in changes.follow_ups] == ["one"]
    assert [(e.field, e.old, e.new) for e in changes.edits] == [
        ("title (English)", "Before", "After")
    ]
    assert changes.editors == [user]
    assert commitment.changes_since(commitment.version).follow_ups == []
