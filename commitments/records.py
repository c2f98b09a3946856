"""The domain's write paths: every change a person makes to the record goes through here.

Each one writes in a single transaction, takes the commitment's version where it edits one
(`claim_version`, the one optimistic lock: the staff page, the admin, the bulk action and
the CSV import all use it), brings the derived copies up to date (`derived.sync`) and
outdates the cached public pages once, when the transaction commits (`changes`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .changes import public_data_changed
from .derived import sync
from .models import Commitment, FollowUp, StaleVersion, Status


def changed():
    """After any change to public data: derived copies now, cached pages on commit."""
    sync()
    public_data_changed()


def claim_version(commitment, based_on_version=None):
    """Move a commitment to its next version; refuse if it moved since based_on_version.

    A conditional UPDATE is the check: it matches no row when the version has moved, on
    SQLite and PostgreSQL alike (select_for_update cannot see a stale form). Call inside a
    transaction, so a later failure gives the version back. Raises StaleVersion.
    """
    rows = Commitment.objects.filter(pk=commitment.pk)
    if based_on_version is not None:
        rows = rows.filter(version=based_on_version)
    if not rows.update(version=F("version") + 1):
        raise StaleVersion(commitment, based_on_version)
    if based_on_version is not None:
        commitment.version = based_on_version + 1
    else:
        commitment.version = rows.values_list("version", flat=True)[0]
    return commitment.version


def record_follow_up(
    commitment,
    *,
    status,
    by,
    happened_on=None,
    public_note="",
    internal_note="",
    evidence_url="",
    evidence_label="",
    progress=None,
    based_on_version=None,
):
    """Append a follow-up to a commitment, in one transaction.

    Its current state is that of its latest follow-up by the date it happened, so a follow-up
    recorded late for an earlier date joins the history without taking over. With
    based_on_version, a commitment changed since that version raises StaleVersion and nothing
    is written.
    """
    with transaction.atomic():
        version = claim_version(commitment, based_on_version)
        follow_up = FollowUp(
            commitment=commitment,
            status=status,
            progress=progress,
            public_note=public_note,
            internal_note=internal_note,
            evidence_url=evidence_url,
            evidence_label=evidence_label,
            happened_on=happened_on or timezone.localdate(),
            author=by,
            commitment_version=version,
        )
        # The commitment and author are the objects in hand; the check constraints repeat the
        # fields' validators and clean() (and the database enforces them on insert anyway).
        follow_up.full_clean(exclude=["commitment", "author"], validate_constraints=False)
        follow_up.save()
        changed()
        commitment.forget_state()
        transaction.on_commit(follow_up.log_recorded)
    return follow_up


def confirm_unchanged(commitment, *, by, public_note="", evidence_url="", based_on_version=None):
    """Confirm, no change: a new follow-up today with the status and progress figure of the
    latest one, and a note or link saying what was checked. It renews the verdict honestly:
    the evidence is dated today because someone looked today.

    Raises ValidationError when there is nothing to confirm (not yet assessed) or neither a
    note nor a link is given; StaleVersion as record_follow_up does.
    """
    if not (public_note.strip() or evidence_url.strip()):
        raise ValidationError(
            _("Say what you checked: give a short public note or an evidence link.")
        )
    with transaction.atomic():
        latest = commitment.follow_ups.timeline().only("status", "progress").first()
        if latest is None or latest.status == Status.NOT_ASSESSED:
            raise ValidationError(
                _("%(ref)s is not yet assessed: there is no verdict to confirm.")
                % {"ref": commitment.reference}
            )
        return record_follow_up(
            commitment,
            status=latest.status,
            progress=latest.progress,
            by=by,
            happened_on=timezone.localdate(),
            public_note=public_note,
            evidence_url=evidence_url,
            based_on_version=based_on_version,
        )


def save_edit(commitment, *, based_on_version, by=None):
    """Save an edit made from a form showing based_on_version, or raise StaleVersion.
    A published commitment's reference never changes: ValidationError, nothing written."""
    if problem := commitment.reference_error():
        raise ValidationError({"reference": problem})
    with transaction.atomic():
        claim_version(commitment, based_on_version)
        if by is not None:
            commitment._history_user = by
        commitment.save()
        commitment._stored_reference = commitment.reference
        changed()
