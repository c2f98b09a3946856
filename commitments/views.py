import datetime
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, push_url
from django_htmx.middleware import HtmxDetails

from ccmtracker.pagecache import public_page

from .changes import shared
from .charts import history_table_rows, progress_chart
from .content import localized, sorted_by_name
from .derived import ensure_current, progress_history
from .forms import (
    DELEGATION_KEY,
    QUEUES,
    ConfirmForm,
    FollowUpForm,
    FollowUpTranslationForm,
    PublicFilterForm,
    SendBackForm,
    StaffFilterForm,
    StaffLanguageForm,
    public_commitments,
    public_selection,
    state_choices,
)
from .indicator import indicator, joined_since
from .models import (
    NOW,
    STATUS_INFO,
    Article,
    Commitment,
    Decision,
    Delegation,
    FollowUp,
    Meeting,
    ProposedFollowUp,
    ReplySubmission,
    Review,
    StaffPreference,
    StaleVersion,
    Statement,
    Status,
    Theme,
    Viewpoint,
    overdue_q,
    stale_q,
)
from .records import (
    AlreadyReviewed,
    TranslationTaken,
    confirm_proposal,
    send_back,
    withdraw_proposal,
)
from .translation import missing_q


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# Long lists come a page at a time; their totals come from COUNT queries, not Python.
COMMITMENTS_PER_PAGE = 50
STATEMENTS_PER_PAGE = 50
FOLLOW_UPS_PER_PAGE = 50
STAFF_ROWS_PER_PAGE = 25  # each row carries a follow-up form
REPLIES_SHOWN = 50  # a commitment's latest published replies (all are in the replies export)


def _page(request, queryset, per_page):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def staff_required(view):
    """Anonymous users go to the login page; signed-in users who are not staff get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                return HttpResponseClientRedirect(
                    f"{reverse(settings.LOGIN_URL)}?next={reverse('staff_home')}"
                )
            return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def permission_required(perm):
    """403 for staff whose role lacks `perm` (staff_required has already sent others away)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _published_commitment(reference, point=NOW):
    return get_object_or_404(
        Commitment.objects.published()
        .as_of(point)
        .select_related("statement__delegation__state", "theme"),
        reference=reference,
    )


def _viewpoint_context(point, base, keep=""):
    """What a page that can be seen from another day tells its templates: the viewpoint, a
    query that keeps it in links, the permanent link that fixes both dates (the same figures
    forever, whatever is back-filled later) and the same page today. `base`: the page's
    path; `keep`: its other query parameters (the list's filters)."""
    today = timezone.localdate()
    # "As recorded" to the second: a back-fill recorded later today stays out of it too.
    fixed = Viewpoint(point.as_at or today, point.known_on or timezone.now().replace(microsecond=0))

    def url(query):
        query = "&".join(part for part in (keep, query) if part)
        return f"{base}?{query}" if query else base

    return {
        "as_of": point.as_at,
        "known_on": point.known_on,
        "point": point,
        # Links that keep the viewpoint: "as_of=…&known_on=…", or "" for today.
        "point_query": point.query(),
        "today": today,
        "permalink": url(fixed.query()),
        "fixed": fixed,  # the viewpoint the permanent link fixes
        "today_url": url(""),
    }


def _cite(request, context, title, delegation="", reference=""):
    """The "Cite this page" block: the permanent link (absolute) and a suggested citation
    that names the two dates it fixes and the day it was retrieved."""
    url = request.build_absolute_uri(context["permalink"])
    fixed = context["fixed"]
    citation = _(
        "%(delegation)s“%(title)s”%(reference)s, Convention on Cluster Munitions commitments "
        "tracker, as at %(as_at)s, as recorded on %(known_on)s. Retrieved %(today)s from %(url)s."
    ) % {
        "delegation": f"{delegation}, " if delegation else "",
        "title": title,
        "reference": f" ({reference})" if reference else "",
        "as_at": formats.date_format(fixed.as_at),
        "known_on": formats.date_format(fixed.known_day),
        "today": formats.date_format(context["today"]),
        "url": url,
    }
    return {"cite_url": url, "citation": citation}


