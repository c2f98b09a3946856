"""The meeting report: /reports/<meeting>/ and its PDF. (Issue 14.)

The tracker as it stood at a meeting's close (its last day) compared with the close of the
meeting before it (the first meeting: with the Convention's opening for signature): the
states that joined or left (reach.py, the one home of treaty status), the headline figures
(the dashboard's summaries), the verdicts that changed and the follow-ups that happened in
between, by theme and by delegation. Both dates are seen as recorded on one day (?known_on=,
today by default), so a permanent link gives the same report forever. The PDF is the same
template, printed by WeasyPrint from the app's own static files.
"""

import datetime
import mimetypes
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ccmtracker.pagecache import public_page

from . import reach, treaty
from .content import localized
from .forms import DELEGATION_KEY, PublicFilterForm, public_commitments
from .models import (
    Commitment,
    FollowUp,
    Meeting,
    State,
    Statement,
    Theme,
    Verdict,
    Viewpoint,
)
from .templatetags.tracker import badge
from .views import _cite

# How a state's standing moved between the two closing days.
JOINED, SIGNED, LEFT = "joined", "signed", "left"
JOINS_ON, LEAVES_ON = "joins_on", "leaves_on"  # set in motion, in force after the close


@dataclass
class StateChange:
    state: State
    change: str  # JOINED, SIGNED, LEFT, JOINS_ON or LEAVES_ON
    day: datetime.date | None  # since when (or, pending, from when)
    events: list  # the TreatyEvents dated between the two days: the sources


@dataclass
class Row:
    """One line of a breakdown (a theme, a delegation): its figures at both dates and the
    follow-ups that happened in between."""

    name: object
    before: object  # ProgressSummary, or None
    after: object
    follow_ups: int


def closed_meetings(today=None):
    """The meetings whose last day has passed (or is today), newest first."""
    return Meeting.objects.closed(today).order_by("-end", "-start")


def previous_meeting(meeting):
    """The meeting that closed last before this one closed, or None."""
    return (
        Meeting.objects.filter(end__lt=meeting.end).exclude(pk=meeting.pk).order_by("-end").first()
    )


def state_changes(before, after, point):
    """[StateChange] between the days of two Viewpoints (reach.standings at each), the states
    by name, with the events that are their sources."""
    was, now = reach.standings(before), reach.standings(after)
    changes = {}
    for state_id, standing in now.items():
        old = was.get(state_id)
        if standing.status != old.status:
            kind = {treaty.STATE_PARTY: JOINED, treaty.SIGNATORY: SIGNED}.get(standing.status, LEFT)
            changes[state_id] = (kind, standing.since)
        elif standing.pending is not None and standing.pending != old.pending:
            kind = LEAVES_ON if standing.status == treaty.STATE_PARTY else JOINS_ON
            changes[state_id] = (kind, standing.pending)
    if not changes:
        return []
    states = State.objects.in_bulk(list(changes))
    sources = {state_id: [] for state_id in changes}
    for event in _sources(changes, before.day, after.day, point):
        sources[event.state_id].append(event)
    rows = [
        StateChange(states[state_id], kind, day, sources[state_id])
        for state_id, (kind, day) in changes.items()
    ]
    return sorted(rows, key=lambda row: str(row.state.name))


def _sources(state_ids, after, until, point):
    """The events of these states dated after `after` and by `until` that count from `point`
    (reach.counted_events: corrected entries left out), oldest first."""
    return list(
        reach.counted_events(point, list(state_ids))
        .filter(date__gt=after, date__lte=until)
        .order_by("date", "pk")
    )


def _verdict(summary):
    """The verdict of a one-commitment ProgressSummary."""
    return Verdict(next(iter(summary.verdict_counts)))


def _follow_ups(before, after):
    """The public follow-ups that happened after the first day and by the second, as recorded
    from the second viewpoint, oldest first; public notes only."""
    return (
        FollowUp.objects.public()
        .seen_from(after)
        .filter(happened_on__gt=before.day)
        .select_related("commitment")
        .annotate(
            theme_key=F("commitment__theme_id"), delegation_key=F(f"commitment__{DELEGATION_KEY}")
        )
        .only(
            "happened_on",
            "status",
            "progress",
            "recorded_at",
            *(f"public_note_{code}" for code, _name in settings.LANGUAGES),
            "commitment__reference",
            *(f"commitment__title_{code}" for code, _name in settings.LANGUAGES),
        )
        .order_by("happened_on", "commitment__reference", "recorded_at", "id")
    )


