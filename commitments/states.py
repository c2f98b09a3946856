"""Public pages of the states: /states/ (a world map and the full table) and /states/<code>/
(a state's treaty status, the timeline of its treaty events and the follow-ups that concern
it). (Issue 14.)

Every status comes from commitments/reach.py, from the page's viewpoint (as at, known on),
as on the other public pages; this module only lists the events behind it. The map is drawn
here, on the server, from commitments/data/world-map.json (pre-projected Natural Earth
geometry, built by commitments/data/build_map.mjs): no request to another host, no script.
"""

import copy
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django_htmx.http import push_url

from ccmtracker.pagecache import public_page

from . import reach
from .derived import ensure_current
from .forms import PublicFilterForm, public_commitments
from .models import FollowUp, Region, State, Statement, TreatyEvent, seen_from_q
from .treaty import (
    CONSENTS,
    NEITHER,
    OPENED_FOR_SIGNATURE,
    SIGNATORY,
    STATE_PARTY,
    WITHDRAWAL,
    entry_into_force,
    withdrawal_takes_effect,
)
from .views import _cite, _viewpoint_context

STATUS_LABELS = {
    STATE_PARTY: gettext_lazy("State Party"),
    SIGNATORY: gettext_lazy("Signatory"),
    NEITHER: gettext_lazy("Neither party nor signatory"),
}
STATUS_CHOICES = list(STATUS_LABELS.items())

# The map's fills, each at least 3:1 against the white page (WCAG 1.4.11), and told apart
# without colour too: State Party dark and solid, signatory hatched, neither a mid grey;
# the countries that are not among the states (Greenland, Western Sahara, …) a pale neutral.
# The legend (site.css .map-key) draws the same.
FILLS = {
    STATE_PARTY: "#1d6b48",  # 6.5:1
    SIGNATORY: "url(#map-hatch)",  # #c26a00 under #6e3a00 stripes: 3.9:1 and 9.3:1
    NEITHER: "#7d8a99",  # 3.5:1
}
NEUTRAL = "#e6eaee"
MAP_FILE = Path(__file__).resolve().parent / "data" / "world-map.json"
_PATH_DATA = re.compile(r"^[MmLlZz0-9. \-]*$")


@functools.cache
def world_map():
    """The pre-projected map: viewBox, {alpha-2: path data}, {alpha-2: marker [x, y]} for
    states too small to see, and the other countries' path data. Read once per process;
    checked to hold path data only, so it can go into the page as it is."""
    data = json.loads(MAP_FILE.read_text())
    for d in [*data["countries"].values(), *data["others"]]:
        if not _PATH_DATA.match(d):
            raise ValueError(f"{MAP_FILE.name} holds something other than path data")
    return data


def _sort_key(name):
    """A name as a reader looks it up: accents and case aside (Égypte among the E)."""
    text = unicodedata.normalize("NFKD", str(name))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


class StateFilterForm(forms.Form):
    """The states table's GET filters and the viewpoint, as on the other public pages.
    Invalid fields are reported and left out; the valid ones still apply."""

    status = forms.ChoiceField(
        label=gettext_lazy("Treaty status"),
        choices=[("", gettext_lazy("All statuses")), *STATUS_CHOICES],
        required=False,
    )
    region = forms.ChoiceField(
        label=gettext_lazy("Region"),
        choices=[("", gettext_lazy("All regions")), *Region.choices],
        required=False,
    )
    as_of = copy.deepcopy(PublicFilterForm.base_fields["as_of"])
    known_on = copy.deepcopy(PublicFilterForm.base_fields["known_on"])

    LIST_FILTERS = ("status", "region")
    VIEWPOINT_FIELDS = PublicFilterForm.VIEWPOINT_FIELDS

    # The same dates as every public page: none in the future.
    _not_future = PublicFilterForm._not_future
    clean_as_of = PublicFilterForm.clean_as_of
    clean_known_on = PublicFilterForm.clean_known_on
    selection = PublicFilterForm.selection


def viewpoint_only(data):
    """The viewpoint of a GET query (a state's page has no other filter)."""
    return StateFilterForm(
        {name: data[name] for name in StateFilterForm.VIEWPOINT_FIELDS if name in data}
    )