def _language_name(code):
    """A statement's language by name in the reader's language; the code if Django does not
    know it (staff type it)."""
    try:
        return get_language_info(code)["name_translated"]
    except KeyError:
        return code


def _query_string(request, form, exclude=()):
    """The valid filters of this request as a query string, for links that keep them."""
    form.is_valid()
    valid = form.cleaned_data
    params = {
        name: request.GET[name]
        for name in form.fields
        if name not in exclude and valid.get(name) and request.GET.get(name)
    }
    return urlencode(params)


@require_safe
@public_page(htmx=True, gzip=True)
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    ensure_current()
    form, point, commitments, matching = public_selection(request.GET)
    filtered = form.has_list_filters()
    page = _page(request, matching.for_list(), COMMITMENTS_PER_PAGE)
    context = {
        **_viewpoint_context(
            point,
            reverse("dashboard"),
            _query_string(request, form, exclude=form.VIEWPOINT_FIELDS),
        ),
        "form": form,
        "commitments": page.object_list,
        "page": page,
        "filtered": filtered,
        "query": _query_string(request, form),
        "list_query": _query_string(request, form, exclude=form.VIEWPOINT_FIELDS),
    }
    htmx = request.htmx and not request.htmx.history_restore_request
    if htmx and request.htmx.target == "results":
        # A page of the list: the list only.
        return render(request, "commitments/dashboard.html#results", context)

    # The figures, the chart and the list cover the same commitments: the filtered ones.
    today = timezone.localdate()
    until = point.as_at or today
    summary, by_theme, by_delegation = matching.summaries_by("theme_id", DELEGATION_KEY)
    themes = [theme for theme in Theme.objects.all() if theme.pk in by_theme]
    if filtered:
        history = progress_history(until, point.known_on, selection=matching)
    else:
        history = shared(
            f"progress_history:{until}:{point.known_param}",
            lambda: progress_history(until, point.known_on),
        )
    context.update(
        {
            "summary": summary,
            "all_total": commitments.count() if filtered else summary.total,
            "filter_description": form.description() if filtered else "",
            "themes": [(theme, by_theme[theme.pk]) for theme in themes],
            "history_rows": history_table_rows(history, themes),
            "history_monthly": history.monthly,
            "history_themes": themes,
            "chart": progress_chart(history, themes, until),
            "status_scale": [(status, STATUS_INFO[status]) for status in Status],
            "delegations": _delegation_breakdown(request, form, by_delegation),
        }
    )
    context.update(
        _cite(
            request,
            context,
            _("Progress on the commitments"),
            delegation.plain if (delegation := _delegation_name(form)) else "",
        )
    )
    if htmx:
        # The figures, chart and list in place; a count for screen readers and the citation
        # of the new selection out of band.
        context["htmx_update"] = True
        response = HttpResponse(
            render_to_string("commitments/dashboard.html#selection", context, request)
            + render_to_string("commitments/dashboard.html#status", context, request)
            + render_to_string("commitments/_cite.html", context, request)
        )
        # The address to share: the valid filters only, without the form's empty fields.
        query = context["query"]
        return push_url(response, reverse("dashboard") + (f"?{query}" if query else ""))
    first = Commitment.objects.published().aggregate(first=Min("statement__date"))["first"]
    context["meetings"] = Meeting.objects.closed_between(first, today)
    # The Convention's reach: the same whatever the filters and the language, so not in the
    # htmx answer, and computed once per generation of the public data for each viewpoint
    # (recording a treaty event starts a new one).
    context["reach"] = shared(f"reach:{point.day}:{point.known_param}", lambda: indicator(point))
    return render(request, "commitments/dashboard.html", context)


