import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    PositiveSmallIntegerField,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .cache import public_data_changed


def refresh_progress(pks):
    from .progress import refresh  # progress.py reads these models

    refresh(pks)


logger = logging.getLogger(__name__)


class Status(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Not yet assessed")
    NOT_STARTED = "not_started", _("Not started")
    OFF_TRACK = "off_track", _("Off track")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_TRACK = "on_track", _("On track")
    ACHIEVED = "achieved", _("Achieved")


@dataclass(frozen=True)
class StatusInfo:
    meaning: str
    default_progress: int | None  # None: never counted in averages


# The one published scale. Progress is what a status counts for in the dashboard's
# weighted mean unless a follow-up gives its own figure.
STATUS_INFO = {
    Status.NOT_ASSESSED: StatusInfo(
        _("Nobody has assessed this commitment yet. It is left out of every average."), None
    ),
    Status.NOT_STARTED: StatusInfo(_("Assessed: no action has been taken yet."), 0),
    Status.OFF_TRACK: StatusInfo(
        _("Action has stalled or fallen behind what was promised."),
        25,
    ),
    Status.IN_PROGRESS: StatusInfo(_("Action has started and is under way."), 50),
    Status.ON_TRACK: StatusInfo(
        _(
            "A continuing commitment that is being carried out as promised; "
            "the log of follow-ups is its evidence."
        ),
        100,
    ),
    Status.ACHIEVED: StatusInfo(_("A one-off commitment that has been fully delivered."), 100),
}


class Kind(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    CONTINUOUS = "continuous", _("Continuous")


# A continuing commitment is never "done": it is on track or not.
STATUSES_BY_KIND = {
    Kind.ONE_OFF: [
        Status.NOT_ASSESSED,
        Status.NOT_STARTED,
        Status.OFF_TRACK,
        Status.IN_PROGRESS,
        Status.ACHIEVED,
    ],
    Kind.CONTINUOUS: [Status.NOT_ASSESSED, Status.OFF_TRACK, Status.ON_TRACK],
}


class PublicData(models.Model):
    """Saving or deleting a row outdates every cached public page (commitments/cache.py)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        public_data_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        public_data_changed()
        return result


class Theme(PublicData):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Themes are listed on the dashboard in this order, lowest first."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Article(PublicData):
    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"Art. {self.number} — {self.title}"


class Statement(PublicData):
    title = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=120, unique=True, help_text="Used in the statement's public address."
    )
    delegation = models.CharField(max_length=120, help_text="Who made the statement, e.g. Norway.")
    meeting = models.CharField(max_length=300)
    place = models.CharField(max_length=120)
    date = models.DateField()
    language = models.CharField(
        max_length=12, default="en", help_text="Language of the text, as a code such as en or fr."
    )
    source_url = models.URLField(blank=True, help_text="Where the original text can be found.")
    text = models.TextField(
        help_text="The full text, exactly as delivered. Paragraphs are separated by blank lines."
    )
    code = models.CharField(
        max_length=3,
        help_text="Three-letter code of the delegation, used in commitment references (NOR).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "delegation"]

    def __str__(self):
        return f"{self.delegation}, {self.place}, {self.date:%d %B %Y}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Its date is the day its commitments join the progress history.
        refresh_progress(self.commitments.values_list("pk", flat=True))

    def get_absolute_url(self):
        return reverse("statement_detail", args=[self.slug])

    def paragraphs(self, commitments):
        """The text as paragraphs of (text, commitment-or-None) runs, each quote marked."""
        # Sorted by position only: two commitments may quote the same words.
        marks = sorted(
            ((self.text.find(c.quote), c) for c in commitments if self.text.find(c.quote) >= 0),
            key=lambda mark: mark[0],
        )
        result, start = [], 0
        for para in self.text.split("\n\n"):
            para_start = self.text.find(para, start)
            para_end = para_start + len(para)
            runs, pos = [], para_start
            for mark_start, commitment in marks:
                mark_end = mark_start + len(commitment.quote)
                if mark_start < pos or mark_end > para_end:
                    continue
                if mark_start > pos:
                    runs.append((self.text[pos:mark_start], None))
                runs.append((commitment.quote, commitment))
                pos = mark_end
            if pos < para_end:
                runs.append((self.text[pos:para_end], None))
            if any(text.strip() for text, _c in runs):
                result.append(runs)
            start = para_end
        return result


def stale_q(today=None):
    cutoff = (today or timezone.localdate()) - datetime.timedelta(settings.REVIEW_STALE_DAYS)
    return Q(last_follow_up_on__lt=cutoff) | Q(
        last_follow_up_on__isnull=True, created_at__date__lt=cutoff
    )


def overdue_q(today=None):
    return Q(next_review__lt=today or timezone.localdate())


def effective_progress_expression():
    """FollowUp.effective_progress in SQL, so the past can be aggregated in the database."""
    return Case(
        When(status=Status.NOT_ASSESSED, then=Value(None)),
        When(progress__isnull=False, then=F("progress")),
        *[
            When(status=status, then=Value(info.default_progress))
            for status, info in STATUS_INFO.items()
            if info.default_progress is not None
        ],
        default=Value(None),
        output_field=PositiveSmallIntegerField(),
    )


# Commitment fields that move its part in the progress history (commitments/progress.py).
PROGRESS_FIELDS = {"published", "weight", "theme", "theme_id", "statement", "statement_id"}


class CommitmentQuerySet(models.QuerySet):
    # Bulk changes (admin actions) outdate the cached public pages and the stored progress
    # history like single saves do.
    def update(self, **kwargs):
        moved = list(self.values_list("pk", flat=True)) if PROGRESS_FIELDS & set(kwargs) else []
        rows = super().update(**kwargs)
        refresh_progress(moved)
        public_data_changed()
        return rows

    def delete(self):
        pks = list(self.values_list("pk", flat=True))
        result = super().delete()
        refresh_progress(pks)
        public_data_changed()
        return result

    def published(self):
        return self.filter(published=True)

    def as_of(self, date=None):
        """Each commitment's state on `date` as at_status, at_progress and at_last_follow_up.

        A follow-up counts from the day it happened. With no date, today's stored state.
        Subqueries, so one query whatever the size.
        """
        if date is None:
            return self.annotate(
                at_status=F("status"),
                at_progress=F("progress"),
                at_last_follow_up=F("last_follow_up_on"),
            )
        latest = FollowUp.objects.filter(commitment=OuterRef("pk"), happened_on__lte=date).order_by(
            "-happened_on", "-recorded_at", "-pk"
        )
        return self.annotate(
            at_status=Coalesce(
                Subquery(latest.values("status")[:1]), Value(Status.NOT_ASSESSED.value)
            ),
            at_progress=Subquery(
                latest.annotate(effective=effective_progress_expression()).values("effective")[:1]
            ),
            at_last_follow_up=Subquery(latest.values("happened_on")[:1]),
        )

    def made_by(self, date=None):
        """Commitments whose statement had been made by `date` (all of them for None)."""
        return self if date is None else self.filter(statement__date__lte=date)

    def matching(self, *, theme=None, status="", statement=None, article=None, q="", as_of=None):
        """The public list's filters. `status` applies to the state given by as_of()."""
        qs = self
        if theme is not None:
            qs = qs.filter(theme=theme)
        if statement is not None:
            qs = qs.filter(statement=statement)
        if article is not None:
            qs = qs.filter(articles=article)
        if status:
            qs = qs.filter(**{self._state("status"): status})
        if q:
            # Public notes only, and only those written by the date shown.
            notes = FollowUp.objects.filter(commitment=OuterRef("pk"), public_note__icontains=q)
            if as_of is not None:
                notes = notes.filter(happened_on__lte=as_of)
            qs = qs.filter(Q(title__icontains=q) | Q(quote__icontains=q) | Exists(notes))
        return qs

    def _state(self, field):
        """The as_of() annotation for `field` when there is one, else the stored field."""
        name = f"at_{field}"
        return name if name in self.query.annotations else field

    def for_list(self):
        return (
            self.select_related("theme", "statement").defer("statement__text").order_by("reference")
        )

    def overdue(self, today=None):
        return self.filter(overdue_q(today))

    def stale(self, today=None):
        """No follow-up for settings.REVIEW_STALE_DAYS (nor since creation, if none)."""
        return self.filter(stale_q(today))

    def progress_summary(self):
        """Weighted mean progress over assessed commitments, and the number not assessed.

        The same method serves the whole tracker, a theme or a statement.
        """
        return ProgressSummary.from_totals(self.aggregate(**self._progress_aggregates()))

    def _progress_aggregates(self):
        progress = self._state("progress")
        assessed = Q(**{f"{progress}__isnull": False})
        return {
            "weighted": Sum(F("weight") * F(progress), filter=assessed),
            "weights": Sum("weight", filter=assessed),
            "assessed": Count("pk", filter=assessed),
            "unassessed": Count("pk", filter=~assessed),
        }

    def progress_by_theme(self):
        """One ProgressSummary per theme, in two aggregate queries whatever the data size."""
        rows = self.values("theme").annotate(**self._progress_aggregates()).order_by()
        status = self._state("status")
        by_status = self.values("theme", status).annotate(n=Count("pk")).order_by()
        counts: dict[int, dict[str, int]] = {}
        for row in by_status:
            counts.setdefault(row["theme"], {})[row[status]] = row["n"]
        return {
            row["theme"]: ProgressSummary.from_totals(row, counts.get(row["theme"], {}))
            for row in rows
        }


@dataclass
class ProgressSummary:
    percent: float | None
    assessed: int
    unassessed: int
    status_counts: dict

    @classmethod
    def from_totals(cls, totals, status_counts=None):
        weights = totals["weights"] or 0
        percent = round(totals["weighted"] / weights, 1) if weights else None
        return cls(percent, totals["assessed"], totals["unassessed"], status_counts or {})

    @property
    def total(self):
        return self.assessed + self.unassessed

    def status_list(self):
        """(Status, count) for every status on the scale, in scale order."""
        return [(status, self.status_counts.get(status.value, 0)) for status in Status]


class Commitment(PublicData):
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="commitments")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="commitments")
    reference = models.SlugField(
        max_length=40,
        unique=True,
        help_text="Stable public reference used in the commitment's address, e.g. NOR-2012-03. "
        "Never change it once published: people cite it.",
    )
    title = models.CharField(max_length=200, help_text="A short summary in plain words.")
    quote = models.TextField(
        help_text="The exact words of the statement this commitment comes from, copied "
        "character for character."
    )
    kind = models.CharField(
        max_length=12,
        choices=Kind,
        default=Kind.ONE_OFF,
        help_text="Continuous commitments (\u201ccontinues to promote\u201d) are on track or "
        "off track, never achieved.",
    )
    articles = models.ManyToManyField(
        Article, blank=True, related_name="commitments", help_text="Convention articles it serves."
    )
    weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="How much it counts in progress averages (1 to 10).",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_commitments",
        help_text="The staff member who keeps this commitment up to date.",
    )
    next_review = models.DateField(
        null=True, blank=True, help_text="When staff should next check on this commitment."
    )
    published = models.BooleanField(
        default=True, help_text="Unpublished commitments are seen by staff only."
    )
    # Current state, derived from the follow-ups by record_follow_up(); never edited by hand.
    status = models.CharField(
        max_length=20, choices=Status, default=Status.NOT_ASSESSED, editable=False
    )
    progress = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_follow_up_on = models.DateField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommitmentQuerySet.as_manager()
    # Who changed what and when; follow-ups are their own append-only history.
    history = HistoricalRecords(m2m_fields=[articles])

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="commitments_commitment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values), name="commitments_commitment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="commitments_commitment_progress_range",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=10),
                name="commitments_commitment_weight_range",
            ),
        ]

    def __str__(self):
        return f"{self.reference} — {self.title}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Its theme, weight, statement or publication may have moved its part in the history.
        refresh_progress([self.pk])

    def get_absolute_url(self):
        return reverse("commitment_detail", args=[self.reference])

    def delete(self, *args, **kwargs):
        pk = self.pk
        result = super().delete(*args, **kwargs)
        refresh_progress([pk])
        return result

    def clean(self):
        if self.statement_id and self.quote and self.quote not in self.statement.text:
            raise ValidationError(
                {"quote": _("This quote does not occur word for word in the statement's text.")}
            )

    @property
    def status_info(self):
        return STATUS_INFO[Status(self.status)]

    @property
    def state_status(self):
        """The status shown: as at a past date when the queryset used as_of(date)."""
        return Status(getattr(self, "at_status", self.status))

    @property
    def state_info(self):
        return STATUS_INFO[self.state_status]

    @property
    def allowed_statuses(self):
        return STATUSES_BY_KIND[Kind(self.kind)]

    def is_overdue(self, today=None):
        return self.next_review is not None and self.next_review < (today or timezone.localdate())

    def is_stale(self, today=None):
        """No follow-up for settings.REVIEW_STALE_DAYS (the same rule as stale_q)."""
        cutoff = (today or timezone.localdate()) - datetime.timedelta(settings.REVIEW_STALE_DAYS)
        if self.last_follow_up_on is None:
            return self.created_at is not None and timezone.localdate(self.created_at) < cutoff
        return self.last_follow_up_on < cutoff

    def record_follow_up(
        self,
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
        """Append a follow-up and move the commitment's current status, in one transaction.

        The current status is that of the latest follow-up by the date it happened, so a
        follow-up recorded late for an earlier date joins the history without taking over.
        With based_on_version, a commitment changed since that version raises StaleVersion
        and nothing is written.
        """
        with transaction.atomic():
            version = self.claim_version(based_on_version)
            follow_up = FollowUp(
                commitment=self,
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
            follow_up.full_clean()
            follow_up.save()
            self.refresh_current_status()
            transaction.on_commit(follow_up.log_recorded)
        return follow_up

    def claim_version(self, based_on_version=None):
        """Move to the next version; refuse if someone moved it since based_on_version.

        A conditional UPDATE is the check: it matches no row when the version has moved,
        on SQLite and PostgreSQL alike (select_for_update cannot see a stale form).
        Call inside a transaction, so a later failure gives the version back.
        """
        rows = Commitment.objects.filter(pk=self.pk)
        if based_on_version is not None:
            rows = rows.filter(version=based_on_version)
        if not rows.update(version=F("version") + 1):
            raise StaleVersion(self, based_on_version)
        self.version = Commitment.objects.filter(pk=self.pk).values_list("version", flat=True)[0]
        return self.version

    def save_edit(self, *, based_on_version, by=None):
        """Save an edit made from a form showing based_on_version, or raise StaleVersion."""
        with transaction.atomic():
            self.claim_version(based_on_version)
            if by is not None:
                self._history_user = by
            self.save()

    def refresh_current_status(self):
        latest = self.follow_ups.order_by("-happened_on", "-recorded_at", "-pk").first()
        if latest is None:
            status, progress, last = Status.NOT_ASSESSED, None, None
        else:
            status, progress = latest.status, latest.effective_progress
            last = self.follow_ups.aggregate(last=Max("happened_on"))["last"]
        Commitment.objects.filter(pk=self.pk).update(
            status=status, progress=progress, last_follow_up_on=last
        )
        self.refresh_from_db(fields=["status", "progress", "last_follow_up_on", "version"])

    def changes_since(self, version):
        """What happened after a form showing `version` was opened: follow-ups and edits."""
        follow_ups = list(
            self.follow_ups.filter(commitment_version__gt=version)
            .select_related("author")
            .timeline()
        )
        edits = []
        records = list(self.history.filter(version__gt=version).order_by("history_date"))
        if records:
            base = self.history.filter(version__lte=version).order_by("-history_date").first()
            if base is not None:
                delta = records[-1].diff_against(base, foreign_keys_are_objs=True)
                for change in delta.changes:
                    field = Commitment._meta.get_field(change.field)
                    edits.append(
                        FieldChange(
                            field.verbose_name,
                            _display(change.old),
                            _display(change.new),
                        )
                    )
            editors = {r.history_user for r in records if r.history_user is not None}
        else:
            editors = set()
        return Changes(follow_ups=follow_ups, edits=edits, editors=sorted(editors, key=str))


def _display(value):
    if isinstance(value, list):  # many-to-many: a list of through rows
        return ", ".join(sorted(str(getattr(v, "article", v)) for v in value)) or "—"
    if value in (None, ""):
        return "—"
    return str(value)


@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class Changes:
    follow_ups: list
    edits: list
    editors: list


class StaleVersion(Exception):
    """The commitment changed after the form was opened; nothing was written."""

    def __init__(self, commitment, based_on_version):
        super().__init__(f"{commitment.reference} changed since version {based_on_version}")
        self.commitment = commitment
        self.based_on_version = based_on_version


class FollowUpQuerySet(models.QuerySet):
    def public(self):
        return self.filter(commitment__published=True)

    def timeline(self):
        return self.order_by("-happened_on", "-recorded_at", "-pk")

    # History is append-only: bulk changes are refused as well as single ones.
    def update(self, **kwargs):
        raise AppendOnlyError(_("Follow-ups cannot be changed; record a new one instead."))

    def delete(self):
        raise AppendOnlyError(_("Follow-ups cannot be deleted; record a correction instead."))


class AppendOnlyError(Exception):
    pass


# A note is a few paragraphs, not a document (link the document as evidence). A validator,
# not max_length: record_follow_up()'s full_clean() checks it, and no table is rebuilt.
NOTE_MAX_LENGTH = 10_000


class FollowUp(models.Model):
    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="follow_ups")
    status = models.CharField(max_length=20, choices=Status)
    progress = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text="Optional, 0 to 100. Left empty, the status's standard figure is used.",
    )
    happened_on = models.DateField(help_text="The date it happened, not the date you record it.")
    public_note = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text="What happened, in words the public will read.",
    )
    internal_note = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text="Seen by staff only. Never published, exported or fed.",
    )
    evidence_url = models.URLField(blank=True, max_length=500)
    evidence_label = models.CharField(
        max_length=200, blank=True, help_text="What the link is, e.g. “Ratification record”."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # The commitment's version this follow-up produced: lets a stale form list what it missed.
    commitment_version = models.PositiveIntegerField(null=True, editable=False)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["-happened_on", "-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="commitments_followup_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="commitments_followup_progress_range",
            ),
        ]
        indexes = [
            models.Index(fields=["commitment", "-happened_on"]),
            # The feed's "latest follow-ups" reads this index instead of sorting them all.
            models.Index(
                fields=["-happened_on", "-recorded_at", "-id"], name="commitments_followup_latest"
            ),
        ]

    def __str__(self):
        return f"{self.commitment.reference} · {self.get_status_display()} · {self.happened_on}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("Follow-ups cannot be changed; record a new one instead."))
        super().save(*args, **kwargs)
        refresh_progress([self.commitment_id])
        public_data_changed()

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("Follow-ups cannot be deleted; record a correction instead."))

    def log_recorded(self):
        """Who recorded what, for the audit trail in the logs; the notes stay out of logs."""
        logger.info(
            "follow-up recorded",
            extra={
                "event": "follow_up_recorded",
                "follow_up_id": self.pk,
                "commitment": self.commitment.reference,
                "status": self.status,
                "happened_on": self.happened_on.isoformat(),
                "user_id": self.author_id,
                "username": self.author.get_username(),
            },
        )

    @property
    def effective_progress(self):
        if self.status == Status.NOT_ASSESSED:
            return None
        return (
            self.progress
            if self.progress is not None
            else STATUS_INFO[self.status].default_progress
        )

    def clean(self):
        errors = {}
        kind = Kind(self.commitment.kind) if self.commitment_id else None
        if kind and self.status and self.status not in STATUSES_BY_KIND[kind]:
            errors["status"] = _("“%(status)s” does not apply to a %(kind)s commitment.") % {
                "status": Status(self.status).label,
                "kind": kind.label.lower(),
            }
        if self.status == Status.NOT_ASSESSED and self.progress is not None:
            errors["progress"] = _("A commitment that is not assessed has no progress figure.")
        if self.happened_on and self.happened_on > timezone.localdate() + datetime.timedelta(1):
            errors["happened_on"] = _("This date is in the future.")
        elif self.happened_on and self.commitment_id:
            made_on = self.commitment.statement.date
            if self.happened_on < made_on:
                errors["happened_on"] = _(
                    "This date is before the commitment was made (%(date)s): a follow-up "
                    "happens after its statement."
                ) % {"date": formats.date_format(made_on)}
        if self.evidence_label and not self.evidence_url:
            errors["evidence_url"] = _("Give the link that this label describes.")
        if errors:
            raise ValidationError(errors)


