"""The right of reply: the one home of the public reply form, its defences, the moderation of
what it receives, and the messages to the sender.

Each published commitment links to a page of its own, "Suggest an update or reply" (the
commitment's page stays cookie-free and cacheable; this one sets the CSRF cookie, so it is
`private, no-store` and never enters the page cache). What a person sends is kept as sent
(models.ReplySubmission) and nothing of it is public until a moderator decides, once
(models.ReplyDecision): publish it as a reply (on the commitment's timeline, in the feeds and
the exports, never with the sender's name or e-mail address), turn it into a follow-up (the
staff follow-up form opens pre-filled; the follow-up is recorded the usual way), or reject it
with a reason. The sender is e-mailed at each step, in the language of the page they wrote
from, once the step is committed.

Defences, with no outside service, each refusing with a message and storing nothing: the
request body's size (REPLY_MAX_BODY_BYTES), CSRF, a rate per client address (cache) and per
e-mail address (database), a honeypot field, a minimum time to fill (a signed timestamp),
and the fields' own limits. The text is plain text: it is stored as typed and always escaped
where shown. Refusals are logged with their reason and the commitment, never who sent them.
"""

import hashlib
import logging
import time
from datetime import timedelta
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import IntegrityError, models, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccmtracker.http import client_ip

from .forms import ConfirmForm, FollowUpForm
from .models import (
    NOTE_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    Commitment,
    ReplyDecision,
    ReplyOutcome,
    ReplySubmission,
)
from .records import changed
from .views import permission_required, staff_required

logger = logging.getLogger(__name__)

MODERATE = "commitments.moderate_replysubmission"
QUEUE_PER_PAGE = 25
RECENT_DECISIONS = 20
# The timer's token: older than this, the form is stale and is shown again to be sent.
FORM_MAX_AGE = 24 * 60 * 60
TIMER_SALT = "commitments.replies.timer"
HONEYPOT = "website"


# --- The public form ---------------------------------------------------------------------------


