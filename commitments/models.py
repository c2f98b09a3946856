import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from .changes import public_data_changed
from .content import localized
from .criteria import (
    CRITERIA_MAX_LENGTH,
    READING_MAX_LENGTH,
    kind_error,
    one_newline,
    parse_criteria,
    validate_criteria,
)
from .quotes import quote_error

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
    # The progress figures a follow-up with this status may give, lowest and highest (None:
    # none at all). A figure outside it contradicts the status ("achieved" at 10 %).
    progress_range: tuple[int, int] | None = None

    def allows(self, progress):
        if progress is None:
            return True
        if self.progress_range is None:
            return False
        low, high = self.progress_range
        return low <= progress <= high

    @property
    def range_display(self):
        """The allowed figures in words: "0 %", "1–99 %", or "none"."""
        if self.progress_range is None:
            return _("none")
        low, high = self.progress_range
        if low == high:
            return f"{low}\u00a0%"
        return f"{low}\u2013{high}\u00a0%"


# The one published scale. Progress is what a status counts for in the dashboard's
# weighted mean unless a follow-up gives its own figure, which must lie in the status's range
# (checked on every new follow-up by FollowUp.clean; older entries stay as recorded).
STATUS_INFO = {
    Status.NOT_ASSESSED: StatusInfo(
        _("Nobody has assessed this commitment yet. It is left out of every average."), None
    ),
    Status.NOT_STARTED: StatusInfo(_("Assessed: no action has been taken yet."), 0, (0, 0)),
    Status.OFF_TRACK: StatusInfo(
        _("Action has stalled or fallen behind what was promised."),
        25,
        (0, 99),
    ),
    Status.IN_PROGRESS: StatusInfo(_("Action has started and is under way."), 50, (1, 99)),
    Status.ON_TRACK: StatusInfo(
        _(
            "A continuing commitment that is being carried out as promised; "
            "the log of follow-ups is its evidence."
        ),
        100,
        (50, 100),
    ),
    Status.ACHIEVED: StatusInfo(
        _("A one-off commitment that has been fully delivered."), 100, (100, 100)
    ),
}