class ReminderLog(models.Model):
    """When an owner was last sent their review reminder: at most one a day."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_reminder"
    )
    last_sent_on = models.DateField()

    def __str__(self):
        return f"{self.owner} · {self.last_sent_on}"


class Period(models.TextChoices):
    DAY = "day", _("day")
    MONTH = "month", _("month")


class ProgressStep(models.Model):
    """A published commitment's part in the progress history: on `date` (the day it was made,
    and each day its effective progress changed) it adds these amounts to its theme's
    weighted sum of progress, sum of weights and count of commitments made.

    Derived data, kept by commitments.progress whenever a commitment, its statement or its
    follow-ups change; `manage.py rebuild_progress` writes it all anew. No foreign-key
    constraint on the commitment: a deleted commitment's steps are what is taken back.
    """

    commitment = models.ForeignKey(
        Commitment, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    date = models.DateField()
    theme = models.ForeignKey(
        Theme, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    weighted = models.IntegerField()
    weight = models.IntegerField()
    made = models.SmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "date"], name="commitments_progressstep_once_a_day"
            )
        ]

    def __str__(self):
        return f"{self.commitment_id} · {self.date}"


class ProgressTotal(models.Model):
    """The sum of every commitment's ProgressStep for a theme, by day and by month: the
    dashboard's progress history is a running total of these few rows, never a replay of
    every follow-up."""

    period = models.CharField(max_length=5, choices=Period)
    date = models.DateField(help_text="The day, or the first day of the month.")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="+")
    weighted = models.BigIntegerField(default=0)
    weight = models.IntegerField(default=0)
    made = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "date", "theme"], name="commitments_progresstotal_unique"
            )
        ]

    def __str__(self):
        return f"{self.period} {self.date} · theme {self.theme_id}"