class ReplyForm(forms.Form):
    """What a person sends about a commitment. Plain text: never read as markup."""

    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    organisation = forms.CharField(
        label=gettext_lazy("Organisation"),
        max_length=200,
        help_text=gettext_lazy("Shown with your reply if it is published."),
    )
    email = forms.EmailField(
        label=gettext_lazy("Your e-mail address"),
        max_length=254,
        help_text=gettext_lazy(
            "Never published. We write to you when we receive your reply and when we decide."
        ),
    )
    writes_for_delegation = forms.BooleanField(
        label=gettext_lazy("I write for the delegation that made this commitment"),
        required=False,
    )
    text = forms.CharField(
        label=gettext_lazy("Your update or reply"),
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy(
            "Plain text, at most %(max)s characters: formatting and HTML are shown as typed."
        )
        % {"max": f"{REPLY_MAX_LENGTH:,}"},
    )
    evidence_url = forms.URLField(
        label=gettext_lazy("Evidence link (optional)"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("A public page or document that supports what you say."),
    )
    # The honeypot: hidden from sight by CSS, skipped by the keyboard, and labelled for
    # screen readers; a person leaves it empty, a robot filling every field does not.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty: it is here to catch automated forms."),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh timer on every form shown, refused or not: the time counts from now.
        self.fields["started"].initial = start_timer()
        if self.is_bound:
            self.data = self.data.copy()
            self.data["started"] = self.fields["started"].initial
            self.data[HONEYPOT] = ""


def start_timer(at=None):
    """The signed moment a form was shown (time.time() unless `at`)."""
    return signing.dumps(at if at is not None else time.time(), salt=TIMER_SALT)


def timer_error(token):
    """Why a form's timer refuses it, or None: missing or tampered, too old, or too fast."""
    try:
        started = float(signing.loads(token or "", salt=TIMER_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return "tampered"
    elapsed = time.time() - started
    if elapsed > FORM_MAX_AGE:
        return "expired"
    if elapsed < settings.REPLY_MIN_SECONDS:
        return "too_fast"
    return None


def over_address_rate(request, now=None):
    """Count this request against its client address; True past REPLY_RATE_PER_MINUTE in the
    last 60 seconds. A sliding window: this clock minute's count plus the last minute's,
    weighted by how much of it is still within 60 seconds, so that a burst across the turn of
    a minute cannot pass twice the limit. The address is kept only as a hash in keys that
    expire. With the cache unreachable, every request passes (the other defences still hold)
    and one warning is logged."""
    now = time.time() if now is None else now
    address = client_ip(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    minute = int(now // 60)
    key, previous_key = f"reply-rate:{digest}:{minute}", f"reply-rate:{digest}:{minute - 1}"
    cache = caches["default"]
    try:
        count = 1 if cache.add(key, 1, timeout=120) else cache.incr(key)
        previous = cache.get(previous_key, 0)
    except Exception:  # a cache outage must not stop people writing
        logger.warning("reply rate not counted: cache unavailable", extra={"event": "reply_rate"})
        return False
    still_within = 1 - (now % 60) / 60
    return count + previous * still_within > settings.REPLY_RATE_PER_MINUTE


def over_email_rate(email):
    since = timezone.now() - timedelta(hours=1)
    sent = ReplySubmission.objects.filter(email__iexact=email, submitted_at__gte=since).count()
    return sent >= settings.REPLY_RATE_PER_EMAIL_HOUR


REFUSALS = {
    # reason: (HTTP status, message)
    "too_large": (
        413,
        gettext_lazy("Not sent: this is more than the form takes. Shorten your text."),
    ),
    "address_rate": (
        429,
        gettext_lazy(
            "Not sent: too many replies have come from your address in the last minute. "
            "Wait a minute, then send it again. What you typed is kept below."
        ),
    ),
    "email_rate": (
        429,
        gettext_lazy(
            "Not sent: too many replies have come from this e-mail address in the last hour. "
            "Try again later. What you typed is kept below."
        ),
    ),
    "honeypot": (
        400,
        gettext_lazy(
            "Not sent: the field marked “leave this field empty” was filled in, as automated "
            "forms do. Leave it empty and send again."
        ),
    ),
    "too_fast": (
        400,
        gettext_lazy(
            "Not sent: the form came back faster than a person can fill it in. Check what you "
            "typed, below, and send it again."
        ),
    ),
    "tampered": (
        400,
        gettext_lazy(
            "Not sent: the form was not the one this page gave. Send it again from this page."
        ),
    ),
    "expired": (
        400,
        gettext_lazy(
            "Not sent: the form was opened too long ago. Check what you typed, below, and send "
            "it again."
        ),
    ),
}


def _refuse(request, commitment, reason, form):
    status, message = REFUSALS[reason]
    # Why and where; never who (no name, e-mail or address).
    logger.warning(
        "reply refused",
        extra={"event": "reply_refused", "reason": reason, "commitment": commitment.reference},
    )
    return _form_page(request, commitment, form, refusal=message, status=status)


def _form_page(request, commitment, form, refusal=None, status=200):
    return render(
        request,
        "commitments/reply_form.html",
        {
            "commitment": commitment,
            "form": form,
            "refusal": refusal,
            "max_length": REPLY_MAX_LENGTH,
        },
        status=status,
    )


def _commitment(reference):
    return get_object_or_404(
        Commitment.objects.published().select_related("statement__delegation__state"),
        reference=reference,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache  # it sets the CSRF cookie: private, no-store, never in the page cache
def reply_form(request: HttpRequest, reference: str) -> HttpResponse:
    commitment = _commitment(reference)
    if request.method != "POST":
        return _form_page(request, commitment, ReplyForm())
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if size > settings.REPLY_MAX_BODY_BYTES:
        return _refuse(request, commitment, "too_large", ReplyForm())
    token = request.POST.get("started")
    form = ReplyForm(request.POST)  # the fields as typed, with a fresh timer
    if over_address_rate(request):
        return _refuse(request, commitment, "address_rate", form)
    if request.POST.get(HONEYPOT):
        return _refuse(request, commitment, "honeypot", form)
    if problem := timer_error(token):
        return _refuse(request, commitment, problem, form)
    if not form.is_valid():
        return _form_page(request, commitment, form, status=422)
    if over_email_rate(form.cleaned_data["email"]):
        return _refuse(request, commitment, "email_rate", form)
    submit(commitment, form.cleaned_data, language=get_language())
    return redirect("reply_sent", reference=commitment.reference)


@require_safe
@never_cache
def reply_sent(request: HttpRequest, reference: str) -> HttpResponse:
    """After sending (POST/redirect/GET): what happens next."""
    return render(request, "commitments/reply_sent.html", {"commitment": _commitment(reference)})


# --- Write paths -------------------------------------------------------------------------------


def submit(commitment, data, *, language):
    """Store what a person sent, as sent; e-mail them that it arrived once it is stored."""
    fields = ("name", "organisation", "email", "writes_for_delegation", "text", "evidence_url")
    submission = ReplySubmission(
        commitment=commitment, language=language, **{name: data[name] for name in fields}
    )
    submission.full_clean(exclude=["commitment"])
    with transaction.atomic():
        submission.save()
        transaction.on_commit(partial(send_step_mail, submission))
    logger.info(
        "reply received",
        extra={
            "event": "reply_received",
            "reply_id": submission.pk,
            "commitment": commitment.reference,
        },
    )
    return submission


class AlreadyDecided(Exception):
    """Another moderator decided on this submission first: theirs stands."""


def decide(submission, outcome, *, by, reason="", sender_verified=False):
    """A moderator's one decision on a submission. Publishing changes public data (the cached
    pages are outdated on commit); the sender is e-mailed once it is committed. Raises
    ValidationError (a rejection without a reason) or AlreadyDecided."""
    reason = (reason or "").strip()
    if outcome == ReplyOutcome.REJECTED and not reason:
        raise ValidationError({"reason": _("Give the reason: it is sent to the sender.")})
    decision = ReplyDecision(
        submission=submission,
        outcome=outcome,
        reason=reason if outcome == ReplyOutcome.REJECTED else "",
        sender_verified=bool(sender_verified) and outcome == ReplyOutcome.PUBLISHED,
        decided_by=by,
    )
    decision.full_clean(exclude=["submission", "decided_by"], validate_constraints=False)
    with transaction.atomic():
        try:
            with transaction.atomic():
                decision.save()
        except IntegrityError as error:  # the one-to-one: someone decided first
            raise AlreadyDecided(submission) from error
        if outcome == ReplyOutcome.PUBLISHED:
            changed()
        transaction.on_commit(partial(send_step_mail, submission, decision))
    submission.decision = decision
    logger.info(
        "reply decided",
        extra={
            "event": "reply_decided",
            "reply_id": submission.pk,
            "outcome": outcome,
            "user_id": by.pk,
            "username": by.get_username(),
        },
    )
    return decision


# --- The sender's personal data ------------------------------------------------------------------


def erase_senders(submissions, *, at=None):
    """Blank the sender's name and e-mail address of these submissions (a queryset) and
    record when: the one write that history allows on a reply. What was sent, the
    organisation, and every decision stay. Returns how many were erased (those already
    erased are left as they are)."""
    at = at or timezone.now()
    pending = submissions.sender_kept()
    # QuerySet.update itself: ReplySubmissionQuerySet.update refuses every other change.
    return models.QuerySet.update(pending, name="", email="", sender_erased_at=at)


def past_retention(now=None):
    """The decided submissions whose sender's details are due for erasure: decided
    REPLY_SENDER_RETENTION_DAYS ago or more (none when the setting is 0). Waiting ones are
    kept: the sender is still to be told the decision."""
    days = settings.REPLY_SENDER_RETENTION_DAYS
    if days <= 0:
        return ReplySubmission.objects.none()
    until = (now or timezone.now()) - timedelta(days=days)
    return ReplySubmission.objects.filter(decision__decided_at__lte=until)


def from_address(email):
    """Every submission sent from this e-mail address (compared case-blind), for a sender
    who asks to be forgotten."""
    return ReplySubmission.objects.filter(email__iexact=email.strip())


# --- Messages to the sender --------------------------------------------------------------------


def _step_message(submission, decision, page):
    reference = submission.commitment.reference
    if decision is None:
        subject = _("We received your reply on %(reference)s") % {"reference": reference}
        body = _(
            "Thank you for writing about commitment %(reference)s.\n\n"
            "A member of staff will read what you sent. Nothing of it is published before "
            "then. We will write to you again when it is decided.\n\n"
            "The commitment: %(page)s"
        )
    elif decision.outcome == ReplyOutcome.PUBLISHED:
        subject = _("Your reply on %(reference)s is published") % {"reference": reference}
        verified = (
            _("Staff verified who sent it, and the page says so.")
            if decision.sender_verified
            else _("The page says that staff did not verify who sent it.")
        )
        body = (
            _(
                "Your reply on commitment %(reference)s is published on its page, with the name "
                "of your organisation and the date. Your name and e-mail address are not.\n\n"
            )
            + verified
            + "\n\n"
            + _("The commitment: %(page)s")
        )
    elif decision.outcome == ReplyOutcome.FOLLOW_UP:
        subject = _("Your reply on %(reference)s is becoming a follow-up") % {
            "reference": reference
        }
        body = _(
            "Thank you: staff are recording what you sent as a follow-up on commitment "
            "%(reference)s, checked like every follow-up. It appears on the commitment's page "
            "once recorded.\n\n"
            "The commitment: %(page)s"
        )
    else:
        subject = _("Your reply on %(reference)s was not published") % {"reference": reference}
        body = _(
            "Staff read your reply on commitment %(reference)s and did not publish it, for this "
            "reason:\n\n%(reason)s\n\n"
            "The commitment: %(page)s"
        )
    values = {"reference": reference, "page": page, "reason": decision.reason if decision else ""}
    return subject, body % values


def send_step_mail(submission, decision=None):
    """E-mail the sender where their reply stands, in the language they wrote in. Plain text,
    and never what they sent (the form must not be a way to mail anything to anyone). A failed
    send is logged, and the step stands."""
    if not submission.email:  # erased at the sender's request: nobody to write to
        logger.info(
            "reply mail not sent: the sender's address was erased",
            extra={"event": "reply_mail_erased", "reply_id": submission.pk},
        )
        return
    with translation.override(submission.language):
        page = settings.SITE_URL + submission.commitment.get_absolute_url()
        subject, body = _step_message(submission, decision, page)
    try:
        send_mail(f"[ccmtracker] {subject}", body, settings.DEFAULT_FROM_EMAIL, [submission.email])
    except Exception:  # the mail server is down: the decision is recorded all the same
        logger.exception(
            "reply mail not sent",
            extra={"event": "reply_mail_failed", "reply_id": submission.pk},
        )


# --- Moderation (staff) ------------------------------------------------------------------------


class PublishForm(forms.Form):
    sender_verified = forms.BooleanField(
        label=gettext_lazy("We verified who sent it"), required=False
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (sent to the sender, never published)"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Give the reason: it is sent to the sender.")},
    )


def _forms(submission, bound=None):
    """A row's publish and reject forms; the refused `bound` one kept."""
    prefix = f"r{submission.pk}"
    publish = bound if isinstance(bound, PublishForm) else PublishForm(prefix=prefix)
    reject = bound if isinstance(bound, RejectForm) else RejectForm(prefix=prefix)
    return publish, reject


def _queue_context(request, bound=None, bound_pk=None):
    waiting = (
        ReplySubmission.objects.waiting()
        .select_related("commitment")
        .order_by("submitted_at", "id")
    )
    page = Paginator(waiting, QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(s, *_forms(s, bound if s.pk == bound_pk else None)) for s in page.object_list]
    recent = ReplyDecision.objects.select_related("submission__commitment", "decided_by").order_by(
        "-decided_at", "-id"
    )[:RECENT_DECISIONS]
    return {"rows": rows, "page": page, "recent": recent}


def _staff(view):
    return staff_required(permission_required(MODERATE)(view))


@require_safe
@_staff
def staff_replies(request: HttpRequest) -> HttpResponse:
    """The moderation queue: every waiting submission in full, oldest first (the e-mail
    address is for moderators only), and the latest decisions."""
    return render(request, "commitments/staff_replies.html", _queue_context(request))


def _submission(pk):
    return get_object_or_404(ReplySubmission.objects.select_related("commitment"), pk=pk)


def _decided_elsewhere(request, submission):
    messages.error(
        request,
        _("Nothing changed: the reply from %(organisation)s on %(reference)s was already decided.")
        % {"organisation": submission.organisation, "reference": submission.commitment.reference},
    )
    return redirect("staff_replies")


def _decide_from(request, submission, outcome, form):
    if hasattr(submission, "decision"):
        return _decided_elsewhere(request, submission)
    if not form.is_valid():
        context = _queue_context(request, bound=form, bound_pk=submission.pk)
        return render(request, "commitments/staff_replies.html", context, status=422)
    try:
        decide(submission, outcome, by=request.user, **form.cleaned_data)
    except AlreadyDecided:
        return _decided_elsewhere(request, submission)
    return None


@require_POST
@_staff
def staff_reply_publish(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(pk)
    form = PublishForm(request.POST, prefix=f"r{pk}")
    if refused := _decide_from(request, submission, ReplyOutcome.PUBLISHED, form):
        return refused
    messages.success(
        request,
        _("Published the reply from %(organisation)s on %(reference)s.")
        % {"organisation": submission.organisation, "reference": submission.commitment.reference},
    )
    return redirect("staff_replies")


@require_POST
@_staff
def staff_reply_reject(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(pk)
    form = RejectForm(request.POST, prefix=f"r{pk}")
    if refused := _decide_from(request, submission, ReplyOutcome.REJECTED, form):
        return refused
    messages.success(
        request,
        _("Rejected the reply from %(organisation)s on %(reference)s; the sender is told why.")
        % {"organisation": submission.organisation, "reference": submission.commitment.reference},
    )
    return redirect("staff_replies")


@require_http_methods(["GET", "HEAD", "POST"])
@_staff
def staff_reply_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: decide to turn the submission into a follow-up, then (GET) the staff follow-up
    form for its commitment, pre-filled with its text as the public note, in the language it
    was written in, and its evidence link. The follow-up is recorded by that form, the usual
    way."""
    if not request.user.has_perm("commitments.add_followup"):
        raise PermissionDenied
    submission = _submission(pk)
    if request.method == "POST":
        if refused := _decide_from(request, submission, ReplyOutcome.FOLLOW_UP, forms.Form({})):
            return refused
        return redirect("staff_reply_follow_up", pk=submission.pk)
    decision = getattr(submission, "decision", None)
    if decision is None or decision.outcome != ReplyOutcome.FOLLOW_UP:
        raise Http404
    commitment = submission.commitment
    note = (
        "public_note"
        if submission.language == settings.LANGUAGE_CODE
        else (f"public_note_{submission.language}")
    )
    initial = {note: submission.text, "evidence_url": submission.evidence_url}
    commitment.latest = list(commitment.follow_ups.timeline().select_related("author")[:1])
    return render(
        request,
        "commitments/staff_reply_follow_up.html",
        {
            "submission": submission,
            "commitment": commitment,
            "form": FollowUpForm(commitment=commitment, initial=initial),
            "confirm": ConfirmForm(commitment=commitment),
            "staff_query": "",
            "stale_days": settings.REVIEW_STALE_DAYS,
            "open_follow_up": True,
        },
    )
