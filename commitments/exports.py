"""Open data: CSV and JSON of public commitments, public follow-ups and published replies.

The schema is documented in docs/open-data.md and is stable: columns are only ever added
at the end, never renamed or removed. Exports keep the dashboard's filters, `as_of` and `known_on`,
and are the same whatever the language of the page that links to them: each translatable
column is the English original (its name unchanged, e.g. `title`), and every other language's
version has a column of its own at the end (`title_fr`, `title_es`), empty where there is none.
"""

import csv
from functools import partial
from itertools import batched, chain

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_safe

from ccmtracker.pagecache import public_page

from .derived import ensure_current
from .forms import public_selection
from .models import STATUS_INFO, Commitment, FollowUp, ReplySubmission, Status, effective_progress
from .spreadsheets import neutralise
from .translation import ORIGINAL, OTHER_LANGUAGES, TRANSLATED, columns

SCHEMA_VERSION = 1


def _content(model, sources):
    """Of `sources` ({column: field path from `model`}), those whose field has a version per
    language (TRANSLATED): the columns the export gives in every language."""
    translated = {}
    for column, path in sources.items():
        *relations, field = path.split("__")
        target = model
        for name in relations:
            target = target._meta.get_field(name).related_model
        if field in TRANSLATED.get(target, ()):
            translated[column] = path
    return translated


def _versions(column):
    """The export's columns of `column`'s other languages: ["title_fr", "title_es"]."""
    return columns(column, OTHER_LANGUAGES)


# The text columns read from content, and where each comes from.
COMMITMENT_CONTENT = _content(
    Commitment,
    {
        "title": "title",
        "statement": "statement__title",
        # A state's name comes from its country code, in each language (Delegation.version_of).
        "delegation": "statement__delegation__name",
        "theme": "theme__name",
        "quote": "quote",  # the words as delivered: never translated
        "criteria": "criteria",
        "reading": "reading",
    },
)
FOLLOW_UP_CONTENT = _content(
    FollowUp, {"public_note": "public_note", "evidence_label": "evidence_label"}
)


def _read(obj, path):
    *relations, last = path.split("__")
    for name in relations:
        obj = getattr(obj, name)
    if reader := getattr(obj, "version_of", None):  # a delegation: a state's name is not stored
        field, _sep, language = last.rpartition("_")
        return reader(field, language)
    return getattr(obj, last)


def _in_every_language(get, content):
    """{column: the English original, column_fr: the French version or None, …} for each
    translatable column, read by `get(field path with its language)`: by column, never the
    bare name (which means the active language's)."""
    record = {}
    for column, path in content.items():
        record[column] = get(f"{path}_{ORIGINAL}") or ""
        for code, name in zip(OTHER_LANGUAGES, _versions(column), strict=True):
            record[name] = (get(f"{path}_{code}") or "").strip() or None
    return record


COMMITMENT_FIELDS = [
    "reference",
    "title",
    "url",
    "statement",
    "statement_url",
    "delegation",
    "statement_date",
    "theme",
    "kind",
    "articles",
    "weight",
    "quote",
    "status",
    "status_label",
    "progress",
    "last_follow_up_on",
    "next_review",
    "review_overdue",
    "last_recorded_at",
    "verdict",
    "verdict_label",
    "confirmed",
    "confirm_by",
    "counted_progress",
    "criteria",
    "reading",
    *(name for column in COMMITMENT_CONTENT for name in _versions(column)),
    "delegation_code",
    "delegation_country",
    "statement_meeting",
]

FOLLOW_UP_FIELDS = [
    "id",
    "commitment",
    "commitment_url",
    "happened_on",
    "status",
    "status_label",
    "progress",
    "effective_progress",
    "public_note",
    "evidence_url",
    "evidence_label",
    "recorded_at",
    *(name for column in FOLLOW_UP_CONTENT for name in _versions(column)),
    "states",
    "second_review",
]