def known_events(point, states=None):
    """The TreatyEvents known from `point` (recorded by its known-on moment) and dated by its
    day, oldest first, each with `corrected`: whether a correction known from `point` retracts
    it (reach.py leaves those out of every status, whatever the correction's date). One
    query."""
    events = TreatyEvent.objects.known_from(point)
    if states is not None:
        events = events.filter(state__in=states)
    known = list(events.order_by("date", "recorded_at", "id"))
    retracted = {event.corrects_id for event in known if event.corrects_id is not None}
    day = point.day
    rows = [event for event in known if event.date <= day]
    for event in rows:
        event.corrected = event.pk in retracted
    return rows


@dataclass
class Row:
    """A state as the list shows it, its words worked out once (197 rows, two views)."""

    state: State
    code: str
    name: str
    url: str
    region: str
    standing: object  # treaty.Standing
    status_label: str
    pending: str
    latest: TreatyEvent | None


def pending_text(standing):
    """What a standing has set in motion, in words ("" for nothing)."""
    if standing.pending is None:
        return ""
    day = formats.date_format(standing.pending)
    if standing.status == STATE_PARTY:
        return _("Withdrawal takes effect on %(date)s") % {"date": day}
    return _("State Party from %(date)s") % {"date": day}


def _map_markup(rows, query):
    """The map's shapes, one link per state (its name and status in a <title>, its fill by
    status), then the countries that are not among the states, neutral. The links are kept
    out of the tab order: the table after the map holds the same links and figures."""
    data = world_map()
    suffix = f"?{query}" if query else ""
    states = []
    for row in rows:
        code = row.code
        title = f"{row.name}: {row.status_label}"
        shape = data["countries"].get(code)
        marker = data["markers"].get(code)
        parts = []
        if shape:
            parts.append(format_html('<path d="{}"/>', mark_safe(shape)))  # noqa: S308  # nosec B308 B703 - checked path data
        if marker:
            parts.append(
                format_html('<circle class="map-marker" cx="{}" cy="{}" r="2.6"/>', *marker)
            )
        states.append(
            format_html(
                '<a href="{}{}" tabindex="-1" class="map-state map-{}" fill="{}">'
                "<title>{}</title>{}</a>",
                row.url,
                suffix,
                row.standing.status,
                FILLS[row.standing.status],
                title,
                mark_safe("".join(parts)),  # noqa: S308  # nosec B308 B703 - built by format_html above
            )
        )
    others = format_html_join("", '<path d="{}"/>', ((mark_safe(d),) for d in data["others"]))  # noqa: S308  # nosec B308 B703
    return mark_safe(  # noqa: S308  # nosec B308 B703 - every part built by format_html
        format_html('<g class="map-others" fill="{}">{}</g>', NEUTRAL, others)
        + format_html('<g class="map-states">{}</g>', mark_safe("".join(states)))  # noqa: S308  # nosec B308 B703
    )


def _counts(rows):
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for row in rows:
        counts[row.standing.status] += 1
    return [(status, STATUS_LABELS[status], counts[status]) for status in STATUS_LABELS]


def _joined(*queries):
    return "&".join(query for query in queries if query)


def _list_query(form, **change):
    """The valid table filters (and `change`) as a query string, viewpoint left out."""
    form.is_valid()
    params = {name: form.cleaned_data.get(name) or "" for name in form.LIST_FILTERS}
    params.update(change)
    return urlencode({name: value for name, value in params.items() if value})