def _delegation_name(form):
    """The chosen delegation's name in the page's language (the filter's value is its key)."""
    key = form.cleaned_data.get("delegation")
    return dict(form.delegations()).get(key) if key else None


def _delegation_breakdown(request, form, groups):
    """(delegation, its ProgressSummary, the address of its filtered list) for each
    delegation in the selection, when there is more than one: one average over several
    delegations is the figure nobody should quote alone. None otherwise."""
    if form.cleaned_data.get("delegation"):
        return None  # the selection is one delegation's
    if len(groups) < 2:
        return None
    keep = _query_string(request, form, exclude=("delegation",))
    return [
        (
            name.html(),
            groups[key],
            "?" + "&".join(part for part in (keep, urlencode({"delegation": key})) if part),
        )
        for key, name in form.delegations()
        if key in groups
    ]


@require_safe
@public_page(gzip=True)
def commitment_detail(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    ensure_current()
    form = PublicFilterForm(request.GET)
    point, _filters = form.selection()
    commitment = _published_commitment(reference, point)
    follow_ups = (
        commitment.follow_ups.seen_from(point)
        .timeline()
        .defer("internal_note")
        .prefetch_related("states")  # the states each one concerns: one query for the page
    )
    page = _page(request, follow_ups, FOLLOW_UPS_PER_PAGE)
    # Published replies (commitments/replies.py), seen from the same day: never the sender's
    # name or e-mail address, which are not even read.
    replies = list(
        commitment.reply_submissions.published()
        .seen_from(point)
        .newest_first()
        .defer("name", "email")[:REPLIES_SHOWN]
    )
    for follow_up in page.object_list:
        # The timeline says when a follow-up was recorded where that is not when it happened.
        follow_up.recorded_on = timezone.localdate(follow_up.recorded_at)
        follow_up.concerned = sorted_by_name(follow_up.states.all())
    first = commitment.statement.date
    viewpoint = _viewpoint_context(point, commitment.get_absolute_url())
    return render(
        request,
        "commitments/commitment_detail.html",
        {
            **viewpoint,
            **_cite(
                request,
                viewpoint,
                localized(commitment, "title").plain,
                localized(commitment.statement.delegation, "name").plain,
                commitment.reference,
            ),
            "commitment": commitment,
            "follow_ups": page.object_list,
            "replies": replies,
            "replies_shown": REPLIES_SHOWN,
            "page": page,
            "page_query": _query_string(request, form),
            "form": form,
            "meetings": Meeting.objects.closed_between(first, timezone.localdate()),
            "overdue": point.is_now and commitment.is_overdue(),
            "joined_since": joined_since(commitment, point),
            "not_yet_made": point.as_at is not None and point.as_at < commitment.statement.date,
            "not_yet_recorded": point.known_on is not None
            and commitment.created_at >= point.recorded_before,
        },
    )


@require_safe
@public_page(gzip=True)
def statement_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    ensure_current()
    form = PublicFilterForm(request.GET)
    point, _filters = form.selection()
    statement = get_object_or_404(
        Statement.objects.select_related("delegation__state", "convention_meeting"), slug=slug
    )
    # Its commitments as seen from the date shown: those made and entered by then.
    seen = public_commitments(point).filter(statement=statement)
    commitments = list(seen.only("reference", "quote", "statement_id"))
    summary, _groups = seen.summaries()
    viewpoint = _viewpoint_context(point, statement.get_absolute_url())
    return render(
        request,
        "commitments/statement_detail.html",
        {
            **viewpoint,
            **_cite(
                request,
                viewpoint,
                localized(statement, "title").plain,
                localized(statement.delegation, "name").plain,
            ),
            "form": form,
            "statement": statement,
            "paragraphs": statement.paragraphs(commitments),
            "commitments": commitments,
            "summary": summary,
            "language_name": _language_name(statement.language),
            "meetings": Meeting.objects.closed_between(statement.date, timezone.localdate()),
            "not_yet_made": point.as_at is not None and point.as_at < statement.date,
        },
    )


@require_safe
@public_page(gzip=True)
def statement_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every statement with a published commitment seen from the date shown, with its
    figures: one query for the figures of them all, one for the page of statements."""
    ensure_current()
    form = PublicFilterForm(request.GET)
    point, _filters = form.selection()
    _overall, by_statement = public_commitments(point).summaries(by="statement_id")
    page = _page(
        request,
        Statement.objects.filter(pk__in=list(by_statement))
        .defer("text")
        .select_related("delegation__state", "convention_meeting"),
        STATEMENTS_PER_PAGE,
    )
    viewpoint = _viewpoint_context(point, reverse("statement_list"))
    return render(
        request,
        "commitments/statement_list.html",
        {
            **viewpoint,
            **_cite(request, viewpoint, _("Statements")),
            "form": form,
            "statements": [
                (statement, by_statement[statement.pk], _language_name(statement.language))
                for statement in page.object_list
            ],
            "page": page,
            "page_query": point.query(),
        },
    )


STAFF_FILTER_KEYS = ("show", "theme", "status", "owner", "page")


def _staff_query(request, without=()):
    """The staff page's filters and page as a query string, to come back to the same view."""
    kept = request.GET.copy()
    for key in list(kept):
        if key not in STAFF_FILTER_KEYS or key in without:
            del kept[key]
    return kept.urlencode()


def _row_forms(commitment, bound=None, states=None):
    """A row's two forms, follow-up and confirm: fresh ones, or the refused `bound` one kept.
    `states`: the list of states the page's follow-up forms share (forms.state_choices)."""
    if isinstance(bound, FollowUpForm):
        form = bound
    else:
        form = FollowUpForm(commitment=commitment, states=states)
    confirm = bound if isinstance(bound, ConfirmForm) else ConfirmForm(commitment=commitment)
    return form, confirm


def _staff_context(request, bound_form=None, conflict=None):
    """Everything the staff page shows: the queues with counts, the filters, the rows.
    `bound_form`: a refused FollowUpForm or ConfirmForm, kept in its row."""
    filter_form = StaffFilterForm(request.GET, auto_id="filter-%s")
    filters = filter_form.filters()
    today = timezone.localdate()
    user = request.user
    ensure_current()
    commitments = Commitment.objects.for_list().as_of().select_related("owner")
    if filters["theme"]:
        commitments = commitments.filter(theme=filters["theme"])
    if filters["status"]:
        commitments = commitments.filter(at_status=filters["status"])
    if filters["owner"] == "none":
        commitments = commitments.filter(owner__isnull=True)
    elif filters["owner"]:
        commitments = commitments.filter(owner_id=filters["owner"])
    queue_filters = {
        "mine": Q(owner=user),
        "review": overdue_q(today),
        "stale": stale_q(today),
        "all": Q(),
    }
    counts = commitments.aggregate(
        **{name: Count("pk", filter=condition) for name, condition in queue_filters.items()}
    )
    queues = [(name, label, counts[name]) for name, label in QUEUES.items()]
    shown = commitments.filter(queue_filters[filters["show"]]).prefetch_related(
        Prefetch(
            "follow_ups",
            queryset=FollowUp.objects.timeline().select_related("author")[:1],
            to_attr="latest",
        ),
        Prefetch("proposals", queryset=_pending_proposals(), to_attr="pending"),
    )
    page = _page(request, shown, STAFF_ROWS_PER_PAGE)
    # One list of states (one query) for every row's follow-up form; none for a role that
    # may not record one (its rows show no form).
    states = state_choices() if user.has_perm("commitments.add_followup") else []
    rows = []
    for commitment in page.object_list:
        if bound_form is not None and bound_form.commitment.pk == commitment.pk:
            rows.append((commitment, *_row_forms(commitment, bound_form, states)))
        else:
            rows.append((commitment, *_row_forms(commitment, states=states)))
    if bound_form is not None and all(row[0].pk != bound_form.commitment.pk for row in rows):
        # The row with the refused entry left this page meanwhile: show it first, never lose it.
        commitment = bound_form.commitment
        commitment.forget_state()
        commitment.latest = list(commitment.follow_ups.timeline().select_related("author")[:1])
        commitment.pending = list(_pending_proposals().filter(commitment=commitment))
        rows.insert(0, (commitment, *_row_forms(commitment, bound_form)))
    return {
        "rows": rows,
        "page": page,
        "shown_count": counts[filters["show"]],
        "page_query": _staff_query(request, without=["page"]),
        "queues": queues,
        "show": filters["show"],
        "filter_form": filter_form,
        "filtered": any(filters[k] for k in ("theme", "status", "owner")),
        "stale_days": settings.REVIEW_STALE_DAYS,
        "staff_query": _staff_query(request),
        "conflict": conflict,
        # The moderation queue's count, for those who moderate (commitments/replies.py).
        "replies_waiting": ReplySubmission.objects.waiting().count()
        if user.has_perm("commitments.moderate_replysubmission")
        else None,
        **_review_summary(user),
    }


def _pending_proposals():
    """Proposed follow-ups waiting for a second review, oldest first, with their authors."""
    return ProposedFollowUp.objects.pending().select_related("author").order_by("proposed_at")


# How long a follow-up sent back stays on its author's staff page.
SENT_BACK_SHOWN_DAYS = 30


def _review_summary(user):
    """For the staff page: how many follow-ups wait for a second review (the queue's link),
    and the user's own that wait or were sent back lately, with the reviewer's note."""
    if not user.has_perm("commitments.view_proposedfollowup"):
        return {}
    since = timezone.now() - datetime.timedelta(days=SENT_BACK_SHOWN_DAYS)
    mine = (
        ProposedFollowUp.objects.filter(author=user)
        .filter(
            Q(review__isnull=True)
            | Q(review__decision=Decision.SENT_BACK, review__reviewed_at__gte=since)
        )
        .select_related("commitment", "review__reviewer")
        .order_by("-proposed_at")
    )
    return {
        "review_count": ProposedFollowUp.objects.pending().count(),
        "my_proposals": mine[:STAFF_ROWS_PER_PAGE],
    }


@require_safe
@staff_required
@permission_required("commitments.view_commitment")
def staff_home(request: HtmxHttpRequest) -> HttpResponse:
    context = _staff_context(request)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "commitments/staff.html#results", context)
    return render(request, "commitments/staff.html", context)