def progress_error(status, progress):
    """Why a progress figure contradicts its status, or None: the one home of the rule."""
    if status not in Status.values:
        return None
    info = STATUS_INFO[Status(status)]
    if info.allows(progress):
        return None
    if info.progress_range is None:
        return _("A commitment that is not assessed has no progress figure.")
    return _("“%(status)s” allows a progress figure of %(range)s only.") % {
        "status": Status(status).label,
        "range": info.range_display,
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


# The theme whose commitments are about states joining the Convention: their pages show, as
# context beside the verdict, how many states joined after the statement (issue 14,
# commitments/indicator.py). The one place that says which theme that is.
UNIVERSALISATION = "universalisation"


class Theme(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(
        _("position"),
        default=0,
        help_text=_("Themes are listed on the dashboard in this order, lowest first."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def is_universalisation(self):
        return self.slug == UNIVERSALISATION


class Article(models.Model):
    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    title = models.CharField(_("title"), max_length=200)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["number"]

    def __str__(self):
        return f"Art. {self.number} — {self.title}"


# The codes a statement's language may have: every language Django can name (en, fr, es, ar,
# zh-hans, pt-br…), so the public page's lang="…" is a real language tag.
STATEMENT_LANGUAGES = frozenset(code for code, info in LANG_INFO.items() if "name" in info)


class Statement(models.Model):
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        help_text=_("Used in the statement's public address."),
    )
    delegation = models.ForeignKey(
        "Delegation",
        verbose_name=_("delegation"),
        on_delete=models.PROTECT,
        related_name="statements",
        help_text=_("Who made the statement: a state or an organisation."),
    )
    meeting = models.CharField(
        _("meeting"),
        max_length=300,
        help_text=_("Where it was made, in words, e.g. the meeting's name as the text gives it."),
    )
    convention_meeting = models.ForeignKey(
        "Meeting",
        verbose_name=_("Convention meeting"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        help_text=_(
            "The meeting of the Convention it was made at, if any: its report lists it. The "
            "statement's date falls within the meeting's dates."
        ),
    )
    place = models.CharField(_("place"), max_length=120)
    date = models.DateField(_("date"))
    language = models.CharField(
        _("language"),
        max_length=12,
        default="en",
        help_text=_("Language of the text, as a code such as en or fr."),
    )
    source_url = models.URLField(
        _("source URL"), blank=True, help_text=_("Where the original text can be found.")
    )
    text = models.TextField(
        _("text"),
        help_text=_(
            "The full text, exactly as delivered. Paragraphs are separated by blank lines."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-date", "delegation__code"]

    def __str__(self):
        return f"{self.delegation}, {self.place}, {self.date:%d %B %Y}"

    def get_absolute_url(self):
        return reverse("statement_detail", args=[self.slug])

    def clean(self):
        # Typed as " FR" or "fr_CA", it is the tag fr or fr-ca.
        self.language = self.language.strip().lower().replace("_", "-")
        if self.language not in STATEMENT_LANGUAGES:
            raise ValidationError(
                {
                    "language": _(
                        "“%(code)s” is not a language code this tracker knows. Choose the "
                        "language of the text from the list, or give its code, such as en, fr "
                        "or es."
                    )
                    % {"code": self.language}
                }
            )
        meeting = self.convention_meeting if self.convention_meeting_id else None
        if meeting is not None and self.date and not meeting.start <= self.date <= meeting.end:
            raise ValidationError(
                {
                    "convention_meeting": _(
                        "%(code)s was held from %(start)s to %(end)s; the statement is dated "
                        "%(date)s. Choose the meeting it was made at, or none."
                    )
                    % {
                        "code": meeting.code,
                        "start": formats.date_format(meeting.start),
                        "end": formats.date_format(meeting.end),
                        "date": formats.date_format(self.date),
                    }
                }
            )

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


def search_q(field, words):
    """`field` contains `words` in the active language's version or in English (the
    original). Names the columns itself: a translated field's bare name would be read in the
    active language only."""
    active = (translation.get_language() or "").split("-")[0]
    languages = {settings.LANGUAGE_CODE} | ({active} & {code for code, _n in settings.LANGUAGES})
    condition = Q()
    for language in sorted(languages):
        condition |= Q(**{f"{field}_{language}__icontains": words})
    return condition


def _stale_cutoff(today=None):
    """The first moment of the day REVIEW_STALE_DAYS before today, in the tracker's time zone."""
    day = (today or timezone.localdate()) - datetime.timedelta(settings.REVIEW_STALE_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def stale_q(today=None):
    """Not checked for settings.REVIEW_STALE_DAYS: no follow-up recorded since (nor since it was
    created, if none). When staff last checked, not when the evidence happened: a follow-up
    back-filled today about 2013 is a check made today. "Achieved" never needs re-checking.
    The same rule as Commitment.is_stale."""
    cutoff = _stale_cutoff(today)
    unchecked = Q(state__last_recorded_at__lt=cutoff) | Q(
        state__last_recorded_at__isnull=True, created_at__lt=cutoff
    )
    return unchecked & ~Q(state__status=Status.ACHIEVED)


def overdue_q(today=None):
    return Q(next_review__lt=today or timezone.localdate())


def effective_progress(status, progress):
    """What a follow-up counts for in every average: the figure it gives, else its status's
    standard figure; nothing for "not yet assessed". The one home of this rule."""
    if status == Status.NOT_ASSESSED:
        return None
    return progress if progress is not None else STATUS_INFO[Status(status)].default_progress


class Verdict(models.TextChoices):
    """What the public is told of a commitment on a given day: its status, or "not confirmed"
    when the evidence behind that status has aged past the confirmation window. In the order
    of the verdict bar."""

    NOT_ASSESSED = Status.NOT_ASSESSED.value, Status.NOT_ASSESSED.label
    NOT_CONFIRMED = "not_confirmed", _("Not confirmed")
    NOT_STARTED = Status.NOT_STARTED.value, Status.NOT_STARTED.label
    OFF_TRACK = Status.OFF_TRACK.value, Status.OFF_TRACK.label
    IN_PROGRESS = Status.IN_PROGRESS.value, Status.IN_PROGRESS.label
    ON_TRACK = Status.ON_TRACK.value, Status.ON_TRACK.label
    ACHIEVED = Status.ACHIEVED.value, Status.ACHIEVED.label


# "Not yet assessed" asserts nothing and "achieved" is done for good: neither needs renewing.
# Every other verdict holds for the confirmation window after its latest evidence.
NEVER_EXPIRES = frozenset({Status.NOT_ASSESSED.value, Status.ACHIEVED.value})
UNCOUNTED = frozenset({Verdict.NOT_ASSESSED.value, Verdict.NOT_CONFIRMED.value})


def add_months(day, months):
    """The same day of the month `months` later (earlier if negative), or the month's last
    day when it is shorter: 29 February 2024 + 12 months is 28 February 2025."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last_day))


def confirm_by(status, latest_evidence):
    """The last day on which a verdict counts as confirmed: its latest evidence plus the
    published window (settings.CONFIRMATION_WINDOW_MONTHS). None: it never expires. The one
    home of the confirmation rule, with oldest_confirmed() its exact inverse."""
    if status in NEVER_EXPIRES or latest_evidence is None:
        return None
    return add_months(latest_evidence, settings.CONFIRMATION_WINDOW_MONTHS)


def oldest_confirmed(day):
    """The oldest latest-evidence date still confirmed on `day`: confirm_by(s, e) >= day
    exactly when e >= oldest_confirmed(day) (months differ in length, hence the nudges)."""
    window = settings.CONFIRMATION_WINDOW_MONTHS
    one = datetime.timedelta(days=1)
    evidence = add_months(day, -window)
    while add_months(evidence, window) < day:
        evidence += one
    while add_months(evidence - one, window) >= day:
        evidence -= one
    return evidence


def verdict_of(status, latest_evidence, day):
    """The verdict shown on `day` for a commitment at `status` whose latest evidence is from
    `latest_evidence`."""
    expires = confirm_by(status, latest_evidence)
    if expires is not None and day > expires:
        return Verdict.NOT_CONFIRMED
    return Verdict(status)


def confirmed_q(day, status="status", latest_evidence="last_follow_up_on"):
    """The confirmation rule as a filter on `day`, over the given status and latest-evidence
    fields (or annotations): the same rule as verdict_of()."""
    return Q(**{f"{status}__in": NEVER_EXPIRES}) | Q(
        **{f"{latest_evidence}__gte": oldest_confirmed(day)}
    )


# The order of a commitment's follow-ups, newest first: by the date it happened, then by when
# it was recorded (a correction recorded later for the same day wins), then by id.
TIMELINE = ("-happened_on", "-recorded_at", "-id")
OLDEST_FIRST = tuple(field.removeprefix("-") for field in TIMELINE)


@dataclass(frozen=True)
class Viewpoint:
    """When the tracker is looked at from: as at a date (what had happened by then) and as
    known on a date (what had been recorded by the end of that day) or at a moment (what had
    been recorded by then, to the second: what a permanent link cites). None: today."""

    as_at: datetime.date | None = None
    known_on: datetime.date | datetime.datetime | None = None

    @property
    def is_now(self):
        return self.as_at is None and self.known_on is None

    @property
    def day(self):
        """The date shown: the as-at date, or today."""
        return self.as_at or timezone.localdate()

    @property
    def known_at_moment(self):
        return isinstance(self.known_on, datetime.datetime)

    @property
    def known_day(self):
        """The day of `known_on`, in the tracker's time zone."""
        if self.known_at_moment:
            return timezone.localdate(self.known_on)
        return self.known_on

    @property
    def recorded_before(self):
        """The first moment after what it knows: after the `known_on` day, in the tracker's
        time zone, or after the second of a `known_on` moment."""
        if self.known_on is None:
            return None
        if self.known_at_moment:
            return self.known_on.replace(microsecond=0) + datetime.timedelta(seconds=1)
        next_day = self.known_on + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))

    @property
    def known_param(self):
        """`known_on` as an address gives it: YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ (UTC)."""
        if self.known_at_moment:
            return self.known_on.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.known_on.isoformat() if self.known_on else ""

    def recorded_label(self):
        """When what it shows had been recorded by, in words: a day, or a day and a time."""
        if self.known_on is None:
            return formats.date_format(timezone.localdate())
        if self.known_at_moment:
            return formats.date_format(timezone.localtime(self.known_on), "DATETIME_FORMAT")
        return formats.date_format(self.known_on)

    def query(self):
        """`as_of=…&known_on=…` for links that keep this viewpoint ("" for today)."""
        parts = []
        if self.as_at:
            parts.append(f"as_of={self.as_at.isoformat()}")
        if self.known_on:
            parts.append(f"known_on={self.known_param}")
        return "&".join(parts)


NOW = Viewpoint()


class CommitmentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def as_of(self, as_at=None, known_on=None):
        """Each commitment's state from a viewpoint, as at_status, at_progress (effective),
        at_last_follow_up (the date of its latest evidence) and at_last_recorded (when that
        evidence was last added to).

        Today's state is the stored copy that commitments.derived keeps equal to the
        follow-ups (`manage.py verify` proves it); any other viewpoint is read from the
        follow-ups themselves, in subqueries: one query whatever the size.
        """
        point = as_at if isinstance(as_at, Viewpoint) else Viewpoint(as_at, known_on)
        # The day the verdicts are judged on: evidence ages relative to the date shown.
        seen_on = Value(point.day, output_field=models.DateField())
        if point.is_now:
            return self.annotate(
                at_date=seen_on,
                at_status=Coalesce(F("state__status"), Value(Status.NOT_ASSESSED.value)),
                at_progress=F("state__progress"),
                at_last_follow_up=F("state__last_follow_up_on"),
                at_last_recorded=F("state__last_recorded_at"),
            )
        latest = FollowUp.objects.filter(commitment=OuterRef("pk")).seen_from(point).timeline()
        return self.annotate(
            at_date=seen_on,
            at_status=Coalesce(
                Subquery(latest.values("status")[:1]), Value(Status.NOT_ASSESSED.value)
            ),
            at_given_progress=Subquery(latest.values("progress")[:1]),
            at_last_follow_up=Subquery(latest.values("happened_on")[:1]),
            at_last_recorded=Subquery(
                latest.order_by("-recorded_at", "-id").values("recorded_at")[:1]
            ),
        )

    def seen_from(self, point):
        """Commitments that existed from `point`: made by its as-at date (their statement's
        date), and created in the tracker by its known-on date."""
        qs = self
        if point.as_at is not None:
            qs = qs.filter(statement__date__lte=point.as_at)
        if point.known_on is not None:
            qs = qs.filter(created_at__lt=point.recorded_before)
        return qs

    def made_by(self, date=None):
        """Commitments whose statement had been made by `date` (all of them for None)."""
        return self.seen_from(Viewpoint(date))

    def matching(
        self,
        *,
        theme=None,
        status="",
        statement=None,
        delegation="",
        article=None,
        q="",
        as_of=None,
    ):
        """The public list's filters. `status` applies to the state given by as_of();
        `as_of`: the Viewpoint (or as-at date) whose public notes the search reads."""
        point = as_of if isinstance(as_of, Viewpoint) else Viewpoint(as_of)
        qs = self
        if theme is not None:
            qs = qs.filter(theme=theme)
        if statement is not None:
            qs = qs.filter(statement=statement)
        if delegation:
            qs = qs.filter(statement__delegation__code=delegation)  # forms.public_delegations
        if article is not None:
            qs = qs.filter(articles=article)
        if status:
            qs = qs.filter(self.verdict_q(status, point.day))
        if q:
            # In the page's language and in English, the language content is first written
            # in; the quote in its own. Public notes only, and only those written by the date
            # shown.
            notes = FollowUp.objects.filter(
                search_q("public_note", q), commitment=OuterRef("pk")
            ).seen_from(point)
            qs = qs.filter(search_q("title", q) | Q(quote__icontains=q) | Exists(notes))
        return qs

    def verdict_q(self, verdict, day):
        """Commitments whose verdict on `day` is `verdict` (see verdict_of)."""
        status, evidence = self._state("status"), self._state("last_follow_up")
        confirmed = confirmed_q(day, status, evidence)
        if verdict == Verdict.NOT_CONFIRMED:
            return ~confirmed & Q(**{f"{evidence}__isnull": False})
        if verdict in NEVER_EXPIRES:
            return Q(**{status: verdict})
        return Q(**{status: verdict}) & confirmed

    def _state(self, field):
        """The as_of() annotation for `field` when there is one, else today's stored one."""
        name = f"at_{field}"
        stored = {"last_follow_up": "last_follow_up_on"}.get(field, field)
        return name if name in self.query.annotations else f"state__{stored}"

    def for_list(self):
        return (
            self.select_related(
                "theme", "statement__delegation__state", "statement__convention_meeting"
            )
            .defer("statement__text")
            .order_by("reference")
        )

    def overdue(self, today=None):
        return self.filter(overdue_q(today))

    def stale(self, today=None):
        """Not checked for settings.REVIEW_STALE_DAYS (see stale_q)."""
        return self.filter(stale_q(today))

    def summaries(self, by="theme_id"):
        """(ProgressSummary of them all, {group: ProgressSummary}) in one query; groups are
        the values of the field `by` (theme pk by default; e.g. "statement_id",
        "statement__delegation__code"). See summaries_by()."""
        overall, groups = self.summaries_by(by)
        return overall, groups

    def summaries_by(self, *fields):
        """(ProgressSummary of them all, {group: ProgressSummary} for each of `fields`), in
        one query and one pass, however many groupings.

        The one method behind every figure: the whole tracker, a theme, a statement, a
        delegation, a filtered selection, from any viewpoint. First the verdicts: how many
        commitments stand at each status on the day shown, "not yet assessed" and "not
        confirmed" (evidence older than the window) included. Then the weighted mean progress
        over the commitments with a current verdict; the other two are counted and left out,
        never 0 %.
        """
        qs = self if "at_status" in self.query.annotations else self.as_of()
        columns = ["weight", "at_status", "at_last_follow_up", "at_date", *fields]
        if "at_given_progress" in qs.query.annotations:
            rows = qs.values_list(*columns, "at_given_progress")
            effective = effective_progress
        else:
            rows = qs.values_list(*columns, "at_progress")

            def effective(_status, progress):
                return progress  # the stored copy is already the effective figure

        overall, groupings = _Tally(), [{} for _field in fields]
        for weight, status, evidence, day, *groups, progress in rows.order_by():
            verdict = verdict_of(status, evidence, day)
            value = None if verdict in UNCOUNTED else effective(status, progress)
            overall.add(weight, verdict, value)
            for tallies, group in zip(groupings, groups, strict=True):
                tallies.setdefault(group, _Tally()).add(weight, verdict, value)
        return (
            overall.summary(),
            *(
                {group: tally.summary() for group, tally in tallies.items()}
                for tallies in groupings
            ),
        )

    def progress_summary(self):
        return self.summaries()[0]

    def progress_by_theme(self):
        return self.summaries()[1]


class _Tally:
    def __init__(self):
        self.weighted = self.weights = 0
        self.verdict_counts = {}

    def add(self, weight, verdict, progress):
        self.verdict_counts[verdict] = self.verdict_counts.get(verdict, 0) + 1
        if progress is not None:
            self.weighted += weight * progress
            self.weights += weight

    def summary(self):
        percent = round(self.weighted / self.weights, 1) if self.weights else None
        return ProgressSummary(percent, {key: n for key, n in self.verdict_counts.items() if n})


@dataclass
class ProgressSummary:
    """The figures of a set of commitments: how many stand at each verdict, then the weighted
    mean progress of those with a current verdict (None when there are none)."""

    percent: float | None
    verdict_counts: dict  # verdict value -> number of commitments (zeros left out)

    def count(self, verdict):
        return self.verdict_counts.get(Verdict(verdict).value, 0)

    @property
    def total(self):
        return sum(self.verdict_counts.values())

    @property
    def unassessed(self):
        return self.count(Verdict.NOT_ASSESSED)

    @property
    def unconfirmed(self):
        return self.count(Verdict.NOT_CONFIRMED)

    @property
    def assessed(self):
        """Commitments counted in the mean: assessed, with a current verdict."""
        return self.total - self.unassessed - self.unconfirmed

    def verdict_list(self):
        """(Verdict, count) for every verdict, in the bar's order, zeros included."""
        return [(verdict, self.count(verdict)) for verdict in Verdict]

    def bar(self):
        """The verdict bar's segments: (Verdict, count, start, width), start and width in %
        of the total, for the verdicts that have any."""
        total, start, segments = self.total, 0, []
        for verdict, n in self.verdict_list():
            if n:
                segments.append(
                    (verdict, n, round(100 * start / total, 2), round(100 * n / total, 2))
                )
                start += n
        return segments


class Commitment(models.Model):
    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="commitments"
    )
    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), on_delete=models.PROTECT, related_name="commitments"
    )
    reference = models.SlugField(
        _("reference"),
        max_length=40,
        unique=True,
        help_text=_(
            "Stable public reference used in the commitment's address, e.g. NOR-2012-03. "
            "Never change it once published: people cite it."
        ),
    )
    title = models.CharField(
        _("title"), max_length=200, help_text=_("A short summary in plain words.")
    )
    quote = models.TextField(
        _("quote"),
        help_text=_(
            "The exact words of the statement this commitment comes from, copied "
            "character for character."
        ),
    )
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=Kind,
        default=Kind.ONE_OFF,
        help_text=_(
            "Continuous commitments (“continues to promote”) are on track or "
            "off track, never achieved."
        ),
    )
    articles = models.ManyToManyField(
        Article,
        verbose_name=_("articles"),
        blank=True,
        related_name="commitments",
        help_text=_("Convention articles it serves."),
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("How much it counts in progress averages (1 to 10)."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_commitments",
        help_text=_("The staff member who keeps this commitment up to date."),
    )
    next_review = models.DateField(
        _("next review"),
        null=True,
        blank=True,
        help_text=_("When staff should next check on this commitment."),
    )
    published = models.BooleanField(
        _("published"), default=True, help_text=_("Unpublished commitments are seen by staff only.")
    )
    criteria = models.TextField(
        _("what would count as progress"),
        blank=True,
        validators=[MaxLengthValidator(CRITERIA_MAX_LENGTH), validate_criteria],
        help_text=_(
            "What evidence would move it to each status, one line a status: the status, a "
            "colon, then the evidence, e.g. “On track: at least one … recorded in the last 12 "
            "months, with a source.” One-off commitments: Not started, Off track, In progress, "
            "Achieved; continuous ones: Off track, On track. Public: shown on its page and "
            "exported."
        ),
    )
    reading = models.TextField(
        _("how this is read"),
        blank=True,
        validators=[MaxLengthValidator(READING_MAX_LENGTH)],
        help_text=_(
            "Where the words are not a plain promise (“is necessary”, “we are interested "
            "in”): how the tracker reads them and judges them. Public: shown on its page and "
            "exported."
        ),
    )
    # Its state (status, progress, dates) is derived from its follow-ups: CommitmentState.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CommitmentQuerySet.as_manager()
    # Who changed what and when; follow-ups are their own append-only history.
    history = HistoricalRecords(m2m_fields=[articles])

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values), name="commitments_commitment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=10),
                name="commitments_commitment_weight_range",
            ),
        ]

    def __str__(self):
        return f"{self.reference} — {self.title}"

    def get_absolute_url(self):
        return reverse("commitment_detail", args=[self.reference])

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        # The reference it was stored under, to tell a rename (see reference_error).
        instance._stored_reference = instance.__dict__.get("reference")
        return instance

    def was_published(self):
        """Whether it is public now or was in any saved version: then people may cite it."""
        if self.pk is None:
            return False
        past = self.history.model.objects.filter(id=OuterRef("pk"), published=True)
        return (
            Commitment.objects.filter(pk=self.pk).filter(Q(published=True) | Exists(past)).exists()
        )

    def reference_error(self):
        """Why its reference may not change, or None. A published commitment's reference is
        its public address, cited by others: it never changes (a draft's may)."""
        stored = getattr(self, "_stored_reference", None)
        if stored is None or stored == self.reference or not self.was_published():
            return None
        return _(
            "“%(reference)s” has been published: its reference is the address people cite, "
            "so it cannot change. Keep “%(reference)s”."
        ) % {"reference": stored}

    def clean(self):
        errors = {}
        # Each language's version by its column (the bare name reads another language's
        # where one is missing). A browser sends a textarea's lines as CRLF: one form, so a
        # save changes nothing.
        for code, _name in settings.LANGUAGES:
            for field in ("criteria", "reading"):
                if text := getattr(self, f"{field}_{code}"):
                    setattr(self, f"{field}_{code}", one_newline(text))
            if problem := kind_error(getattr(self, f"criteria_{code}"), self.kind):
                errors[f"criteria_{code}"] = problem
        if self.statement_id and (problem := quote_error(self.quote, self.statement.text)):
            errors["quote"] = problem
        if problem := self.reference_error():
            errors["reference"] = problem
        if errors:
            raise ValidationError(errors)

    # Its state, from the viewpoint of the queryset's as_of() when it used one, else today's
    # (the stored CommitmentState). Read-only: follow-ups are the only way to change it.

    def _today(self):
        try:
            return self.state
        except CommitmentState.DoesNotExist:
            return CommitmentState(commitment=self)

    @property
    def status(self):
        return Status(getattr(self, "at_status", None) or self._today().status)

    @property
    def progress(self):
        """Effective progress: what it counts for in every average (None: left out)."""
        if hasattr(self, "at_given_progress"):
            return effective_progress(self.at_status, self.at_given_progress)
        if hasattr(self, "at_progress"):
            return self.at_progress
        return self._today().progress

    @property
    def last_follow_up_on(self):
        """The date its latest evidence happened."""
        if hasattr(self, "at_last_follow_up"):
            return self.at_last_follow_up
        return self._today().last_follow_up_on

    @property
    def last_recorded_at(self):
        """When a follow-up was last recorded on it."""
        if hasattr(self, "at_last_recorded"):
            return self.at_last_recorded
        return self._today().last_recorded_at

    def get_status_display(self):
        return self.status.label

    @property
    def seen_on(self):
        """The day its verdict is judged on: the date its queryset's as_of() shows, or today."""
        return getattr(self, "at_date", None) or timezone.localdate()

    @property
    def confirm_by(self):
        """The last day its verdict counts without new evidence (None: never expires)."""
        return confirm_by(self.status, self.last_follow_up_on)

    @property
    def verdict(self):
        """Its status, or "not confirmed" when its evidence has aged past the window."""
        return verdict_of(self.status, self.last_follow_up_on, self.seen_on)

    @property
    def confirmed(self):
        return self.verdict != Verdict.NOT_CONFIRMED

    @property
    def counted_progress(self):
        """What it counts for in the weighted mean on the day shown (None: left out)."""
        return None if self.verdict in UNCOUNTED else self.progress

    def forget_state(self):
        """Drop the state read with this instance, so the next read is fresh."""
        for name in ("at_status", "at_given_progress", "at_progress", "at_last_follow_up"):
            self.__dict__.pop(name, None)
        self.__dict__.pop("at_date", None)
        self.__dict__.pop("at_last_recorded", None)
        self._state.fields_cache.pop("state", None)

    # Templates written before the state moved read these names.
    state_status = status
    state_progress = progress

    @property
    def status_info(self):
        return STATUS_INFO[self.status]

    state_info = status_info

    @property
    def allowed_statuses(self):
        return STATUSES_BY_KIND[Kind(self.kind)]

    def assessment_criteria(self):
        """What evidence would move it to each status: [Criterion(status, evidence)] in
        scale order, read from `criteria` in the active language, or its first version in
        another (commitments/content.py; the page marks which)."""
        return parse_criteria(localized(self, "criteria").text)

    def is_overdue(self, today=None):
        return self.next_review is not None and self.next_review < (today or timezone.localdate())

    def is_stale(self, today=None):
        """Not checked for settings.REVIEW_STALE_DAYS (the same rule as stale_q)."""
        if self.status == Status.ACHIEVED:
            return False
        last = self.last_recorded_at or self.created_at
        return last is not None and last < _stale_cutoff(today)

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
                            _field_label(field),
                            _display(change.old),
                            _display(change.new),
                        )
                    )
            editors = {r.history_user for r in records if r.history_user is not None}
        else:
            editors = set()
        return Changes(follow_ups=follow_ups, edits=edits, editors=sorted(editors, key=str))