def commitment_records(request, commitments, point):
    today = timezone.localdate()
    for commitment in commitments:
        content = _in_every_language(partial(_read, commitment), COMMITMENT_CONTENT)
        meeting = commitment.statement.convention_meeting  # for_list() selects it
        yield {
            "reference": commitment.reference,
            "title": content.pop("title"),
            "url": request.build_absolute_uri(commitment.get_absolute_url()),
            "statement": content.pop("statement"),
            "statement_url": request.build_absolute_uri(commitment.statement.get_absolute_url()),
            "delegation": content.pop("delegation"),
            "statement_date": commitment.statement.date.isoformat(),
            "theme": content.pop("theme"),
            "kind": commitment.kind,
            "articles": [article.number for article in commitment.articles.all()],
            "weight": commitment.weight,
            "quote": commitment.quote,
            "status": commitment.status.value,
            "status_label": str(commitment.status.label),
            "progress": commitment.progress,
            "last_follow_up_on": _iso(commitment.last_follow_up_on),
            "next_review": _iso(commitment.next_review) if point.is_now else None,
            "review_overdue": commitment.is_overdue(today) if point.is_now else None,
            "last_recorded_at": _iso_time(commitment.last_recorded_at),
            # On the date shown: evidence older than the confirmation window is not counted.
            "verdict": commitment.verdict.value,
            "verdict_label": str(commitment.verdict.label),
            "confirmed": commitment.confirmed,
            "confirm_by": _iso(commitment.confirm_by),
            "counted_progress": commitment.counted_progress,
            # Stored as "" when absent; docs/open-data.md: empty is null (an empty CSV cell).
            "criteria": content.pop("criteria") or None,
            "reading": content.pop("reading") or None,
            **content,  # the other languages' versions
            "delegation_code": commitment.statement.delegation.code,
            "delegation_country": commitment.statement.delegation.country_code or None,
            # The Convention meeting the statement was made at, by its code.
            "statement_meeting": meeting.code if meeting else None,
        }


def follow_up_records(request, follow_ups, states=None):
    """One record a follow-up, from rows of FOLLOW_UP_DB_FIELDS (plain values, no models:
    an export of 50,000 rows is mostly the cost of building each row). `states`: {follow-up
    id: [ISO codes of the states it concerns]} (states_by_follow_up)."""
    states = states or {}
    # Rows share a few thousand commitments and six statuses: each URL and label once.
    urls, labels = {}, {}
    for row in follow_ups:
        reference, status, progress = row["commitment__reference"], row["status"], row["progress"]
        if reference not in urls:
            urls[reference] = request.build_absolute_uri(
                reverse("commitment_detail", args=[reference])
            )
        if status not in labels:
            labels[status] = str(Status(status).label)
        content = _in_every_language(row.__getitem__, FOLLOW_UP_CONTENT)
        yield {
            "id": row["id"],
            "commitment": reference,
            "commitment_url": urls[reference],
            "happened_on": row["happened_on"].isoformat(),
            "status": status,
            "status_label": labels[status],
            "progress": progress,
            "effective_progress": effective_progress(status, progress),
            "public_note": content.pop("public_note"),
            # Stored as "" when absent; docs/open-data.md: empty is null (an empty CSV cell).
            "evidence_url": row["evidence_url"] or None,
            "evidence_label": content.pop("evidence_label") or None,
            "recorded_at": row["recorded_at"].isoformat(),
            **content,  # the other languages' versions
            "states": states.get(row["id"], []),
            # Issue 15: confirmed by an editor other than its author (recorded_at is then the
            # confirmation); never who.
            "second_review": row["proposal"] is not None,
        }


def _iso(date):
    return date.isoformat() if date else None


def _iso_time(moment):
    return moment.isoformat(timespec="seconds") if moment else None


def _bad_request(form):
    errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
    return HttpResponse(
        f"Invalid filter: {errors}\n", status=400, content_type="text/plain; charset=utf-8"
    )


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return neutralise(value)


class _Echo:
    """A file for csv.writer that hands each written line back instead of keeping it."""

    def write(self, value):
        return value


# Rows per chunk sent to the client: few enough system calls, little memory.
CSV_CHUNK_ROWS = 500


def _csv_chunks(fields, records):
    """The CSV a chunk at a time, so a large export never sits whole in memory."""
    writer = csv.writer(_Echo())
    # The BOM makes spreadsheet programs read the file as UTF-8.
    yield "\ufeff" + writer.writerow(fields)
    with translation.override("en"):  # streamed after the view returns: keep English here
        for chunk in batched(records, CSV_CHUNK_ROWS):
            yield "".join(
                writer.writerow([_csv_cell(record[field]) for field in fields]) for record in chunk
            )