class _Rows:
    """The long lists' rows drawn in Python, each formatting done once per distinct value: a
    report may list thousands of follow-ups, and a template's per-row lookups, lazy labels,
    date formats and URL reversals made the page take seconds (docs/benchmarks.md)."""

    def __init__(self):
        self.badges = {
            verdict.value: badge(verdict.value, str(verdict.label)) for verdict in Verdict
        }
        self.dates = {}
        # Every commitment's address is this one with its reference in place of the marker.
        self.commitment_url = reverse("commitment_detail", args=["REFERENCE"]).replace(
            "REFERENCE", "{}"
        )

    def day(self, value):
        if value not in self.dates:
            self.dates[value] = format_html(
                '<time datetime="{}">{}</time>',
                value.isoformat(),
                formats.date_format(value, "SHORT_DATE_FORMAT"),
            )
        return self.dates[value]

    def commitment(self, commitment):
        return format_html(
            '<a href="{}">{}</a> {}',
            self.commitment_url.format(commitment.reference),
            commitment.reference,
            localized(commitment, "title").html(),
        )

    def verdict_change(self, commitment, before, after):
        return format_html(
            "<li>{}: {} → {}</li>",
            self.commitment(commitment),
            self.badges[before.value],
            self.badges[after.value],
        )

    def follow_up(self, follow_up):
        progress = "" if follow_up.progress is None else f" {follow_up.progress}\u00a0%"
        note = localized(follow_up, "public_note")
        return format_html(
            "<li>{} {}: {}{}{}</li>",
            self.day(follow_up.happened_on),
            self.commitment(follow_up.commitment),
            self.badges[follow_up.status],
            progress,
            format_html(' <span class="note">{}</span>', note.html(lines=True)) if note else "",
        )


# The PDF lists at most this many verdict changes and follow-ups (the figures count them all):
# a document of hundreds of pages takes WeasyPrint minutes to lay out (docs/benchmarks.md), and
# a Presidency's report lists what is notable. The page lists them all.
PDF_LISTED = 200


def report_context(meeting, known_on=None, listed=None):
    """Everything the report shows, the same for the page and the PDF. `listed`: at most so
    many verdict changes and follow-ups listed (all of them are counted)."""
    previous = previous_meeting(meeting)
    since = previous.end if previous else treaty.OPENED_FOR_SIGNATURE
    before, after = Viewpoint(since, known_on), Viewpoint(meeting.end, known_on)

    reach_before, reach_after = reach.reach_on([since, meeting.end], after)
    changes = state_changes(before, after, after)

    # The dashboard's figures, by theme and by delegation, and each commitment's verdict.
    summary_b, themes_b, delegations_b, each_b = public_commitments(before).summaries_by(
        "theme_id", DELEGATION_KEY, "id"
    )
    summary_a, themes_a, delegations_a, each_a = public_commitments(after).summaries_by(
        "theme_id", DELEGATION_KEY, "id"
    )
    moved = {
        pk: (_verdict(each_b[pk]), _verdict(summary))
        for pk, summary in each_a.items()
        if pk in each_b and _verdict(each_b[pk]) != _verdict(summary)
    }
    verdict_changes = [
        (commitment, *moved[commitment.pk])
        for commitment in Commitment.objects.filter(pk__in=list(moved))
        .only("reference", *(f"title_{code}" for code, _name in settings.LANGUAGES))
        .order_by("reference")
    ]

    follow_ups = list(_follow_ups(before, after))
    rows = _Rows()
    by_theme = Counter(f.theme_key for f in follow_ups)
    by_delegation = Counter(f.delegation_key for f in follow_ups)

    themes = [
        Row(theme, themes_b.get(theme.pk), themes_a.get(theme.pk), by_theme[theme.pk])
        for theme in Theme.objects.all()
        if theme.pk in themes_a or theme.pk in themes_b
    ]
    delegations = [
        Row(name, delegations_b.get(key), delegations_a.get(key), by_delegation[key])
        for key, name in PublicFilterForm().delegations()  # the dashboard's names and keys
        if key in delegations_a or key in delegations_b
    ]
    headline = [
        (_("States Parties"), reach_before.states_parties, reach_after.states_parties),
        (_("Signatories"), reach_before.signatories, reach_after.signatories),
        (_("Published commitments"), summary_b.total, summary_a.total),
        *(
            (verdict.label, summary_b.count(verdict), summary_a.count(verdict))
            for verdict in Verdict
        ),
    ]
    return {
        "meeting": meeting,
        "headline": [(label, b, a, f"{a - b:+d}" if a != b else "0") for label, b, a in headline],
        "previous": previous,
        "since": since,
        "opened": treaty.OPENED_FOR_SIGNATURE,
        "reach_before": reach_before,
        "reach_after": reach_after,
        "state_changes": changes,
        "summary_before": summary_b,
        "summary_after": summary_a,
        "new_commitments": len(set(each_a) - set(each_b)),
        "verdict_changes": verdict_changes,
        "verdict_change_rows": mark_safe(  # noqa: S308  # nosec B308 B703 - each row is built by format_html
            "\n".join(rows.verdict_change(*change) for change in verdict_changes[:listed])
        ),
        "verdict_changes_unlisted": max(len(verdict_changes) - (listed or len(verdict_changes)), 0),
        "follow_up_rows": mark_safe(  # noqa: S308  # nosec B308 B703 - each row is built by format_html
            "\n".join(rows.follow_up(follow_up) for follow_up in follow_ups[:listed])
        ),
        "follow_ups_unlisted": max(len(follow_ups) - (listed or len(follow_ups)), 0),
        "theme_rows": themes,
        "delegation_rows": delegations,
        "follow_ups": follow_ups,
        "statements": statements_made_at(meeting, after),
    }


