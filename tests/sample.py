"""Data that tries to break in, shared by tests/test_roles.py and tests/test_security.py:
every free-text field carries an HTML payload, internal notes carry the canary, and an
unpublished commitment is there to leak, and so are a follow-up waiting for a second review
(its public note carries PENDING_MARKER, which no public output may show before it is
confirmed) and one sent back. Replies sent from the public pages (the right of reply) are
there in every state: waiting, rejected and turned into a follow-up (their text,
the sender's name and e-mail address carry the canary), published (its text shows, marked
PUBLISHED_REPLY, but its sender's name and e-mail address carry the canary), and published on
the unpublished commitment (its text carries the unpublished marker)."""

import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation

from commitments.models import (
    Article,
    Commitment,
    Delegation,
    FollowUp,
    Meeting,
    ReplyOutcome,
    ReplySubmission,
    State,
    Statement,
    Status,
    Theme,
    TreatyEvent,
)
from commitments.records import propose_follow_up, record_follow_up, send_back
from commitments.replies import decide

from .conftest import CANARY
from .factories import UserFactory

PAYLOAD = "\"'><q7 onmouseover=alert(1)>"
RAW_MARKER = "<q7"  # appears in a response only if a payload was not escaped
ESCAPED_MARKER = "&lt;q7"
# In a pending proposal's public texts, every language: public only once a second editor confirms.
PENDING_MARKER = "PENDING-PUBLIC-NOTE-3c9d"
PUBLISHED_REPLY = "PUBLISHED-REPLY-3d9e"  # the text of the one reply the public may read


def payload(max_length=None):
    return PAYLOAD[:max_length] if max_length else PAYLOAD


@dataclass
class Sample:
    staff: object
    member: object
    statement: Statement
    commitment: Commitment
    unpublished: Commitment
    follow_up: FollowUp
    objects: dict = field(default_factory=dict)

    def pk_for(self, app, model):
        return self.objects[f"{app}.{model}"].pk


def text_fields(model, skip=()):
    """Every free-text field of a model, with a payload that fits it."""
    values = {}
    for f in model._meta.get_fields():
        if getattr(f, "choices", None) or f.name in skip:
            continue
        if f.get_internal_type() in {"CharField", "TextField"}:
            values[f.name] = payload(f.max_length)
    return values