def _field_label(field):
    """A field's name for people; a language version says its language: "title (English)"."""
    if language := getattr(field, "language", None):  # a django-modeltranslation column
        name = translation.get_language_info(language)["name_translated"]
        return f"{field.translated_field.verbose_name} ({name})"
    return field.verbose_name


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
        """Newest first, in the one timeline order (TIMELINE)."""
        return self.order_by(*TIMELINE)

    def oldest_first(self):
        return self.order_by(*OLDEST_FIRST)

    def seen_from(self, point):
        return self.filter(seen_from_q(point))

    # History is append-only: bulk changes are refused as well as single ones.
    def update(self, **kwargs):
        raise AppendOnlyError(_("Follow-ups cannot be changed; record a new one instead."))

    def delete(self):
        raise AppendOnlyError(_("Follow-ups cannot be deleted; record a correction instead."))


def seen_from_q(point):
    """The follow-ups visible from a Viewpoint: those that had happened by its as-at date and
    had been recorded by the end of its known-on day. The one as-of filter."""
    condition = Q()
    if point.as_at is not None:
        condition &= Q(happened_on__lte=point.as_at)
    if point.known_on is not None:
        condition &= Q(recorded_at__lt=point.recorded_before)
    return condition


class AppendOnlyError(Exception):
    pass