@require_safe
@public_page(htmx=True, gzip=True)
def state_list(request: HttpRequest) -> HttpResponse:
    """Every state on a map and in a table, by its treaty status on the date shown. A fixed
    number of queries whatever the number of states: the states, their standings (reach.py)
    and the events behind them."""
    form = StateFilterForm(request.GET)
    point, filters = form.selection()
    states = list(State.objects.all())
    standings = reach.standings(point)
    events = known_events(point)
    latest = {}
    for event in events:  # oldest first: the last one standing wins
        if not event.corrected:
            latest[event.state_id] = event
    # One address pattern, one label per region and status: no lookup per row.
    url_of = reverse("state_detail", args=["ZZ"]).replace("ZZ", "{}")
    regions = dict(Region.choices)
    labels = {status: str(label) for status, label in STATUS_LABELS.items()}
    rows = []
    for state in states:
        code, standing = state.country.code, standings[state.pk]
        rows.append(
            Row(
                state=state,
                code=code,
                name=str(state.country.name),
                url=url_of.format(code),
                region=regions[state.region],
                standing=standing,
                status_label=labels[standing.status],
                pending=pending_text(standing),
                latest=latest.get(state.pk),
            )
        )
    rows.sort(key=lambda row: _sort_key(row.name))
    in_region = (
        [r for r in rows if r.state.region == filters["region"]] if filters.get("region") else rows
    )
    shown = [
        r for r in in_region if not filters.get("status") or r.standing.status == filters["status"]
    ]

    list_query = _list_query(form)
    viewpoint = _viewpoint_context(point, reverse("state_list"), list_query)
    counted = [event for event in events if not event.corrected]
    context = {
        **viewpoint,
        "form": form,
        "rows": shown,
        "total": len(rows),
        "filtered": bool(filters.get("status") or filters.get("region")),
        "counts": _counts(rows),
        # Each status's count where the region filter applies, linked to the table of them.
        "region_counts": [
            (status, label, count, _joined(_list_query(form, status=status), point.query()))
            for status, label, count in _counts(in_region)
        ],
        "region_label": dict(Region.choices).get(filters.get("region")),
        "list_query": list_query,
        "query": _joined(list_query, point.query()),
        "latest_date": max((e.date for e in counted), default=None),
        "latest_recorded": max((e.recorded_at for e in events), default=None),
        "fills": FILLS,
        "min_date": OPENED_FOR_SIGNATURE,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request and htmx.target == "state-table":
        context["htmx_update"] = True
        response = HttpResponse(
            render_to_string("commitments/state_list.html#table", context, request)
            + render_to_string("commitments/state_list.html#status", context, request)
        )
        query = context["query"]
        return push_url(response, reverse("state_list") + (f"?{query}" if query else ""))
    data = world_map()
    context["map"] = {
        "view_box": data["viewBox"],
        "shapes": _map_markup(rows, point.query()),
    }
    context.update(_cite(request, viewpoint, _("States and the Convention")))
    return render(request, "commitments/state_list.html", context)


def _timeline(events):
    """A state's events, oldest first, each with what it sets in motion by the Articles'
    rules (treaty.py): the day the Convention enters into force for it, or the day a
    withdrawal takes effect; and the entry a correction replaces."""
    by_id = {event.pk: event for event in events}
    correction_of = {event.corrects_id: event for event in events if event.corrects_id}
    for event in events:
        event.corrected_by = correction_of.get(event.pk)
        event.takes_effect = None
        if event.kind in CONSENTS:
            event.takes_effect = entry_into_force(event.date)
        elif event.kind == WITHDRAWAL:
            event.takes_effect = withdrawal_takes_effect(event.date, event.armed_conflict_ends)
        event.replaces = by_id.get(event.corrects_id)
    return events


@require_safe
@public_page(gzip=True)
def state_detail(request: HttpRequest, code: str) -> HttpResponse:
    canonical = code.upper()
    state = State.objects.filter(country=canonical).first() if len(code) == 2 else None
    if state is None:
        raise Http404
    if code != canonical:
        # One address per state: /states/no/ → /states/NO/ (the query kept).
        query = request.META.get("QUERY_STRING", "")
        target = reverse("state_detail", args=[canonical])
        return redirect(f"{target}?{query}" if query else target, permanent=True)
    form = viewpoint_only(request.GET)
    point, _filters = form.selection()
    standing = reach.standings(point, states=[state.pk])[state.pk]
    events = _timeline(known_events(point, states=[state.pk]))
    follow_ups = list(
        FollowUp.objects.public()
        .filter(states=state)
        .filter(seen_from_q(point))
        .select_related("commitment")
        .defer("internal_note")
        .timeline()
    )
    # The statements its delegation made and their commitments, as the statements page and
    # the dashboard count them: published, seen from the viewpoint, verdicts on its day.
    ensure_current()
    seen = public_commitments(point).filter(statement__delegation__state=state)
    summary, by_statement = seen.summaries(by="statement_id")
    statements, commitments = [], []
    if by_statement:
        statements = [
            (statement, by_statement[statement.pk])
            for statement in Statement.objects.filter(pk__in=list(by_statement)).defer("text")
        ]
        commitments = list(seen.for_list())
    viewpoint = _viewpoint_context(point, state.get_absolute_url())
    name = str(state.country.name)
    return render(
        request,
        "commitments/state_detail.html",
        {
            **viewpoint,
            **_cite(request, viewpoint, name),
            "form": form,
            "state": state,
            "name": name,
            "standing": standing,
            "status_label": STATUS_LABELS[standing.status],
            "pending": pending_text(standing),
            "events": events,
            "follow_ups": follow_ups,
            "statements": statements,
            "commitments": commitments,
            "summary": summary,
            "delegation_code": commitments[0].statement.delegation.code if commitments else "",
            "min_date": OPENED_FOR_SIGNATURE,
        },
    )