def _row_context(request, commitment, bound=None, **extra):
    commitment.latest = list(commitment.follow_ups.timeline().select_related("author")[:1])
    commitment.pending = list(_pending_proposals().filter(commitment=commitment))
    form, confirm = _row_forms(commitment, bound)
    return {
        "commitment": commitment,
        "form": form,
        "confirm": confirm,
        "staff_query": _staff_query(request),
        "stale_days": settings.REVIEW_STALE_DAYS,
        **extra,
    }


def _staff_entry(request, reference, form_class, done_message):
    """A staff row's form posted: record it, or refuse it (stale: 409, invalid: 422) with
    what was typed kept. The one flow behind a follow-up and a confirmation; `done_message`
    takes the status label and the reference."""
    commitment = get_object_or_404(
        Commitment.objects.select_related("statement__delegation__state", "theme", "owner"),
        reference=reference,
    )
    form = form_class(request.POST, commitment=commitment)
    if form.is_valid():
        try:
            follow_up = form.record(by=request.user)
        except StaleVersion:
            return _refuse_stale(request, commitment, form)
        except ValidationError as error:  # e.g. nothing to confirm: not yet assessed
            form.add_error(None, error)
        else:
            if isinstance(follow_up, ProposedFollowUp):
                done_message = _(
                    "“%(status)s” on %(ref)s is sent for a second review: it will be public "
                    "once another editor confirms it."
                )
            done = done_message % {
                "status": follow_up.get_status_display(),
                "ref": commitment.reference,
            }
            if request.htmx:
                return render(
                    request,
                    "commitments/staff.html#row",
                    _row_context(request, commitment, done=done),
                )
            messages.success(request, done)
            query = _staff_query(request)
            return redirect(
                f"{reverse('staff_home')}{'?' + query if query else ''}#c-{commitment.reference}"
            )
    if request.htmx:
        return render(
            request,
            "commitments/staff.html#row",
            _row_context(request, commitment, form),
            status=422,
        )
    return render(request, "commitments/staff.html", _staff_context(request, form), status=422)