# A note is a few paragraphs, not a document (link the document as evidence). A validator,
# not max_length: record_follow_up()'s full_clean() checks it, and no table is rebuilt.
NOTE_MAX_LENGTH = 10_000


class FollowUpContent(models.Model):
    """What a follow-up says: the one home of these fields and their rules, shared by a
    follow-up (FollowUp, the record) and a follow-up waiting for a second review
    (ProposedFollowUp), so that confirming one copies it field for field."""

    status = models.CharField(_("status"), max_length=20, choices=Status)
    progress = models.PositiveSmallIntegerField(
        _("progress"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Optional, 0 to 100. Left empty, the status's standard figure is used."),
    )
    happened_on = models.DateField(
        _("happened on"), help_text=_("The date it happened, not the date you record it.")
    )
    public_note = models.TextField(
        _("public note"),
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text=_("What happened, in words the public will read."),
    )
    internal_note = models.TextField(
        _("internal note"),
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text=_("Seen by staff only. Never published, exported or fed."),
    )
    evidence_url = models.URLField(_("evidence URL"), blank=True, max_length=500)
    evidence_label = models.CharField(
        _("evidence label"),
        max_length=200,
        blank=True,
        help_text=_("What the link is, e.g. “Ratification record”."),
    )

    class Meta:
        abstract = True

    def set_states_once(self, states):
        """The states it concerns, set as it is recorded (records.py): the one change of its
        `states` that the append-only guard (end of this module) lets through."""
        self._setting_states = True
        try:
            self.states.add(*states)
        finally:
            del self._setting_states

    @property
    def effective_progress(self):
        return effective_progress(self.status, self.progress)

    def clean(self):
        errors = {}
        kind = Kind(self.commitment.kind) if self.commitment_id else None
        if kind and self.status and self.status not in STATUSES_BY_KIND[kind]:
            errors["status"] = _("“%(status)s” does not apply to a %(kind)s commitment.") % {
                "status": Status(self.status).label,
                "kind": kind.label.lower(),
            }
        if self.status and (problem := progress_error(self.status, self.progress)):
            errors["progress"] = problem
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


class FollowUp(FollowUpContent):
    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    # Set when it is recorded, like the rest of it (append-only).
    states = models.ManyToManyField(
        "State",
        verbose_name=_("states concerned"),
        blank=True,
        related_name="follow_ups",
        help_text=_("The states it concerns, e.g. the signatories invited to a workshop."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    # The commitment's version this follow-up produced: lets a stale form list what it missed.
    commitment_version = models.PositiveIntegerField(
        _("commitment version"), null=True, editable=False
    )
    # Set when a second editor confirms a proposed follow-up (records.confirm_proposal): the
    # proposal it comes from and who confirmed it, never its author (a database check too).
    proposal = models.OneToOneField(
        "ProposedFollowUp",
        verbose_name=_("proposed follow-up"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="follow_up",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="confirmed_follow_ups",
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = TIMELINE
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="commitments_followup_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="commitments_followup_progress_range",
            ),
            # Nobody judges alone: the second reviewer is never the author.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("author")),
                name="commitments_followup_confirmed_by_another",
            ),
            models.CheckConstraint(
                condition=Q(proposal__isnull=True, confirmed_by__isnull=True)
                | Q(proposal__isnull=False, confirmed_by__isnull=False),
                name="commitments_followup_confirmed_with_proposal",
            ),
        ]
        indexes = [
            # A commitment's latest follow-up, from any viewpoint, is one index seek.
            models.Index(fields=["commitment", *TIMELINE], name="commitments_followup_timeline"),
            # The feed's "latest follow-ups" reads this index instead of sorting them all.
            models.Index(fields=list(TIMELINE), name="commitments_followup_latest"),
        ]

    def __str__(self):
        return f"{self.commitment.reference} · {self.get_status_display()} · {self.happened_on}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("Follow-ups cannot be changed; record a new one instead."))
        super().save(*args, **kwargs)

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


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are history: bulk changes are refused as well as single ones."""

    def update(self, **kwargs):
        raise AppendOnlyError(_("This is history: it cannot be changed."))

    def delete(self):
        raise AppendOnlyError(_("This is history: it cannot be deleted."))


class AppendOnly(models.Model):
    """A row written once and never changed or deleted (save, delete, queryset update refuse)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("This is history: it cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("This is history: it cannot be deleted."))


class ProposedFollowUpQuerySet(AppendOnlyQuerySet):
    def pending(self):
        """Waiting for a second editor: no review yet. The one filter of the queue."""
        return self.filter(review__isnull=True)

    def sent_back(self):
        return self.filter(review__decision=Decision.SENT_BACK)


class Decision(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    SENT_BACK = "sent_back", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn by its author")


class ProposedFollowUp(FollowUpContent, AppendOnly):
    """A follow-up that changes a commitment's status, waiting for a second editor
    (settings.SECOND_REVIEW). Staff only: nothing public reads this table. Confirming it
    writes the FollowUp (records.confirm_proposal); either decision is a Review row."""

    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    states = models.ManyToManyField(
        "State",
        verbose_name=_("states concerned"),
        blank=True,
        related_name="proposed_follow_ups",
        help_text=_("The states it concerns, e.g. the signatories invited to a workshop."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="proposed_follow_ups",
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now, editable=False)
    # The commitment's version its author saw: confirming it is refused if the commitment
    # moved since (records.claim_version), with what changed.
    based_on_version = models.PositiveIntegerField(_("based on version"), editable=False)
    # The commitment's status and progress figure when it was proposed: "what would change".
    status_before = models.CharField(
        _("status before"), max_length=20, choices=Status, editable=False
    )
    progress_before = models.PositiveSmallIntegerField(
        _("progress before"), null=True, blank=True, editable=False
    )

    objects = ProposedFollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("proposed follow-up")
        verbose_name_plural = _("proposed follow-ups")
        ordering = ["proposed_at", "pk"]
        permissions = [
            ("review_followup", _("Can confirm or send back another editor's follow-up")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="commitments_proposedfollowup_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="commitments_proposedfollowup_progress_range",
            ),
        ]

    def __str__(self):
        return f"{self.commitment.reference} · {self.get_status_display()} · {self.happened_on}"


class Review(AppendOnly):
    """A second editor's decision on a proposed follow-up: confirmed, or sent back with a
    note. One per proposal, never changed; the author sees a sent-back one on the staff page."""

    proposal = models.OneToOneField(
        ProposedFollowUp,
        verbose_name=_("proposed follow-up"),
        on_delete=models.PROTECT,
        related_name="review",
    )
    decision = models.CharField(_("decision"), max_length=12, choices=Decision)
    note = models.TextField(
        _("note"),
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text=_("Required when sending back: what the author should check or change."),
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="commitments_review_decision_valid"
            ),
            models.CheckConstraint(
                condition=~Q(decision=Decision.SENT_BACK) | ~Q(note=""),
                name="commitments_review_sent_back_with_note",
            ),
        ]

    def __str__(self):
        return f"{self.proposal} · {self.get_decision_display()}"


class ReminderLog(models.Model):
    """When an owner was last sent their review reminder: at most one a day."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_reminder"
    )
    last_sent_on = models.DateField()

    def __str__(self):
        return f"{self.owner} · {self.last_sent_on}"


class StaffPreferenceQuerySet(models.QuerySet):
    def language_of(self, user):
        """The language `user` chose for the staff pages and the admin, or None."""
        return self.filter(user=user).values_list("language", flat=True).first()


class StaffPreference(models.Model):
    """A staff member's own choices for the staff side: the language its pages are shown in
    (ccmtracker.middleware.StaffLanguageMiddleware). Public pages keep the language of their
    address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        help_text=_("The language of the staff pages and the admin for this person."),
    )

    objects = StaffPreferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="commitments_staffpreference_language_valid",
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.language}"


class Period(models.TextChoices):
    DAY = "day", _("day")
    MONTH = "month", _("month")


class ProgressStep(models.Model):
    """A published commitment's part in the progress history: on `date` (the day it was made,
    and each day its effective progress changed) it adds these amounts to its theme's
    weighted sum of progress, sum of weights and count of commitments made.

    Derived data, written only by commitments.derived.sync() (and rebuild(), which
    `manage.py verify --repair` runs); `manage.py verify` proves it. No foreign-key
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


class Outdated(models.Model):
    """A commitment whose derived copies (its stored state, its part in the progress history)
    may no longer match its follow-ups.

    Rows are written by database triggers (commitments/derived.py installs them) on every
    insert, update or delete of a follow-up or commitment and every change of a statement's
    date — whatever path the write takes: the ORM, bulk writes, raw SQL, loaddata, imports,
    restores, migrations. `derived.sync()` is the one reader: it takes them and brings the
    copies up to date.
    """

    commitment_id = models.IntegerField(primary_key=True)

    class Meta:
        db_table = "commitments_outdated"

    def __str__(self):
        return f"commitment {self.commitment_id}"


class CommitmentState(models.Model):
    """A commitment's state today, derived from its follow-ups and stored for speed: the
    status and effective progress of its latest follow-up, the date that evidence happened,
    and when a follow-up on it was last recorded.

    Written only by commitments.derived.sync(), never by a commitment's own save (so an edit
    form opened before a follow-up cannot overwrite it); `manage.py verify` proves every row
    equal to a recompute from the follow-ups.
    """

    commitment = models.OneToOneField(
        Commitment, on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.NOT_ASSESSED
    )
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    last_follow_up_on = models.DateField(null=True, blank=True)
    last_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="commitments_state_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="commitments_state_progress_range",
            ),
        ]

    def __str__(self):
        return f"{self.commitment_id} · {self.status}"


# --- States, delegations, meetings and the Convention's reach (issue 14) ---------------------


class Region(models.TextChoices):
    """The continental regions of the UN's M49 standard (unstats.un.org/unsd/methodology/m49)."""

    AFRICA = "africa", _("Africa")
    AMERICAS = "americas", _("Americas")
    ASIA = "asia", _("Asia")
    EUROPE = "europe", _("Europe")
    OCEANIA = "oceania", _("Oceania")


class State(models.Model):
    """A state that can join the Convention. Its name comes from its ISO 3166 code, in the
    reader's language (django-countries); its treaty status is never stored but derived from
    its TreatyEvents (commitments/reach.py)."""

    country = CountryField(_("country"), unique=True)
    region = models.CharField(_("region"), max_length=10, choices=Region)

    class Meta:
        verbose_name = _("state")
        verbose_name_plural = _("states")
        ordering = ["country"]

    def __str__(self):
        return str(self.country.name)

    def get_absolute_url(self):
        return reverse("state_detail", args=[self.country.code])

    @property
    def name(self):
        return self.country.name


# Oslo: commitments/treaty.py's OPENED_FOR_SIGNATURE (treaty.py imports this module).
CONVENTION_OPENED_FOR_SIGNATURE = datetime.date(2008, 12, 3)


class TreatyEventQuerySet(models.QuerySet):
    def known_from(self, point):
        """The events recorded by a Viewpoint's known-on moment (all of them for today). The
        as-at date is applied by the Articles' rules (reach.py), not here: an event dated
        later is simply not yet in force."""
        if point.known_on is None:
            return self
        return self.filter(recorded_at__lt=point.recorded_before)

    # Append-only, like the follow-ups: a mistaken event is retracted by a new one.
    def update(self, **kwargs):
        raise AppendOnlyError(_("Treaty events cannot be changed; record a correction instead."))

    def delete(self):
        raise AppendOnlyError(_("Treaty events cannot be deleted; record a correction instead."))


class TreatyEvent(models.Model):
    """One dated action of a state towards the Convention, as the depositary records it, with
    its source. Append-only."""

    class Kind(models.TextChoices):
        # Values are commitments/treaty.py's action kinds.
        SIGNATURE = "signature", _("Signature")
        RATIFICATION = "ratification", _("Ratification")
        ACCESSION = "accession", _("Accession")
        ACCEPTANCE = "acceptance", _("Acceptance")
        APPROVAL = "approval", _("Approval")
        PROVISIONAL_APPLICATION = "provisional_application", _("Provisional application")
        WITHDRAWAL = "withdrawal", _("Withdrawal")

    state = models.ForeignKey(
        State, verbose_name=_("state"), on_delete=models.PROTECT, related_name="treaty_events"
    )
    kind = models.CharField(_("event"), max_length=30, choices=Kind)
    date = models.DateField(
        _("date"),
        help_text=_(
            "As the depositary records it: the day of signature, of the deposit of the "
            "instrument, or of the depositary's receipt of a withdrawal."
        ),
    )
    armed_conflict_ends = models.DateField(
        _("end of armed conflict"),
        null=True,
        blank=True,
        help_text=_(
            "A withdrawal only: if the state is engaged in an armed conflict, the day it ends; "
            "the withdrawal takes effect no earlier (Art. 20(2))."
        ),
    )
    notification = models.CharField(
        _("depositary notification"),
        max_length=60,
        blank=True,
        help_text=_("Its number, e.g. C.N.123.2011.TREATIES-XXVI.6."),
    )
    source_url = models.URLField(_("source URL"), max_length=500, blank=True)
    corrects = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_by",
        help_text=_(
            "An entry recorded by mistake that this one replaces: from when this one is "
            "recorded, that one no longer counts."
        ),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )

    objects = TreatyEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("treaty event")
        verbose_name_plural = _("treaty events")
        ordering = ["state", "date", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(notification="") | ~Q(source_url=""),
                name="commitments_treatyevent_sourced",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "signature",
                        "ratification",
                        "accession",
                        "acceptance",
                        "approval",
                        "provisional_application",
                        "withdrawal",
                    ]
                ),
                name="commitments_treatyevent_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["recorded_at"], name="commitments_treatyevent_known")]

    def __str__(self):
        return f"{self.state} · {self.get_kind_display()} · {self.date}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(
                _("Treaty events cannot be changed; record a correction instead.")
            )
        super().save(*args, **kwargs)
        # Every public page that counts states (the dashboard's indicator, a universalisation
        # commitment's context, the states pages) is outdated once this commits.
        public_data_changed()

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("Treaty events cannot be deleted; record a correction instead."))

    def clean(self):
        errors = {}
        if not self.notification.strip() and not self.source_url.strip():
            errors["notification"] = _(
                "Give the source: the depositary notification's number, a link, or both."
            )
        if self.armed_conflict_ends and self.kind != self.Kind.WITHDRAWAL:
            errors["armed_conflict_ends"] = _(
                "Only a withdrawal waits for an armed conflict to end."
            )
        if self.date and self.date > timezone.localdate() + datetime.timedelta(1):
            errors["date"] = _("This date is in the future.")
        if self.date and self.date < CONVENTION_OPENED_FOR_SIGNATURE:
            errors["date"] = _(
                "The Convention was opened for signature on 3 December 2008: no state acted "
                "on it before."
            )
        if self.corrects_id is not None:
            if self.corrects_id == self.pk:
                errors["corrects"] = _("An entry cannot correct itself.")
            else:
                earlier = (
                    TreatyEvent.objects.filter(corrects_id=self.corrects_id)
                    .exclude(pk=self.pk)
                    .first()
                )
                if earlier is not None:
                    errors["corrects"] = _(
                        "That entry was already corrected by “%(correction)s” (recorded "
                        "%(recorded)s): correct that one instead."
                    ) % {
                        "correction": earlier,
                        "recorded": formats.date_format(timezone.localtime(earlier.recorded_at)),
                    }
        if errors:
            raise ValidationError(errors)


