from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from .forms import FollowUpForm
from .models import STATUS_INFO, Commitment, Statement, Status, Theme


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


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


def _published_commitment(reference):
    return get_object_or_404(
        Commitment.objects.published().select_related("statement", "theme"),
        reference=reference,
    )


@require_safe
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    commitments = Commitment.objects.published()
    by_theme = commitments.progress_by_theme()
    themes = [(theme, by_theme[theme.pk]) for theme in Theme.objects.all() if theme.pk in by_theme]
    return render(
        request,
        "commitments/dashboard.html",
        {
            "summary": commitments.progress_summary(),
            "themes": themes,
            "commitments": commitments.for_list(),
            "status_scale": [(status, STATUS_INFO[status]) for status in Status],
        },
    )


@require_safe
def commitment_detail(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    commitment = _published_commitment(reference)
    follow_ups = commitment.follow_ups.timeline().defer("internal_note")
    return render(
        request,
        "commitments/commitment_detail.html",
        {"commitment": commitment, "follow_ups": follow_ups},
    )


@require_safe
def statement_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    statement = get_object_or_404(Statement, slug=slug)
    commitments = list(statement.commitments.published().select_related("theme"))
    return render(
        request,
        "commitments/statement_detail.html",
        {
            "statement": statement,
            "paragraphs": statement.paragraphs(commitments),
            "commitments": commitments,
        },
    )


def _staff_rows(bound_form=None):
    commitments = Commitment.objects.for_list().select_related("owner")
    rows = []
    for commitment in commitments:
        if bound_form is not None and bound_form.commitment.pk == commitment.pk:
            rows.append((commitment, bound_form))
        else:
            rows.append((commitment, FollowUpForm(commitment=commitment)))
    return rows


@require_safe
@staff_required
def staff_home(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "commitments/staff.html", {"rows": _staff_rows()})


@require_POST
@staff_required
def staff_record_follow_up(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    commitment = get_object_or_404(
        Commitment.objects.select_related("statement", "theme", "owner"), reference=reference
    )
    form = FollowUpForm(request.POST, commitment=commitment)
    if form.is_valid():
        follow_up = form.record(by=request.user)
        done = _("Recorded “%(status)s” on %(ref)s.") % {
            "status": follow_up.get_status_display(),
            "ref": commitment.reference,
        }
        if request.htmx:
            return render(
                request,
                "commitments/staff.html#row",
                {
                    "commitment": commitment,
                    "form": FollowUpForm(commitment=commitment),
                    "done": done,
                },
            )
        messages.success(request, done)
        return redirect(f"{reverse('staff_home')}#c-{commitment.reference}")
    if request.htmx:
        return render(
            request,
            "commitments/staff.html#row",
            {"commitment": commitment, "form": form},
            status=422,
        )
    return render(request, "commitments/staff.html", {"rows": _staff_rows(form)}, status=422)