def make_sample():
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    staff = UserFactory(is_staff=True, is_superuser=True)
    member = UserFactory(is_staff=False)
    owner = UserFactory(is_staff=True, first_name=payload(150), last_name=payload(150))
    theme = Theme.objects.create(slug="theme-x", position=1, **text_fields(Theme, {"slug"}))
    article = Article.objects.create(number=99, title=payload())
    quote = f"We will {PAYLOAD} ratify."
    # An organisation: its name is typed by staff, in each language (a state's is not).
    delegation = Delegation.objects.create(
        kind=Delegation.Kind.ORGANISATION, code="XSS", **text_fields(Delegation, {"code"})
    )
    statement = Statement.objects.create(
        slug="statement-x",
        delegation=delegation,
        date=datetime.date(2012, 4, 16),
        source_url="https://example.org/?q=%22%3E%3Cq7%3E",
        **{
            **text_fields(Statement, {"slug", "source_url"}),
            "text": f"Intro {PAYLOAD}.\n\n{quote}\n\nThank you.",
        },
    )
    commitment = Commitment.objects.create(
        statement=statement,
        theme=theme,
        reference="XSS-2012-01",
        owner=owner,
        **{**text_fields(Commitment, {"reference"}), "quote": quote},
    )
    commitment.articles.add(article)
    unpublished = Commitment.objects.create(
        statement=statement,
        theme=theme,
        reference="XSS-2012-02",
        title="UNPUBLISHED-TITLE-5b1e",
        quote=quote,
        published=False,
    )
    follow_up = record_follow_up(
        commitment,
        status=Status.IN_PROGRESS,
        by=owner,
        happened_on=datetime.date(2013, 1, 2),
        public_note=payload(),
        internal_note=f"{CANARY} {PAYLOAD}",
        evidence_url="https://example.org/",
        evidence_label=payload(200),
    )
    record_follow_up(unpublished, status=Status.IN_PROGRESS, by=owner, public_note=CANARY)
    # Waiting for a second review: nothing public may show it (tests/test_roles.py).
    pending = propose_follow_up(
        commitment,
        status=Status.ACHIEVED,
        by=owner,
        happened_on=datetime.date(2013, 2, 3),
        public_note=f"{PENDING_MARKER} {PAYLOAD}",
        internal_note=f"{CANARY} {PAYLOAD}",
        evidence_url="https://example.org/pending",
        evidence_label=f"{PENDING_MARKER} {payload(150)}",
        versions={
            "public_note_fr": f"{PENDING_MARKER} fr",
            "public_note_es": f"{PENDING_MARKER} es",
        },
        states=[State.objects.get(country="NO")],
    )
    returned = propose_follow_up(
        commitment,
        status=Status.NOT_STARTED,
        by=owner,
        happened_on=datetime.date(2013, 2, 4),
        public_note=f"{PENDING_MARKER} sent back {PAYLOAD}",
        internal_note=CANARY,
    )
    review = send_back(returned, by=staff, note=f"{CANARY} {PAYLOAD}")

    def reply(on, outcome=None, text=f"{CANARY} {PAYLOAD}", **decision):
        submission = ReplySubmission.objects.create(
            commitment=on,
            name=f"{CANARY} {PAYLOAD}",
            organisation=payload(200),
            email=f"{CANARY}@example.org",
            writes_for_delegation=True,
            text=text,
            evidence_url="https://example.org/?q=%22%3E%3Cq7%3E",
            language="en",
        )
        if outcome:
            decide(submission, outcome, by=staff, **decision)
        return submission

    waiting_reply = reply(commitment)
    reply(commitment, ReplyOutcome.REJECTED, reason=f"{CANARY} {PAYLOAD}")
    reply(commitment, ReplyOutcome.FOLLOW_UP)
    published_reply = reply(
        commitment,
        ReplyOutcome.PUBLISHED,
        text=f"{PUBLISHED_REPLY} {PAYLOAD}",
        sender_verified=True,
    )
    reply(unpublished, ReplyOutcome.PUBLISHED, text="UNPUBLISHED-TITLE-5b1e reply")
    axes_fields = {
        "user_agent": payload(255),
        "ip_address": "10.0.0.1",
        "username": payload(255),
        "http_accept": payload(),
        "path_info": "/admin/login/",
    }
    group = Group.objects.create(name=payload(150))
    # A state without events (it may be deleted) and another state's sourced event.
    treaty_event = TreatyEvent.objects.create(
        state=State.objects.get(country="NO"),
        kind=TreatyEvent.Kind.RATIFICATION,
        date=datetime.date(2008, 12, 3),
        source_url="https://example.org/?q=%22%3E%3Cq7%3E",
        **text_fields(TreatyEvent, {"source_url"}),
    )
    # Closed after the statement: offered in the "as at" menus, where its name is shown.
    meeting = Meeting.objects.create(
        code="xss-msp",
        kind=Meeting.Kind.MEETING_OF_STATES_PARTIES,
        start=datetime.date(2013, 9, 9),
        end=datetime.date(2013, 9, 13),
        source_url="https://example.org/?q=%22%3E%3Cq7%3E",
        **text_fields(Meeting, {"code", "source_url"}),
    )
    return Sample(
        staff=staff,
        member=member,
        statement=statement,
        commitment=commitment,
        unpublished=unpublished,
        follow_up=follow_up,
        objects={
            "auth.user": member,
            "auth.group": group,
            "commitments.commitment": commitment,
            "commitments.statement": statement,
            "commitments.delegation": delegation,
            "commitments.theme": theme,
            "commitments.article": article,
            "commitments.followup": follow_up,
            "commitments.proposedfollowup": pending,
            "commitments.review": review,
            "commitments.state": State.objects.get(country="IS"),
            "commitments.treatyevent": treaty_event,
            "commitments.meeting": meeting,
            "commitments.replysubmission": published_reply,
            "waiting_reply": waiting_reply,
            "axes.accessattempt": AccessAttempt.objects.create(
                get_data="", post_data="", failures_since_start=1, **axes_fields
            ),
            "axes.accesslog": AccessLog.objects.create(**axes_fields),
            "axes.accessfailurelog": AccessFailureLog.objects.create(**axes_fields),
        },
    )


def state():
    """What a GET must never change: every row of every model, sessions aside. Read in one
    language: a translated field's bare name is the active language's version (each version's
    own column is in the row too)."""
    snapshot = {}
    with translation.override(settings.LANGUAGE_CODE):
        for model in apps.get_models():
            if model._meta.label == "sessions.Session":
                continue
            snapshot[model._meta.label] = list(model.objects.order_by("pk").values())
    return snapshot