@require_POST
@staff_required
@permission_required("commitments.add_followup")
def staff_record_follow_up(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    return _staff_entry(request, reference, FollowUpForm, _("Recorded “%(status)s” on %(ref)s."))


@require_POST
@staff_required
@permission_required("commitments.add_followup")
def staff_confirm(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Confirm, no change: the same verdict again, today, with what was checked."""
    return _staff_entry(
        request, reference, ConfirmForm, _("Confirmed “%(status)s” on %(ref)s, as checked today.")
    )


def _refuse_stale(request, commitment, form):
    """Someone changed the commitment after this form was opened: write nothing, show what
    changed, and keep what the person typed on a form based on the current version."""
    based_on = form.cleaned_data["version"]
    commitment.refresh_from_db()
    commitment.forget_state()
    conflict = {
        "reference": commitment.reference,
        "changes": commitment.changes_since(based_on),
    }
    rebased = form.rebased()
    if request.htmx:
        return render(
            request,
            "commitments/staff.html#row",
            _row_context(request, commitment, rebased, conflict=conflict),
            status=409,
        )
    return render(
        request, "commitments/staff.html", _staff_context(request, rebased, conflict), status=409
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def staff_language(request: HtmxHttpRequest) -> HttpResponse:
    """Each staff member's language for the staff pages and the admin (public pages keep the
    language of their address). The staff page and the admin's user tools post here."""
    preference = StaffPreference.objects.filter(user=request.user).first()
    form = StaffLanguageForm(
        request.POST if request.method == "POST" else None,
        instance=preference or StaffPreference(user=request.user),
        auto_id="language-%s",
    )
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    if form.is_valid():
        language = form.save().language
        with translation.override(language):
            messages.success(
                request,
                _("The staff pages and the admin are now in %(language)s.")
                % {"language": get_language_info(language)["name_local"]},
            )
        if back:
            return redirect(back)
        # Staff without a role may not read the staff page; the admin is theirs too.
        if request.user.has_perm("commitments.view_commitment"):
            return redirect("staff_home")
        return redirect("admin:index")
    return render(
        request,
        "commitments/staff_language.html",
        {"form": form, "next": back},
        status=422 if form.is_bound else 200,
    )


# What lacks a French or Spanish version: the staff queue of translations.
TRANSLATION_LANGUAGES = [code for code, _n in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
TRANSLATION_ROWS = 25  # follow-ups a page, each with its form
TRANSLATION_ITEMS = 50  # items of each other kind listed (the count says how many in all)


def _translation_queue(request, language, bound=None):
    kinds = [
        (Commitment, Commitment.objects.filter(published=True)),
        (
            Statement,
            Statement.objects.filter(commitments__published=True)
            .distinct()
            .select_related("delegation__state"),
        ),
        (
            Delegation,
            Delegation.objects.filter(statements__commitments__published=True).distinct(),
        ),
        (Theme, Theme.objects.filter(commitments__published=True).distinct()),
        (Article, Article.objects.all()),
        (Meeting, Meeting.objects.all()),
    ]
    sections = []
    for model, rows in kinds:
        missing = rows.filter(missing_q(model, language))
        items = [
            (item, reverse(f"admin:commitments_{model._meta.model_name}_change", args=[item.pk]))
            for item in missing[:TRANSLATION_ITEMS]
        ]
        sections.append((model._meta.verbose_name_plural, missing.count(), items))
    follow_ups = (
        FollowUp.objects.public()
        .filter(missing_q(FollowUp, language))
        .select_related("commitment")
        .timeline()
    )
    page = _page(request, follow_ups, TRANSLATION_ROWS)
    rows = [
        (
            follow_up,
            bound
            if bound is not None and bound.follow_up.pk == follow_up.pk
            else FollowUpTranslationForm(follow_up=follow_up, language=language),
        )
        for follow_up in page.object_list
    ]
    if bound is not None and bound.follow_up.pk not in {f.pk for f, _form in rows}:
        rows.insert(0, (bound.follow_up, bound))
    return {
        "language": language,
        "language_name": get_language_info(language)["name_translated"],
        "languages": [
            (code, get_language_info(code)["name_translated"]) for code in TRANSLATION_LANGUAGES
        ],
        "sections": sections,
        "rows": rows,
        "page": page,
    }


@require_safe
@staff_required
@permission_required("commitments.view_commitment")
def staff_translations(request: HtmxHttpRequest) -> HttpResponse:
    """Published items with no version in French (or Spanish): commitments, statements, themes,
    articles and meetings link to their admin page, where the versions are side by side; follow-ups
    take theirs here, since they are history and only their missing versions may be added."""
    language = request.GET.get("language")
    if language not in TRANSLATION_LANGUAGES:
        language = TRANSLATION_LANGUAGES[0]
    return render(
        request, "commitments/staff_translations.html", _translation_queue(request, language)
    )


@require_POST
@staff_required
@permission_required("commitments.add_followup")
def staff_translate_follow_up(request: HtmxHttpRequest, pk: int, language: str) -> HttpResponse:
    if language not in TRANSLATION_LANGUAGES:
        raise Http404
    follow_up = get_object_or_404(FollowUp.objects.public().select_related("commitment"), pk=pk)
    form = FollowUpTranslationForm(request.POST, follow_up=follow_up, language=language)
    status = 422
    if form.is_valid():
        try:
            form.save(by=request.user)
        except TranslationTaken:
            form.add_error(
                None,
                _(
                    "Not saved: someone gave this version meanwhile; it is shown on the public "
                    "page. What you typed is kept below."
                ),
            )
            status = 409
        else:
            messages.success(
                request,
                _("The %(language)s version of the follow-up on %(reference)s is public.")
                % {
                    "language": get_language_info(language)["name_translated"],
                    "reference": follow_up.commitment.reference,
                },
            )
            return redirect(f"{reverse('staff_translations')}?language={language}")
    context = _translation_queue(request, language, bound=form)
    return render(request, "commitments/staff_translations.html", context, status=status)


# --- A second reviewer: the queue of proposed follow-ups ----------------------------------------

REVIEW_ROWS_PER_PAGE = 25
RECENT_REVIEWS = 20


def _review_context(request, bound=None, problem=None):
    """The queue: each pending proposal with what it would change, and the latest decisions.
    `bound`: a refused SendBackForm kept in its row; `problem`: {"pk", "message", "changes"}
    for a refused confirmation (the author's own, reviewed already, or the commitment moved
    since its author saw it: what changed)."""
    ensure_current()
    pending = (
        ProposedFollowUp.objects.pending()
        .select_related("commitment__state", "commitment__theme", "author")
        .prefetch_related("states")
        .order_by("proposed_at", "pk")
    )
    page = _page(request, pending, REVIEW_ROWS_PER_PAGE)
    rows = []
    for proposal in page.object_list:
        form = bound if bound is not None and bound.proposal.pk == proposal.pk else None
        rows.append((proposal, form or SendBackForm(proposal=proposal)))
    recent = Review.objects.select_related(
        "proposal__commitment", "proposal__author", "reviewer"
    ).order_by("-reviewed_at", "-pk")[:RECENT_REVIEWS]
    return {
        "rows": rows,
        "page": page,
        "recent": recent,
        "problem": problem,
    }


def _review_response(request, context, status=200):
    if request.htmx:
        return render(request, "commitments/staff_review.html#queue", context, status=status)
    return render(request, "commitments/staff_review.html", context, status=status)


@require_safe
@staff_required
@permission_required("commitments.view_proposedfollowup")
def staff_review(request: HtmxHttpRequest) -> HttpResponse:
    """Follow-ups waiting for a second editor, with what each would change."""
    return _review_response(request, _review_context(request))


def _review_done(request, message):
    if request.htmx:
        return _review_response(request, {**_review_context(request), "done": message})
    messages.success(request, message)
    return redirect("staff_review")


def _pending_or_404(pk):
    return get_object_or_404(ProposedFollowUp.objects.select_related("commitment", "author"), pk=pk)


def _refused(request, proposal, message, status, changes=None):
    problem = {"pk": proposal.pk, "message": message, "changes": changes}
    return _review_response(request, _review_context(request, problem=problem), status=status)


@require_POST
@staff_required
@permission_required("commitments.review_followup")
def staff_review_confirm(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Confirm another editor's follow-up: it is recorded, and public."""
    proposal = _pending_or_404(pk)
    try:
        follow_up = confirm_proposal(proposal, by=request.user)
    except ValidationError as error:  # the author's own
        return _refused(request, proposal, " ".join(error.messages), 403)
    except AlreadyReviewed:
        return _refused(
            request, proposal, _("Another editor has reviewed this follow-up already."), 409
        )
    except StaleVersion:
        commitment = proposal.commitment
        commitment.refresh_from_db()
        return _refused(
            request,
            proposal,
            _(
                "Not confirmed: %(ref)s changed after this follow-up was proposed. Check it "
                "against what changed; send it back if it no longer applies."
            )
            % {"ref": commitment.reference},
            409,
            commitment.changes_since(proposal.based_on_version),
        )
    return _review_done(
        request,
        _("Confirmed “%(status)s” on %(ref)s: it is public.")
        % {"status": follow_up.get_status_display(), "ref": proposal.commitment.reference},
    )


@require_POST
@staff_required
@permission_required("commitments.view_proposedfollowup")
def staff_review_withdraw(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Its author takes back a follow-up still waiting for a second review."""
    proposal = _pending_or_404(pk)
    try:
        withdraw_proposal(proposal, by=request.user)
    except ValidationError as error:  # not the author's
        raise PermissionDenied(" ".join(error.messages)) from error
    except AlreadyReviewed:
        messages.error(request, _("Another editor has reviewed this follow-up already."))
    else:
        messages.success(
            request,
            _("Withdrawn: “%(status)s” on %(ref)s will not be public. Nothing was recorded.")
            % {"status": proposal.get_status_display(), "ref": proposal.commitment.reference},
        )
    return redirect("staff_home")


@require_POST
@staff_required
@permission_required("commitments.review_followup")
def staff_review_send_back(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send another editor's follow-up back, with a note: nothing is recorded."""
    proposal = _pending_or_404(pk)
    form = SendBackForm(request.POST, proposal=proposal)
    status = 422
    if form.is_valid():
        try:
            send_back(proposal, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, error)
            else:
                return _refused(request, proposal, " ".join(error.messages), 403)
        except AlreadyReviewed:
            return _refused(
                request, proposal, _("Another editor has reviewed this follow-up already."), 409
            )
        else:
            return _review_done(
                request,
                _("Sent back “%(status)s” on %(ref)s to %(author)s, with your note.")
                % {
                    "status": proposal.get_status_display(),
                    "ref": proposal.commitment.reference,
                    "author": proposal.author,
                },
            )
    return _review_response(request, _review_context(request, bound=form), status=status)