def _respond(fmt, name, fields, records, meta):
    stamp = (meta["as_of"] or timezone.localdate().isoformat()).replace("-", "")
    if meta["known_on"]:
        stamp += "-known" + "".join(c for c in meta["known_on"][:19] if c.isdigit() or c == "T")
    filename = f"ccmtracker-{name}-{stamp}.{fmt}"
    if fmt == "json":
        with translation.override("en"):
            response = JsonResponse(
                {**meta, name.replace("-", "_"): list(records)},
                json_dumps_params={"ensure_ascii": False, "indent": 1},
            )
    else:
        # The first record is read before answering: a database that fails fails the
        # request (503), instead of a 200 with the header row and then a dropped connection.
        records = iter(records)
        first = next(records, None)
        if first is not None:
            records = chain([first], records)
        response = StreamingHttpResponse(
            _csv_chunks(fields, records), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


def _meta(schema, form, point):
    return {
        "schema": f"ccmtracker/{schema}/v{SCHEMA_VERSION}",
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "as_of": _iso(point.as_at),
        "known_on": point.known_param or None,
        "filters": {
            name: form.data.get(name) for name in form.LIST_FILTERS if form.cleaned_data.get(name)
        },
        "status_progress": {
            status.value: STATUS_INFO[status].default_progress for status in Status
        },
        # A verdict older than this is `not_confirmed` (docs/open-data.md).
        "confirmation_window_months": settings.CONFIRMATION_WINDOW_MONTHS,
    }


# Exports answer conditional requests (public_page): the ETag changes whenever any public data
# does, so a client that polls gets 304 Not Modified, before any query, until something changes.
@require_safe
@public_page
def export_commitments(request: HttpRequest, fmt: str) -> HttpResponse:
    form, point, _all, matching = public_selection(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    ensure_current()
    commitments = matching.for_list().prefetch_related("articles").iterator(chunk_size=500)
    records = commitment_records(request, commitments, point)
    return _respond(
        fmt, "commitments", COMMITMENT_FIELDS, records, _meta("commitments", form, point)
    )


@require_safe
@public_page
def export_follow_ups(request: HttpRequest, fmt: str) -> HttpResponse:
    form, point, _all, matching = public_selection(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    ensure_current()
    follow_ups = (
        FollowUp.objects.filter(commitment__in=matching.values("pk"))
        .seen_from(point)
        .oldest_first()
        .values(*FOLLOW_UP_DB_FIELDS)
    )
    # iterator(): rows come from the database a chunk at a time while the CSV streams.
    records = follow_up_records(
        request, follow_ups.iterator(chunk_size=2000), states_by_follow_up(follow_ups)
    )
    return _respond(fmt, "follow-ups", FOLLOW_UP_FIELDS, records, _meta("follow-ups", form, point))


def states_by_follow_up(follow_ups):
    """{follow-up id: ISO codes of the states it concerns, sorted} for the follow-ups of a
    queryset: one query for the whole export (links are few beside the follow-ups)."""
    links = FollowUp.states.through.objects.filter(
        followup__in=follow_ups.order_by().values("pk")
    ).values_list("followup_id", "state__country")
    states = {}
    for follow_up_id, code in links:
        states.setdefault(follow_up_id, []).append(code)
    for codes in states.values():
        codes.sort()
    return states


# Never internal_note, never the author: what a follow-up export may read from the database.
FOLLOW_UP_DB_FIELDS = [
    "id",
    "status",
    "progress",
    "happened_on",
    "evidence_url",
    "recorded_at",
    "proposal",  # whether a second reviewer confirmed it (an id, never exported)
    "commitment__reference",
    # By column: the bare name would mean the active language's version.
    *(column for path in FOLLOW_UP_CONTENT.values() for column in columns(path)),
]


# Published replies (commitments/replies.py): what a delegation or an organisation answered,
# published by staff. Never the sender's name or e-mail address: these are all it reads.
REPLY_DB_FIELDS = [
    "id",
    "commitment__reference",
    "organisation",
    "writes_for_delegation",
    "decision__sender_verified",
    "text",
    "evidence_url",
    "language",
    "submitted_at",
    "decision__decided_at",
]

REPLY_FIELDS = [
    "id",
    "commitment",
    "commitment_url",
    "organisation",
    "writes_for_delegation",
    "sender_verified",
    "text",
    "evidence_url",
    "language",
    "sent_on",
    "published_at",
]


def reply_records(request, replies):
    urls = {}
    for row in replies:
        reference = row["commitment__reference"]
        if reference not in urls:
            urls[reference] = request.build_absolute_uri(
                reverse("commitment_detail", args=[reference])
            )
        yield {
            "id": row["id"],
            "commitment": reference,
            "commitment_url": urls[reference],
            "organisation": row["organisation"],
            "writes_for_delegation": row["writes_for_delegation"],
            "sender_verified": row["decision__sender_verified"],
            "text": row["text"],
            "evidence_url": row["evidence_url"] or None,
            "language": row["language"],
            "sent_on": timezone.localdate(row["submitted_at"]).isoformat(),
            "published_at": _iso_time(row["decision__decided_at"]),
        }


@require_safe
@public_page
def export_replies(request: HttpRequest, fmt: str) -> HttpResponse:
    """The published replies on the commitments the dashboard's filters select, seen from its
    viewpoint (sent by `as_of`, published by `known_on`), oldest first."""
    form, point, _all, matching = public_selection(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    ensure_current()
    replies = (
        ReplySubmission.objects.published()
        .filter(commitment__in=matching.values("pk"))
        .seen_from(point)
        .order_by("decision__decided_at", "id")
        .values(*REPLY_DB_FIELDS)
    )
    records = reply_records(request, replies.iterator(chunk_size=2000))
    return _respond(fmt, "replies", REPLY_FIELDS, records, _meta("replies", form, point))
