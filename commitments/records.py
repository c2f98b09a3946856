"""The domain's write paths: every change a person makes to the record goes through here.

A person's follow-up enters through `submit_follow_up`: it is recorded at once, or, when it
changes the commitment's status and settings.SECOND_REVIEW asks for it (`needs_review`, the
one home of that rule), kept as a ProposedFollowUp that nothing public reads until another
editor confirms it (`confirm_proposal`, which records it) or sends it back (`send_back`).
`record_follow_up` itself writes without asking: for confirmations, the seed and tests.

Each one writes in a single transaction, takes the commitment's version where it edits one
(`claim_version`, the one optimistic lock: the staff page, the admin, the bulk action and
the CSV import all use it), brings the derived copies up to date (`derived.sync`) and
outdates the cached public pages once, when the transaction commits (`changes`).
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .changes import public_data_changed
from .derived import sync
from .models import (
    Commitment,
    Decision,
    FollowUp,
    ProposedFollowUp,
    Review,
    StaleVersion,
    Status,
)
from .translation import TRANSLATED

logger = logging.getLogger(__name__)


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


# A follow-up's translated fields in the languages other than English, by column.
NOTE_VERSIONS = [
    f"{field}_{code}"
    for field in TRANSLATED[FollowUp]
    for code, _name in settings.LANGUAGES
    if code != settings.LANGUAGE_CODE
]


def _versions(versions):
    versions = {name: (value or "").strip() for name, value in (versions or {}).items()}
    if unknown := set(versions) - set(NOTE_VERSIONS):
        raise ValueError(f"not a follow-up translation: {sorted(unknown)}")
    return versions


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
    versions=None,
    states=(),
    proposal=None,
    confirmed_by=None,
):
    """Append a follow-up to a commitment, in one transaction.

    It asks no second review: a person's follow-up goes through submit_follow_up. `proposal`
    and `confirmed_by` are set by confirm_proposal only.

    `public_note` and `evidence_label` are the English versions; `versions` gives the others
    by column ({"public_note_fr": …, "evidence_label_es": …}, NOTE_VERSIONS). `states`: the
    State rows it concerns, set with it and never changed after (models.FollowUp.states).

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
            # By column: the unsuffixed names would write the active language's version.
            public_note_en=public_note,
            internal_note=internal_note,
            evidence_url=evidence_url,
            evidence_label_en=evidence_label,
            **_versions(versions),
            happened_on=happened_on or timezone.localdate(),
            author=by,
            commitment_version=version,
            proposal=proposal,
            confirmed_by=confirmed_by,
        )
        # The commitment and author are the objects in hand; the check constraints repeat the
        # fields' validators and clean() (and the database enforces them on insert anyway).
        follow_up.full_clean(exclude=["commitment", "author"], validate_constraints=False)
        follow_up.save()
        if states:
            follow_up.set_states_once(states)
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


class TranslationTaken(Exception):
    """Someone gave this version meanwhile: it is kept, never overwritten."""


def add_translation(follow_up, language, *, public_note="", evidence_label="", by):
    """Give a follow-up's note (and evidence label) in a language it lacks. A follow-up is
    history, so a version, once published, stays as it was: this only fills empty ones, and
    refuses (TranslationTaken) if another editor filled them since the form was opened.
    Recorded in the logs with who gave it."""
    values = {
        f"{field}_{language}": text.strip()
        for field, text in (("public_note", public_note), ("evidence_label", evidence_label))
        if text.strip()
    }
    _versions(values)  # a known language and field, never English (the record's own words)
    if not values:
        raise ValidationError(_("Give the translation."))
    probe = FollowUp(
        commitment=follow_up.commitment, status=follow_up.status, **values
    )  # the fields' own validators (length, no NUL characters)
    probe.clean_fields(exclude=[f.name for f in FollowUp._meta.fields if f.name not in values])
    empty = Q()
    for name in values:
        empty &= Q(**{name: ""}) | Q(**{f"{name}__isnull": True})
    with transaction.atomic():
        # A plain UPDATE of these columns only; FollowUpQuerySet refuses updates otherwise.
        rows = QuerySet.update(FollowUp.objects.filter(empty, pk=follow_up.pk), **values)
        if not rows:
            raise TranslationTaken(follow_up)
        changed()
    for name, value in values.items():
        setattr(follow_up, name, value)
    logger.info(
        "follow-up translated",
        extra={
            "event": "follow_up_translated",
            "follow_up_id": follow_up.pk,
            "language": language,
            "user_id": by.pk,
            "username": by.get_username(),
        },
    )
    return follow_up


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


# --- A second reviewer --------------------------------------------------------------------------


def review_statuses():
    """The statuses that a change of status to waits for a second editor, as
    settings.SECOND_REVIEW says: every one ("status-changes", the default), none ("off"), or
    those it lists ("achieved,off_track"). Raises ImproperlyConfigured for anything else (a
    system check runs this at start-up: commitments.apps)."""
    value = settings.SECOND_REVIEW
    if value == "status-changes":
        return frozenset(Status.values)
    if value == "off":
        return frozenset()
    chosen = {name.strip() for name in value.split(",") if name.strip()}
    if not chosen or chosen - set(Status.values):
        raise ImproperlyConfigured(
            'SECOND_REVIEW must be "status-changes", "off" or a comma-separated list of '
            f"statuses among {', '.join(Status.values)}; it is {value!r}."
        )
    return frozenset(chosen)


def needs_review(commitment, status):
    """Whether a follow-up with `status` waits for a second editor: when it changes the
    commitment's current status to one of review_statuses()."""
    return status != commitment.status and status in review_statuses()