def statements_made_at(meeting, point):
    """[(Statement, its published commitments)] of the statements made at the meeting that
    have published commitments seen from `point` (as the statements page lists them), in
    the order they were made. One query."""
    seen = public_commitments(point).values("pk")
    statements = (
        Statement.objects.filter(convention_meeting=meeting)
        .annotate(published=Count("commitments", filter=Q(commitments__in=seen)))
        .filter(published__gt=0)
        .defer("text")
        .select_related("delegation__state")
        .order_by("date", "delegation__code", "pk")
    )
    return [(statement, statement.published) for statement in statements]


def _meeting(code):
    meeting = get_object_or_404(Meeting, code=code)
    if not meeting.has_closed():
        raise Http404(_("This meeting has not closed yet."))
    return meeting


def _context(request, meeting, pdf=False):
    form = PublicFilterForm(request.GET)
    point, _filters = form.selection()
    known_on = point.known_on
    base = reverse("meeting_report", args=[meeting.code])
    today = timezone.localdate()
    # "As recorded" to the second: what is recorded later today stays out of the link too.
    fixed = Viewpoint(meeting.end, known_on or timezone.now().replace(microsecond=0))
    view = {
        "point": Viewpoint(meeting.end, known_on),
        "known_on": known_on,
        "today": today,
        "fixed": fixed,
        "permalink": f"{base}?known_on={fixed.known_param}",
        "today_url": base,
        "pdf_url": reverse("meeting_report_pdf", args=[meeting.code])
        + (f"?known_on={point.known_param}" if known_on else ""),
    }
    title = _("Meeting report: %(meeting)s") % {"meeting": meeting.code}
    return {
        **view,
        **_cite(request, view, title),
        **report_context(meeting, known_on, listed=PDF_LISTED if pdf else None),
        "form": form,
        "pdf": pdf,
        "page_url": request.build_absolute_uri(view["permalink"]),
        "title": title,
        "base_template": "commitments/report_print.html" if pdf else "public_base.html",
    }


@require_safe
@public_page(gzip=True)
def meeting_report(request: HttpRequest, meeting: str) -> HttpResponse:
    found = _meeting(meeting)
    return render(request, "commitments/meeting_report.html", _context(request, found))


@require_safe
@public_page
def meeting_report_pdf(request: HttpRequest, meeting: str) -> HttpResponse:
    from weasyprint import HTML  # imported on use: Pango loads with it

    found = _meeting(meeting)
    html = render_to_string(
        "commitments/meeting_report.html", _context(request, found, pdf=True), request
    )
    document = HTML(
        string=html,
        base_url=request.build_absolute_uri("/"),
        url_fetcher=static_files_only(request.get_host()),
    )
    response = HttpResponse(document.write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ccm-report-{found.code}.pdf"'
    return response


def _static_file(url, host):
    """The file behind one of this site's static URLs, or None."""
    parts = urlparse(url)
    prefix = (
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
    )
    if parts.scheme not in ("http", "https") or parts.netloc != host:
        return None
    if not parts.path.startswith(prefix):
        return None
    name = parts.path.removeprefix(prefix)
    if ".." in name.split("/"):
        return None
    if staticfiles_storage.exists(name):
        return Path(staticfiles_storage.path(name))
    found = finders.find(name)
    return Path(found) if found else None


def static_files_only(host):
    """WeasyPrint's url_fetcher: serves the app's static files (its stylesheets) from disk
    and refuses everything else, other hosts above all: a PDF never makes a request.
    Built on use, as WeasyPrint is imported on use (Pango loads with it)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            path = _static_file(url, host)
            if path is None:
                raise ValueError(f"The PDF fetches only the app's static files, not {url}")
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})

    return StaticFilesOnly()


@require_safe
@public_page(gzip=True)
def report_list(request: HttpRequest) -> HttpResponse:
    return render(request, "commitments/report_list.html", {"meetings": list(closed_meetings())})