class MeetingQuerySet(models.QuerySet):
    def closed_between(self, first, last):
        """The meetings that closed (their last day) on or after `first` and on or before
        `last`, earliest first: the "as at the close of a meeting" choices of a page whose
        data starts on `first`. None when `first` is None (no data yet)."""
        if first is None:
            return self.none()
        return self.filter(end__gte=first, end__lte=last).order_by("end", "start", "code")

    def closed(self, today=None):
        """The meetings whose last day has passed (or is today): those with a report."""
        return self.filter(end__lte=today or timezone.localdate())


class Meeting(models.Model):
    """A meeting of the Convention: the tracker can be shown as at its close (its last day),
    and reported on against the one before."""

    class Kind(models.TextChoices):
        MEETING_OF_STATES_PARTIES = "msp", _("Meeting of States Parties")
        REVIEW_CONFERENCE = "review", _("Review Conference")
        INTERSESSIONAL = "intersessional", _("Intersessional meeting")

    code = models.SlugField(
        _("code"),
        max_length=20,
        unique=True,
        help_text=_("The Convention's own abbreviation, e.g. 3MSP; used in the report's address."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    name = models.CharField(_("name"), max_length=200)
    place = models.CharField(_("place"), max_length=120)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    source_url = models.URLField(
        _("source URL"), max_length=500, help_text=_("Where its dates and place are recorded.")
    )

    history = HistoricalRecords()

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["end", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")), name="commitments_meeting_dates_in_order"
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    def get_absolute_url(self):
        """Its report (there once it has closed)."""
        return reverse("meeting_report", args=[self.code])

    def clean(self):
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The last day is before the first.")})

    def has_closed(self, today=None):
        """Has its last day come (MeetingQuerySet.closed's rule, for one meeting)?"""
        return self.end <= (today or timezone.localdate())


class Delegation(models.Model):
    """Who makes a statement: a state, or an organisation (the ICRC, the Cluster Munition
    Coalition, a UN agency, the EU)."""

    class Kind(models.TextChoices):
        STATE = "state", _("State")
        ORGANISATION = "organisation", _("Organisation")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.STATE)
    state = models.OneToOneField(
        State,
        verbose_name=_("state"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="delegation",
    )
    name = models.CharField(
        _("name"),
        max_length=120,
        blank=True,
        help_text=_("An organisation's name. A state's comes from its country code."),
    )
    code = models.CharField(
        _("code"),
        max_length=6,
        unique=True,
        help_text=_(
            "Short code used in commitment references: a state's ISO three-letter code (NOR), "
            "an organisation's usual abbreviation (ICRC)."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="state") & Q(state__isnull=False))
                | (Q(kind="organisation") & Q(state__isnull=True) & ~Q(name="")),
                name="commitments_delegation_state_or_named_organisation",
            ),
        ]

    def __str__(self):
        return str(self.display_name)

    @property
    def display_name(self):
        """A state's name from its country code, in the reader's language; an organisation's
        from its name (see content.localized for the language it is shown in)."""
        if self.state_id:
            return self.state.country.name
        return self.name

    def version_of(self, field, language):
        """content.version's reading of `field` in `language`: a state's name is
        django-countries' in that language (every language has one); an organisation's is
        its translated name, "" where that version is missing."""
        if field == "name" and self.state_id:
            with translation.override(language):
                return str(self.state.country.name)
        return (getattr(self, f"{field}_{language}", None) or "").strip()

    @property
    def country_code(self):
        """A state's ISO 3166 alpha-2 code (NO), "" for an organisation."""
        return self.state.country.code if self.state_id else ""


def _follow_up_states_are_append_only(sender, instance, action, reverse, **kwargs):
    """A follow-up's states are part of the record: set once as it is recorded, never added
    to, removed or cleared afterwards, from either side of the relation."""
    if not action.startswith("pre_"):
        return
    if not reverse and action == "pre_add" and getattr(instance, "_setting_states", False):
        return
    raise AppendOnlyError(_("Follow-ups cannot be changed; record a new one instead."))


m2m_changed.connect(
    _follow_up_states_are_append_only,
    sender=FollowUp.states.through,
    dispatch_uid="follow_up_states_append_only",
)
m2m_changed.connect(
    _follow_up_states_are_append_only,
    sender=ProposedFollowUp.states.through,
    dispatch_uid="proposed_follow_up_states_append_only",
)


# --- Right of reply ---------------------------------------------------------------------------
# A reply is what someone outside the tracker (a delegation, an organisation) sends about a
# commitment from its public "Suggest an update or reply" page (commitments/replies.py). It is
# kept as sent, and nothing of it is public until a moderator decides: publish it as a reply,
# turn it into a follow-up (staff record one through the usual form), or reject it with a
# reason. Both the submission and the decision are history: never changed or deleted here.

REPLY_MAX_LENGTH = 3_000  # characters of text: a reply, not a report (link that as evidence)


class ReplySubmissionQuerySet(models.QuerySet):
    def waiting(self):
        """Sent, and not yet decided: the moderation queue."""
        return self.filter(decision__isnull=True)

    def published(self):
        """Published as replies, on published commitments: what the public may read."""
        return self.filter(
            decision__outcome=ReplyOutcome.PUBLISHED, commitment__published=True
        ).select_related("decision")

    def seen_from(self, point):
        """The published replies visible from a Viewpoint: sent by its as-at date, and
        published by the end of its known-on day (like seen_from_q for follow-ups)."""
        condition = Q()
        if point.as_at is not None:
            condition &= Q(submitted_at__date__lte=point.as_at)
        if point.known_on is not None:
            condition &= Q(decision__decided_at__lt=point.recorded_before)
        return self.filter(condition)

    def newest_first(self):
        return self.order_by("-decision__decided_at", "-id")

    def sender_kept(self):
        """Those whose sender's name and e-mail address have not been erased."""
        return self.filter(sender_erased_at__isnull=True)

    # History: bulk changes are refused as well as single ones. The one exception is
    # replies.erase_senders, which blanks the sender's name and e-mail address.
    def update(self, **kwargs):
        raise AppendOnlyError(_("Replies cannot be changed."))

    def delete(self):
        raise AppendOnlyError(_("Replies cannot be deleted."))


class ReplySubmission(models.Model):
    """What a person sent from a commitment's reply page, as sent. The e-mail address is for
    the moderators and the messages to the sender only: never published, exported or fed.

    The sender's name and e-mail address are personal data, kept for as long as moderation
    and the messages need them: replies.erase_senders blanks them (REPLY_SENDER_RETENTION_DAYS
    after the decision, or on the sender's request) and records when. Nothing else changes."""

    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        related_name="reply_submissions",
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200)
    email = models.EmailField(_("e-mail address"), max_length=254, blank=True)
    writes_for_delegation = models.BooleanField(
        _("writes for the delegation concerned"),
        default=False,
        help_text=_("What the sender said; staff check it before saying it was verified."),
    )
    text = models.TextField(_("text"), validators=[MaxLengthValidator(REPLY_MAX_LENGTH)])
    evidence_url = models.URLField(_("evidence link"), blank=True, max_length=500)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        help_text=_("The language of the page it was sent from: the sender's messages use it."),
    )
    submitted_at = models.DateTimeField(_("sent at"), default=timezone.now, editable=False)
    sender_erased_at = models.DateTimeField(
        _("sender's details erased at"), null=True, blank=True, editable=False
    )

    objects = ReplySubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["-submitted_at", "-id"]
        permissions = [("moderate_replysubmission", "Can moderate replies")]
        indexes = [
            models.Index(fields=["email", "submitted_at"], name="commitments_reply_by_email"),
        ]
        constraints = [
            # Either the sender's name and address are there, or both were erased, when.
            models.CheckConstraint(
                condition=(
                    Q(sender_erased_at__isnull=True) & ~Q(name="") & ~Q(email="")
                    | Q(sender_erased_at__isnull=False, name="", email="")
                ),
                name="commitments_reply_sender_kept_or_erased",
            ),
        ]

    def __str__(self):
        return f"{self.commitment.reference} · {self.organisation} · {self.submitted_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("Replies cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("Replies cannot be deleted."))