def submit_follow_up(commitment, *, status, by, based_on_version=None, states=(), **fields):
    """A person's follow-up: recorded at once (a FollowUp), or, when needs_review says so,
    kept for a second review (a ProposedFollowUp). Every staff form records through here."""
    commitment.forget_state()  # judged on its status now, not as the form's page read it
    if needs_review(commitment, status):
        return propose_follow_up(
            commitment,
            status=status,
            by=by,
            based_on_version=based_on_version,
            states=states,
            **fields,
        )
    return record_follow_up(
        commitment,
        status=status,
        by=by,
        based_on_version=based_on_version,
        states=states,
        **fields,
    )


def propose_follow_up(
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
    versions=None,
    states=(),
):
    """Keep a follow-up for a second review. Nothing public changes, so the commitment's
    version does not move; the proposal keeps the version its author saw (a form opened on an
    older one is refused, StaleVersion, as a follow-up would be), and the status and figure
    it would change."""
    with transaction.atomic():
        current = Commitment.objects.filter(pk=commitment.pk).values_list("version", flat=True)
        version = current.get()
        if based_on_version is not None and based_on_version != version:
            raise StaleVersion(commitment, based_on_version)
        commitment.forget_state()
        proposal = ProposedFollowUp(
            commitment=commitment,
            status=status,
            progress=progress,
            public_note_en=public_note,
            internal_note=internal_note,
            evidence_url=evidence_url,
            evidence_label_en=evidence_label,
            **_versions(versions),
            happened_on=happened_on or timezone.localdate(),
            author=by,
            based_on_version=version,
            status_before=commitment.status,
            progress_before=commitment.progress,
        )
        proposal.full_clean(exclude=["commitment", "author"], validate_constraints=False)
        proposal.save()
        if states:
            proposal.set_states_once(states)
    logger.info(
        "follow-up proposed",
        extra={
            "event": "follow_up_proposed",
            "proposal_id": proposal.pk,
            "commitment": commitment.reference,
            "status": status,
            "user_id": by.pk,
            "username": by.get_username(),
        },
    )
    return proposal


class AlreadyReviewed(Exception):
    """Another reviewer decided on this proposal first; their decision stands."""


def _check_reviewer(proposal, by):
    if proposal.author_id == by.pk:
        raise ValidationError(
            _("You proposed this follow-up: another editor must review it."), code="own"
        )


def confirm_proposal(proposal, *, by):
    """A second editor confirms a proposed follow-up: the FollowUp is recorded (its author the
    proposer, recorded now, confirmed_by the reviewer) with the Review, in one transaction.
    Refused when `by` proposed it (ValidationError), when it was reviewed already
    (AlreadyReviewed), or when the commitment moved since its author saw it (StaleVersion,
    based on the proposal's version: the reviewer sees what changed and may send it back)."""
    _check_reviewer(proposal, by)
    versions = {name: getattr(proposal, name) or "" for name in NOTE_VERSIONS}
    try:
        with transaction.atomic():
            if Review.objects.filter(proposal=proposal).exists():
                raise AlreadyReviewed(proposal)
            follow_up = record_follow_up(
                proposal.commitment,
                status=proposal.status,
                progress=proposal.progress,
                by=proposal.author,
                happened_on=proposal.happened_on,
                public_note=proposal.public_note_en or "",
                internal_note=proposal.internal_note,
                evidence_url=proposal.evidence_url,
                evidence_label=proposal.evidence_label_en or "",
                versions=versions,
                states=list(proposal.states.all()),
                based_on_version=proposal.based_on_version,
                proposal=proposal,
                confirmed_by=by,
            )
            Review.objects.create(proposal=proposal, decision=Decision.CONFIRMED, reviewer=by)
    except IntegrityError as error:  # a concurrent review of the same proposal won
        raise AlreadyReviewed(proposal) from error
    _log_review(proposal, by, Decision.CONFIRMED)
    return follow_up


def send_back(proposal, *, by, note):
    """A second editor sends a proposed follow-up back to its author with a note (required):
    nothing is recorded; the author sees the note on the staff page and may record again."""
    _check_reviewer(proposal, by)
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("Say why you send it back: the author reads this note.")}, code="required"
        )
    review = Review(proposal=proposal, decision=Decision.SENT_BACK, note=note, reviewer=by)
    review.full_clean(exclude=["proposal", "reviewer"], validate_constraints=False)
    try:
        with transaction.atomic():
            if Review.objects.filter(proposal=proposal).exists():
                raise AlreadyReviewed(proposal)
            review.save()
    except IntegrityError as error:
        raise AlreadyReviewed(proposal) from error
    _log_review(proposal, by, Decision.SENT_BACK)
    return review


def withdraw_proposal(proposal, *, by):
    """Its author takes back a follow-up still waiting for a second review (proposed in
    error, say): nothing is recorded, and the withdrawal is a Review row of its own, the
    author's. Refused (ValidationError) for anyone else; AlreadyReviewed once decided."""
    if proposal.author_id != by.pk:
        raise ValidationError(
            _("Only its author can withdraw a follow-up; send it back instead."), code="not_own"
        )
    try:
        with transaction.atomic():
            if Review.objects.filter(proposal=proposal).exists():
                raise AlreadyReviewed(proposal)
            review = Review.objects.create(
                proposal=proposal, decision=Decision.WITHDRAWN, reviewer=by
            )
    except IntegrityError as error:
        raise AlreadyReviewed(proposal) from error
    _log_review(proposal, by, Decision.WITHDRAWN)
    return review


def _log_review(proposal, by, decision):
    logger.info(
        "follow-up reviewed",
        extra={
            "event": "follow_up_reviewed",
            "proposal_id": proposal.pk,
            "commitment": proposal.commitment.reference,
            "decision": decision,
            "user_id": by.pk,
            "username": by.get_username(),
        },
    )