class ReplyOutcome(models.TextChoices):
    PUBLISHED = "published", _("Published as a reply")
    FOLLOW_UP = "follow_up", _("Turned into a follow-up")
    REJECTED = "rejected", _("Rejected")


class ReplyDecisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(_("A decision on a reply cannot be changed."))

    def delete(self):
        raise AppendOnlyError(_("A decision on a reply cannot be deleted."))


class ReplyDecision(models.Model):
    """A moderator's one decision on a submission, with who and when: never changed."""

    submission = models.OneToOneField(
        ReplySubmission,
        verbose_name=_("reply"),
        on_delete=models.PROTECT,
        related_name="decision",
    )
    outcome = models.CharField(_("decision"), max_length=20, choices=ReplyOutcome)
    reason = models.TextField(
        _("reason"),
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text=_("Why it was rejected: sent to the sender, never published."),
    )
    sender_verified = models.BooleanField(
        _("sender verified by staff"),
        default=False,
        help_text=_("Staff checked who sent it (e.g. by writing back to the delegation)."),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="reply_decisions",
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now, editable=False)

    objects = ReplyDecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision on a reply")
        verbose_name_plural = _("decisions on replies")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=ReplyOutcome.values),
                name="commitments_replydecision_outcome_valid",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=ReplyOutcome.REJECTED) | ~Q(reason=""),
                name="commitments_replydecision_reject_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.decided_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("A decision on a reply cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("A decision on a reply cannot be deleted."))
