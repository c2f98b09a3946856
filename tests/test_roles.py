"""Who gets what: every URL pattern x every role x GET, POST and the forms that write.

## The table (read this before adding a URL)

`test_every_url_pattern_has_an_entry` walks the whole URLconf (admin included) and fails,
naming the pattern, when a URL pattern has no entry in URL_TABLE. To add one, append a
`Route` to URL_TABLE:

    Route("exports/commitments.csv", PUBLIC, public=True),

- the first argument is the pattern text exactly as the resolver shows it (the failure
  message prints it), e.g. "commitments/<slug:reference>/"; with `regex=True` it is a regular
  expression matched against the whole text instead (the admin is grouped that way). Entries
  are tried in order and the first match wins, so put specific entries before general ones;
- the second says what each role gets for a GET and for an empty POST (sent with the CSRF
  token). Answer sets are rows of `by_role("GET/POST GET/POST ...")`, one cell per role in
  ROLES order: a status code, L (302 to the admin login) or R (302 elsewhere). The ready-made
  sets below cover most views (PUBLIC, STAFF_PAGE, READ, ADMINISTER...);
- `posts=` adds real forms: {Body: by_role("...")}, one answer per role, where S means
  "302 elsewhere, and written". The Body says what it sends and how to see that it wrote;
  every role not answered S must leave the database as it was;
- `queries=` adds query strings to GET with the same answers;
- `public=True` also checks that anonymous GETs set no cookie and that the htmx variant
  leaks nothing;
- URL kwargs are filled from SAMPLE_KWARGS by name (reference, slug, ...); give
  `url=lambda s, m: "/path/"` for anything else (`s` is the Sample, `m` the regex match).

Whatever the entry, every response is also checked for the internal-note canary and
unpublished items (never shown to anyone but staff), for unescaped HTML payloads in HTML and
XML answers (never, for anyone; CSV and JSON carry the raw text), for `no-store` on every
answer to a signed-in user, for `Cache-Control: public` on no answer that sets a cookie, answers
a signed-in user or a POST, and, for GET, for unchanged database state. The sample
(tests/sample.py) and the signed-in users are built once for the module; every request runs
in a savepoint that is rolled back, so no answer depends on another.
"""

import copy
import datetime
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern, RoutePattern
from django.utils import translation

from commitments.models import (
    Commitment,
    FollowUp,
    ReplyDecision,
    ReplyOutcome,
    ReplySubmission,
    Review,
    StaffPreference,
    Status,
    Theme,
)
from commitments.replies import start_timer

from .conftest import CANARY, member_of
from .factories import CommitmentFactory, UserFactory
from .sample import PENDING_MARKER, RAW_MARKER, make_sample

ANONYMOUS, MEMBER, NO_ROLE = "anonymous", "signed-in non-staff", "staff without a role"
VIEWER, EDITOR, ADMINISTRATOR, SUPERUSER = "viewer", "editor", "administrator", "superuser"
ROLES = [ANONYMOUS, MEMBER, NO_ROLE, VIEWER, EDITOR, ADMINISTRATOR, SUPERUSER]
LOGIN = "302 to the login page"
REDIRECT = "302 elsewhere"
SAVED = "302 elsewhere, written"
CODES = {"L": LOGIN, "R": REDIRECT, "S": SAVED}


def by_role(row):
    """'L/L 403/403 ...' -> {role: ("302 to the login page", 403)}, in ROLES order."""
    cells = row.split()
    assert len(cells) == len(ROLES), f"one cell per role in {ROLES}: {row!r}"
    return {
        role: tuple(CODES[a] if a in CODES else int(a) for a in cell.split("/"))
        for role, cell in zip(ROLES, cells, strict=True)
    }


# What each role gets, "GET/POST". Django's admin sends anyone who is not staff to its login.
# fmt: off
#                   anonymous  member   no role  viewer   editor   admin.   superuser
PUBLIC     = by_role("200/405  200/405  200/405  200/405  200/405  200/405  200/405")
STAFF_PAGE = by_role("L/405    403/405  403/405  200/405  200/405  200/405  200/405")
# An empty POST is invalid: 422 with the form's errors, for the roles that may record.
STAFF_POST = by_role("405/L    405/403  405/403  405/403  405/422  405/422  405/422")
ANY_STAFF  = by_role("L/L      L/L      200/200  200/200  200/200  200/200  200/200")
STAFF_GET  = by_role("L/L      L/L      200/405  200/405  200/405  200/405  200/405")
# The old-style object address redirects to its change page.
ADMIN_REDIRECT = by_role("L/L  L/L      R/R      R/R      R/R      R/R      R/R")
NOBODY     = by_role("L/L      L/L      403/403  403/403  403/403  403/403  403/403")
# Lists and histories; an empty POST to a list (no action) shows the list again.
READ       = by_role("L/L      L/L      403/403  200/200  200/200  200/200  200/200")
READ_ONLY  = by_role("L/L      L/L      403/403  200/403  200/403  200/403  200/403")
# Commitments are edited by editors; their statement, themes, articles and the Convention's
# meetings by administrators.
EDIT_COMMITMENT = by_role("L/L L/L      403/403  200/403  200/200  200/200  200/200")
EDIT       = by_role("L/L      L/L      403/403  200/403  200/403  200/200  200/200")
ADMINISTER = by_role("L/L      L/L      403/403  403/403  403/403  200/200  200/200")
SUPERUSER_ONLY = by_role("L/L  L/L      403/403  403/403  403/403  403/403  200/200")
# Replies sent by the public hold the sender's personal data: editors and administrators
# moderate them, viewers do not see them (README, roles).
MODERATE   = by_role("L/L      L/L      403/403  403/403  200/200  200/200  200/200")
MODERATE_READ_ONLY = by_role("L/L L/L   403/403  403/403  200/403  200/403  200/403")
# fmt: on


@dataclass(frozen=True)
class Body:
    """A valid form: what it sends (from the sample) and whether it was written."""

    name: str
    data: Callable
    wrote: Callable

    def __str__(self):
        return self.name


def follow_up_form(s):
    p = f"c{s.commitment.pk}"
    return {
        f"{p}-version": s.commitment.version,
        f"{p}-status": Status.IN_PROGRESS,
        f"{p}-happened_on": "2013-03-01",
        f"{p}-public_note": "Recorded by the role test",
    }


def commitment_form(s):
    c = s.commitment
    data = {
        "statement": c.statement_id,
        "reference": c.reference,
        "title_en": "Edited by the role test",
        "quote": c.quote,
        "theme": c.theme_id,
        "kind": c.kind,
        "articles": [a.pk for a in c.articles.all()],
        "weight": c.weight,
        "owner": "",
        "next_review": "",
        "published": "on",
        "based_on_version": c.version,
    }
    for prefix in ("follow_ups", "follow_ups-2"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def bulk_follow_up_form(s):
    pk = s.commitment.pk
    return {
        "action": "bulk_follow_up",
        "_selected_action": [pk],
        "apply": "1",
        f"version-{pk}": s.commitment.version,
        "status": Status.IN_PROGRESS,
        "happened_on": "2013-03-02",
    }


def confirm_form(s):
    p = f"k{s.commitment.pk}"
    return {f"{p}-version": s.commitment.version, f"{p}-public_note": "Confirmed by the role test"}


def deletable(s):
    return Commitment.objects.get(reference="DEL-2012-01")  # no follow-ups: nothing protects it


FOLLOW_UP = Body(
    "a follow-up",
    follow_up_form,
    lambda s: FollowUp.objects.filter(public_note="Recorded by the role test").exists(),
)
CONFIRM = Body(
    "a confirmation, no change",
    confirm_form,
    lambda s: FollowUp.objects.filter(public_note="Confirmed by the role test").exists(),
)
LANGUAGE = Body(
    "a language for the staff pages",
    lambda s: {"language": "fr"},
    lambda s: StaffPreference.objects.filter(language="fr").exists(),
)
TRANSLATION = Body(
    "a follow-up's French version",
    lambda s: {f"t{s.follow_up.pk}-fr-public_note": "Traduit par le test des rôles"},
    lambda s: FollowUp.objects.filter(public_note_fr="Traduit par le test des rôles").exists(),
)
REVIEW_CONFIRM = Body(
    "a second review's confirmation",
    lambda s: {},
    lambda s: FollowUp.objects.filter(proposal=s.objects["commitments.proposedfollowup"]).exists(),
)
WITHDRAW = Body(
    "a proposed follow-up withdrawn by its author",
    lambda s: {},
    lambda s: Review.objects.filter(decision="withdrawn").exists(),
)
SEND_BACK = Body(
    "a second review sending a follow-up back",
    lambda s: {f"p{s.pk_for('commitments', 'proposedfollowup')}-note": "Sent back by the test"},
    lambda s: Review.objects.filter(note="Sent back by the test").exists(),
)
COMMITMENT_EDIT = Body(
    "a commitment edit",
    commitment_form,
    lambda s: Commitment.objects.filter(title="Edited by the role test").exists(),
)
BULK_FOLLOW_UP = Body(
    "the bulk follow-up action",
    bulk_follow_up_form,
    lambda s: FollowUp.objects.filter(happened_on=datetime.date(2013, 3, 2)).exists(),
)
DELETE_SELECTED = Body(
    "the delete-selected action",
    lambda s: {"action": "delete_selected", "_selected_action": [deletable(s).pk], "post": "yes"},
    lambda s: not Commitment.objects.filter(reference="DEL-2012-01").exists(),
)
THEME_EDIT = Body(
    "a theme edit",
    lambda s: {"name_en": "Renamed", "slug": s.objects["commitments.theme"].slug, "position": 0},
    lambda s: Theme.objects.filter(name="Renamed").exists(),
)

REPLY = Body(
    "a reply from the public",
    lambda s: {
        "name": "Role Test",
        "organisation": "Role test organisation",
        "email": "role-test@example.org",
        "text": "Sent by the role test",
        "started": start_timer(time.time() - 60),  # a minute to fill it in: a person's pace
    },
    lambda s: ReplySubmission.objects.filter(text="Sent by the role test").exists(),
)
PUBLISH_REPLY = Body(
    "publishing a reply, sender verified",
    lambda s: {f"r{s.objects['waiting_reply'].pk}-sender_verified": "on"},
    lambda s: ReplyDecision.objects.filter(
        submission=s.objects["waiting_reply"], outcome=ReplyOutcome.PUBLISHED, sender_verified=True
    ).exists(),
)
REJECT_REPLY = Body(
    "rejecting a reply with a reason",
    lambda s: {f"r{s.objects['waiting_reply'].pk}-reason": "Rejected by the role test"},
    lambda s: ReplyDecision.objects.filter(reason="Rejected by the role test").exists(),
)
REPLY_TO_FOLLOW_UP = Body(
    "turning a reply into a follow-up",
    lambda s: {},
    lambda s: ReplyDecision.objects.filter(
        submission=s.objects["waiting_reply"], outcome=ReplyOutcome.FOLLOW_UP
    ).exists(),
)


def waiting_reply_url(suffix):
    return lambda s, m: f"/staff/replies/{s.objects['waiting_reply'].pk}/{suffix}/"


@dataclass(frozen=True)
class Route:
    pattern: str
    expect: dict
    regex: bool = False
    url: Callable | None = None
    public: bool = False
    posts: dict = field(default_factory=dict)
    queries: tuple = ()

    def matches(self, text):
        if self.regex:
            return re.fullmatch(self.pattern, text)
        return re.fullmatch(re.escape(self.pattern), text)


def report_url(s, name="meeting_report"):
    """The report of the sample's closed meeting, whose texts are payloads (the report must
    escape them). Made with the sample, not here: a URL is worked out after the sample's
    snapshot, which nothing may change."""
    return reverse(name, args=[s.objects["commitments.meeting"].code])


def admin_object(s, m, suffix):
    return f"/admin/{m['app']}/{m['model']}/{s.pk_for(m['app'], m['model'])}/{suffix}"


def past_version(s, m):
    model = apps.get_model(m["app"], m["model"])
    return model.history.filter(id=s.pk_for(m["app"], m["model"])).first().history_id


def admin_views(models, changelist, add, history, delete, change):
    """The standard admin views of the models matched by the regex `models` (None: a view
    that has an entry of its own)."""
    routes = [
        Route(models, changelist, regex=True, url=lambda s, m: f"/{m[0]}"),
        Route(models + "add/", add, regex=True, url=lambda s, m: f"/{m[0]}"),
        Route(
            models + "<path:object_id>/history/",
            history,
            regex=True,
            url=lambda s, m: admin_object(s, m, "history/"),
        ),
        # An empty POST does not confirm a deletion: the confirmation page is shown again.
        Route(
            models + "<path:object_id>/delete/",
            delete,
            regex=True,
            url=lambda s, m: admin_object(s, m, "delete/"),
        ),
        Route(
            models + "<path:object_id>/change/",
            change,
            regex=True,
            url=lambda s, m: admin_object(s, m, "change/"),
        ),
    ]
    return [route for route in routes if route.expect is not None]


AUTH_MODELS = r"admin/(?P<app>auth)/(?P<model>user|group)/"
AXES_ATTEMPTS = r"admin/(?P<app>axes)/(?P<model>accessattempt)/"
AXES_LOGS = r"admin/(?P<app>axes)/(?P<model>accessfailurelog|accesslog)/"
FOLLOW_UPS = r"admin/(?P<app>commitments)/(?P<model>followup|proposedfollowup|review)/"
OTHER_MODELS = r"admin/(?P<app>commitments)/(?P<model>statement|theme|article|delegation|meeting)/"
IMPORT_EXPORT = r"admin/(?P<app>commitments)/(?P<model>commitment|statement)/"
AUDITED = r"admin/(?P<app>commitments)/(?P<model>commitment|statement|theme|delegation|meeting)/"
COMMITMENT = "/admin/commitments/commitment/"
STATES = r"admin/(?P<app>commitments)/(?P<model>state)/"
TREATY_EVENTS = r"admin/(?P<app>commitments)/(?P<model>treatyevent)/"
REPLIES = r"admin/(?P<app>commitments)/(?P<model>replysubmission)/"

URL_TABLE = [
    # Probes for load balancers.
    Route("healthz", PUBLIC, public=True),
    Route("readyz", PUBLIC, public=True),
    # Public pages, once per language (English unprefixed, /fr/, /es/), and their Atom feeds.
    Route("<lang>/", PUBLIC, public=True),
    Route("<lang>/commitments/<slug:reference>/", PUBLIC, public=True),
    Route("<lang>/commitments/<slug:reference>/feed/", PUBLIC, public=True),
    Route("<lang>/statements/", PUBLIC, public=True),
    Route("<lang>/statements/<slug:slug>/", PUBLIC, public=True),
    Route("<lang>/feed/", PUBLIC, public=True),
    # Issue 14: the states' map and table, and a state's page (any state: Norway).
    Route("<lang>/states/", PUBLIC, public=True),
    Route(
        "<lang>/states/<str:code>/",
        PUBLIC,
        url=lambda s, m: reverse("state_detail", args=["NO"]),
        public=True,
    ),
    # Issue 14: the meeting reports, and a report's PDF (public, like the page it prints).
    Route("<lang>/reports/", PUBLIC, public=True),
    Route("<lang>/reports/<slug:meeting>/", PUBLIC, url=lambda s, m: report_url(s), public=True),
    Route(
        "<lang>/reports/<slug:meeting>/report.pdf",
        PUBLIC,
        url=lambda s, m: report_url(s, "meeting_report_pdf"),
        public=True,
    ),
    # Issue 15: the right of reply. Its form sets the CSRF cookie, so it is not `public` (that
    # checks for no cookie) but private and never cached; an empty POST has no timer (400).
    Route(
        "<lang>/commitments/<slug:reference>/reply/",
        by_role("200/400 200/400 200/400 200/400 200/400 200/400 200/400"),
        posts={REPLY: by_role("S S S S S S S")},
    ),
    Route("<lang>/commitments/<slug:reference>/reply/sent/", PUBLIC),
    # Open data: one address whatever the language (re_path: /data/<name>.csv or .json).
    Route(
        r"\^data/(?P<name>commitments|follow-ups|replies)\\\.\(\?P<fmt>csv\|json\)\$",
        PUBLIC,
        regex=True,
        url=lambda s, m: f"/data/{m['name']}.csv",
        public=True,
    ),
    # Staff pages: viewers read, editors record.
    Route("staff/", STAFF_PAGE, queries=("?show=all&theme=theme-x",)),
    Route(
        "staff/commitments/<slug:reference>/follow-ups/",
        STAFF_POST,
        posts={FOLLOW_UP: by_role("L 403 403 403 S S S")},
    ),
    # Issue 11: confirm the current verdict, no change (same roles as a follow-up).
    Route(
        "staff/commitments/<slug:reference>/confirm/",
        STAFF_POST,
        posts={CONFIRM: by_role("L 403 403 403 S S S")},
    ),
    # Issue 15: the second review. Every role reads the queue; editors and administrators
    # confirm another's follow-up or send it back with a note (an empty POST: 422, no note).
    # The sample's pending proposal is the owner's, so every role here is another editor.
    Route("staff/review/", STAFF_PAGE),
    Route(
        "staff/review/<int:pk>/confirm/",
        by_role("405/L 405/403 405/403 405/403 405/R 405/R 405/R"),
        url=lambda s, m: f"/staff/review/{s.pk_for('commitments', 'proposedfollowup')}/confirm/",
        posts={REVIEW_CONFIRM: by_role("L 403 403 403 S S S")},
    ),
    # Only its author withdraws a proposal (the sample's owner, none of the roles here: 403
    # for every staff role; tests/test_second_review.py shows the author doing it).
    Route(
        "staff/review/<int:pk>/withdraw/",
        by_role("405/L 405/403 405/403 405/403 405/403 405/403 405/403"),
        url=lambda s, m: f"/staff/review/{s.pk_for('commitments', 'proposedfollowup')}/withdraw/",
        posts={WITHDRAW: by_role("L 403 403 403 403 403 403")},
    ),
    Route(
        "staff/review/<int:pk>/send-back/",
        STAFF_POST,
        url=lambda s, m: f"/staff/review/{s.pk_for('commitments', 'proposedfollowup')}/send-back/",
        posts={SEND_BACK: by_role("L 403 403 403 S S S")},
    ),
    # Issue 15: the moderation queue of replies and its three decisions (a reply waiting in
    # the sample): publish (an empty POST publishes it, unverified), reject (a reason is
    # required: 422), turn into a follow-up (then GET opens the follow-up form, pre-filled:
    # 404 while it waits). Editors and administrators only.
    Route("staff/replies/", by_role("L/405 403/405 403/405 403/405 200/405 200/405 200/405")),
    Route(
        "staff/replies/<int:pk>/publish/",
        by_role("405/L 405/403 405/403 405/403 405/R 405/R 405/R"),
        url=waiting_reply_url("publish"),
        posts={PUBLISH_REPLY: by_role("L 403 403 403 S S S")},
    ),
    Route(
        "staff/replies/<int:pk>/reject/",
        STAFF_POST,
        url=waiting_reply_url("reject"),
        posts={REJECT_REPLY: by_role("L 403 403 403 S S S")},
    ),
    Route(
        "staff/replies/<int:pk>/follow-up/",
        by_role("L/L 403/403 403/403 403/403 404/R 404/R 404/R"),
        url=waiting_reply_url("follow-up"),
        posts={REPLY_TO_FOLLOW_UP: by_role("L 403 403 403 S S S")},
    ),
    # Issue 13: each staff member's language, roles or none; an empty POST is refused.
    Route(
        "staff/language/",
        by_role("L/L 403/403 200/422 200/422 200/422 200/422 200/422"),
        posts={LANGUAGE: by_role("L 403 S S S S S")},
    ),
    # Issue 13: what lacks a French or Spanish version; editors give a follow-up's.
    Route("staff/translations/", STAFF_PAGE, queries=("?language=es",)),
    Route(
        "staff/follow-ups/<int:pk>/translation/<str:language>/",
        STAFF_POST,
        url=lambda s, m: f"/staff/follow-ups/{s.follow_up.pk}/translation/fr/",
        posts={TRANSLATION: by_role("L 403 403 403 S S S")},
    ),
    # The admin's own pages.
    Route("admin/", ANY_STAFF),
    # Staff are sent on to the admin; an empty POST re-shows the form with its errors.
    Route("admin/login/", by_role("200/200 200/200 R/200 R/200 R/200 R/200 R/200")),
    # Logging out is a POST (a GET cannot log anyone out); the admin sends non-staff to its index.
    Route("admin/logout/", by_role("R/R R/R 405/200 405/200 405/200 405/200 405/200")),
    Route("admin/password_change/", ANY_STAFF),
    Route("admin/password_change/done/", STAFF_GET),
    # Refused without its query parameters.
    Route("admin/autocomplete/", by_role("L/L L/L 403/405 403/405 403/405 403/405 403/405")),
    Route("admin/jsi18n/", STAFF_GET),
    Route(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        ADMIN_REDIRECT,
        url=lambda s, m: (
            f"/admin/r/{ContentType.objects.get_for_model(Commitment).pk}/{s.commitment.pk}/"
        ),
    ),
    # An app's index is a 404 to staff who may see none of its models.
    Route(
        # The app labels in the order their admins were registered (commitments/admin.py
        # registers the user and group admins again, after axes).
        r"admin/\^\(\?P<app_label>[a-z|]+\)/\$",
        regex=True,
        expect=by_role("L/L L/L 404/404 200/200 200/200 200/200 200/200"),
        url=lambda s, m: "/admin/commitments/",
    ),
    Route(
        "admin/(?P<url>.*)$",
        by_role("L/L L/L 404/404 404/404 404/404 404/404 404/404"),
        url=lambda s, m: "/admin/no-such-page/",
    ),
    # Accounts and roles are the administrators'.
    Route(
        "admin/auth/user/<id>/password/",
        ADMINISTER,
        url=lambda s, m: f"/admin/auth/user/{s.member.pk}/password/",
    ),
    *admin_views(AUTH_MODELS, ADMINISTER, ADMINISTER, ADMINISTER, ADMINISTER, ADMINISTER),
    # django-axes' records of logins: administrators read them and delete an attempt (to lift
    # a lockout), nobody adds them; every field is read-only, so saving the change form changes
    # nothing and goes back to the list (an administrator may only read it).
    *admin_views(
        AXES_ATTEMPTS,
        ADMINISTER,
        NOBODY,
        ADMINISTER,
        ADMINISTER,
        by_role("L/L L/L 403/403 403/403 403/403 200/403 200/R"),
    ),
    *admin_views(
        AXES_LOGS,
        ADMINISTER,
        NOBODY,
        ADMINISTER,
        SUPERUSER_ONLY,
        by_role("L/L L/L 403/403 403/403 403/403 200/403 200/R"),
    ),
    # Follow-ups, and those proposed for a second review and the reviews (issue 15), are
    # history: readable in the admin, never added, changed or deleted there.
    *admin_views(FOLLOW_UPS, READ, NOBODY, READ, NOBODY, READ_ONLY),
    # Issue 5: candidate commitments in a statement's text (an empty POST has no formset).
    Route(
        "admin/commitments/statement/<int:pk>/propose/",
        by_role("L/L L/L 403/403 403/403 403/403 200/422 200/422"),
        url=lambda s, m: f"/admin/commitments/statement/{s.statement.pk}/propose/",
    ),
    # CSV import (administrators) and export (every role): an empty POST re-shows its form.
    Route(IMPORT_EXPORT + "import/", ADMINISTER, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(
        IMPORT_EXPORT + "process_import/",
        by_role("L/L L/L 405/403 405/403 405/403 405/200 405/200"),
        regex=True,
        url=lambda s, m: f"/{m[0]}",
    ),
    Route(IMPORT_EXPORT + "export/", READ, regex=True, url=lambda s, m: f"/{m[0]}"),
    # One past version from the change history, to read; reverting (POST) is refused.
    Route(
        AUDITED + re.escape("^([^/]+)/history/([^/]+)/$"),
        READ_ONLY,
        regex=True,
        url=lambda s, m: admin_object(s, m, f"history/{past_version(s, m)}/"),
    ),
    # Commitments: editors edit them and run the bulk follow-up; administrators add and delete.
    Route(
        "admin/commitments/commitment/",
        READ,
        url=lambda s, m: COMMITMENT,
        posts={
            # The admin drops actions a user may not run: "No action selected", nothing written.
            BULK_FOLLOW_UP: by_role("L L 403 200 S S S"),
            DELETE_SELECTED: by_role("L L 403 200 R S S"),
        },
    ),
    Route(
        "admin/commitments/commitment/<path:object_id>/change/",
        EDIT_COMMITMENT,
        url=lambda s, m: f"{COMMITMENT}{s.commitment.pk}/change/",
        posts={COMMITMENT_EDIT: by_role("L L 403 403 S S S")},
    ),
    # Issue 11: "Confirm, no change" from a commitment's change page, for roles that record.
    Route(
        "admin/commitments/commitment/<path:object_id>/confirm/",
        by_role("L/L L/L 403/403 403/403 200/422 200/422 200/422"),
        url=lambda s, m: f"{COMMITMENT}{s.commitment.pk}/confirm/",
        posts={CONFIRM: by_role("L L 403 403 S S S")},
    ),
    *admin_views(
        r"admin/(?P<app>commitments)/(?P<model>commitment)/",
        None,  # the list and the change page have entries of their own, above
        ADMINISTER,
        READ,
        ADMINISTER,
        None,
    ),
    Route(
        "admin/commitments/theme/<path:object_id>/change/",
        EDIT,
        url=lambda s, m: f"/admin/commitments/theme/{s.objects['commitments.theme'].pk}/change/",
        posts={THEME_EDIT: by_role("L L 403 403 403 S S")},
    ),
    *admin_views(OTHER_MODELS, READ, ADMINISTER, READ, ADMINISTER, EDIT),
    # Issue 14: states (reference data: administrators keep a state's region; nobody adds or
    # deletes one but a superuser) and their treaty events (append-only: recorded by editors
    # and administrators, never changed or deleted; a recorded one is read), and the import of
    # the depositary's table (an empty POST re-shows its form).
    Route(
        "admin/commitments/treatyevent/import-depositary/",
        by_role("L/L L/L 403/403 403/403 200/422 200/422 200/422"),
    ),
    *admin_views(STATES, READ, SUPERUSER_ONLY, READ, SUPERUSER_ONLY, EDIT),
    *admin_views(
        TREATY_EVENTS,
        READ,
        by_role("L/L L/L 403/403 403/403 200/200 200/200 200/200"),
        READ,
        NOBODY,
        READ_ONLY,
    ),
    # Issue 15: replies from the public, as sent, with their decision: read by moderators.
    *admin_views(REPLIES, MODERATE, NOBODY, MODERATE, NOBODY, MODERATE_READ_ONLY),
    # Every admin model: the old-style object address redirects to its change page.
    Route(
        r"admin/(?P<app>\w+)/(?P<model>\w+)/<path:object_id>/",
        ADMIN_REDIRECT,
        regex=True,
        url=lambda s, m: admin_object(s, m, ""),
    ),
]

# Values for URL kwargs, by name, for routes built with reverse().
SAMPLE_KWARGS = {
    "reference": lambda s: s.commitment.reference,
    "slug": lambda s: s.statement.slug,
}


# --- Walking the URLconf ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    text: str
    name: str | None
    converters: tuple = ()
    language: str | None = None

    def __str__(self):
        name = f" (name={self.name!r})" if self.name else ""
        lang = f" [{self.language}]" if self.language else ""
        return f"{self.text!r}{name}{lang}"


def walk(patterns, prefix="", namespace=None, converters=(), language=None):
    from django.conf import settings

    for entry in patterns:
        if isinstance(entry, URLResolver) and isinstance(entry.pattern, LocalePrefixPattern):
            # i18n_patterns(): the same URLs once per language, written "<lang>/..." here.
            for code, _name in settings.LANGUAGES:
                yield from walk(entry.url_patterns, prefix + "<lang>/", namespace, converters, code)
            continue
        keys = tuple(entry.pattern.converters) if isinstance(entry.pattern, RoutePattern) else ()
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(
                entry.url_patterns,
                prefix + str(entry.pattern),
                inner,
                converters + keys,
                language,
            )
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield Pattern(prefix + str(entry.pattern), name, converters + keys, language)


ALL_PATTERNS = list(walk(get_resolver().url_patterns))


def route_for(pattern):
    for route in URL_TABLE:
        match = route.matches(pattern.text)
        if match:
            return route, match
    return None, None


def build_url(pattern, route, match, sample):
    with translation.override(pattern.language):
        if route.url:
            return route.url(sample, match)
        missing = [key for key in pattern.converters if key not in SAMPLE_KWARGS]
        assert not missing, f"Add SAMPLE_KWARGS for {missing} or a url= to the entry {pattern}"
        kwargs = {key: SAMPLE_KWARGS[key](sample) for key in pattern.converters}
        return reverse(pattern.name, kwargs=kwargs)


def test_every_url_pattern_has_an_entry():
    missing = [str(p) for p in ALL_PATTERNS if route_for(p)[0] is None]
    assert not missing, (
        "These URL patterns have no entry in URL_TABLE in tests/test_roles.py; add a "
        "Route(...) for each, saying what each role gets:\n  " + "\n  ".join(missing)
    )


def test_every_entry_in_the_table_matches_a_url():
    used = {id(route_for(p)[0]) for p in ALL_PATTERNS}
    stale = [route.pattern for route in URL_TABLE if id(route) not in used]
    assert not stale, f"URL_TABLE entries that match no URL pattern any more: {stale}"


def test_the_table_covers_every_role_and_method():
    for route in URL_TABLE:
        assert set(route.expect) == set(ROLES), route.pattern
        assert all(len(answers) == 2 for answers in route.expect.values()), route.pattern
        for body, answers in route.posts.items():
            assert set(answers) == set(ROLES), (route.pattern, body)
            assert all(len(answer) == 1 for answer in answers.values()), (route.pattern, body)


def test_the_walk_reaches_nested_admin_and_app_urls():
    texts = {p.text for p in ALL_PATTERNS}
    assert {
        "healthz",
        "staff/commitments/<slug:reference>/follow-ups/",
        "admin/commitments/followup/<path:object_id>/change/",
        "admin/auth/user/<id>/password/",
        "admin/(?P<url>.*)$",
    } <= texts


def test_role_groups_exist_after_migrations(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "viewers",
        "editors",
        "administrators",
    }


# --- Asking every URL as every role -----------------------------------------------------------


@pytest.fixture(scope="module")
def signed_in(django_db_setup, django_db_blocker):
    """The sample and a session per role, built once for the module and rolled back after."""
    md5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a fast hasher for 7 users
    # Never a shared cache (CACHE_URL): sessions in it would outlive the rollback.
    local_cache = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with (
        django_db_blocker.unblock(),
        # The reply form's rate per address has tests of its own; here every role posts.
        override_settings(PASSWORD_HASHERS=md5, CACHES=local_cache, REPLY_RATE_PER_MINUTE=10**6),
        transaction.atomic(),
    ):
        sample = make_sample()
        CommitmentFactory(
            reference="DEL-2012-01", statement=sample.statement, theme=sample.commitment.theme
        )
        users = {
            MEMBER: sample.member,
            NO_ROLE: UserFactory(is_staff=True),
            VIEWER: member_of("viewers"),
            EDITOR: member_of("editors"),
            ADMINISTRATOR: member_of("administrators"),
            SUPERUSER: sample.staff,
        }
        cookies = {ANONYMOUS: Client().cookies}
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            cookies[role] = client.cookies
        yield sample, cookies
        transaction.set_rollback(True)


def writes(query):
    """Whether a query changes a row (a session aside: signing in is not a GET's doing)."""
    sql = query["sql"].lstrip().upper()
    return sql.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")) and "DJANGO_SESSION" not in sql


def is_markup(response):
    """HTML and XML (pages, fragments, Atom feeds) must escape; CSV and JSON carry raw text."""
    content_type = response.get("Content-Type", "text/html")
    return content_type.startswith("text/html") or "xml" in content_type


def answer_matches(expected, response):
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith("/admin/login/")
    if expected in {REDIRECT, SAVED}:
        return response.status_code in {301, 302} and not response["Location"].startswith(
            "/admin/login/"
        )
    return response.status_code == expected


def describe(response):
    where = f" -> {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{where}"


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=str)
@pytest.mark.django_db
def test_url_answers_each_role_and_method_as_the_table_says(pattern, signed_in):
    sample, cookies = signed_in
    route, match = route_for(pattern)
    assert route is not None, f"No URL_TABLE entry for {pattern}: add one (see the docstring)."
    url = build_url(pattern, route, match, sample)
    problems = []
    for role in ROLES:
        asked = [("GET", url + q, None, route.expect[role][0]) for q in ("", *route.queries)]
        asked.append(("POST", url, None, route.expect[role][1]))
        asked += [("POST", url, body, answers[role][0]) for body, answers in route.posts.items()]
        for method, target, body, expected in asked:
            client = Client()
            client.cookies = copy.deepcopy(cookies[role])  # a logout must not outlive its request
            case = f"{method} {target}{f' with {body}' if body else ''} as {role}"
            with transaction.atomic():  # every request starts from the same sample
                data = body.data(sample) if body else {}
                with CaptureQueriesContext(connection) as queries:
                    response = getattr(client, method.lower())(target, data)
                    # A streamed export reads the rest of its rows now: on PostgreSQL its
                    # cursor lives in this savepoint, gone once it is rolled back.
                    text = response.getvalue().decode(errors="replace")
                wrote = body.wrote(sample) if body else None
                transaction.set_rollback(True)
            changed = method == "GET" and any(map(writes, queries.captured_queries))
            if not answer_matches(expected, response):
                problems.append(f"{case}: expected {expected}, got {describe(response)}")
            if body and wrote != (expected == SAVED):
                problems.append(f"{case}: {'wrote' if wrote else 'did not write'}")
            if RAW_MARKER in text and is_markup(response):
                problems.append(f"{case}: an HTML payload is shown unescaped")
            if role in {ANONYMOUS, MEMBER, NO_ROLE} and (
                CANARY in text or "UNPUBLISHED-TITLE" in text
            ):
                problems.append(f"{case}: an internal note or unpublished item leaked")
            # A follow-up waiting for a second review is staff-only, whoever reads a public
            # page, export or feed.
            if PENDING_MARKER in text and (route.public or role in {ANONYMOUS, MEMBER, NO_ROLE}):
                problems.append(f"{case}: a follow-up waiting for a second review leaked")
            if route.public and (CANARY in text or "UNPUBLISHED-TITLE" in text):
                # A public page, feed or export is the same for everyone: staff's included.
                problems.append(f"{case}: a public answer leaked something unpublished")
            if changed:
                problems.append(f"{case}: a GET changed the database")
            if role != ANONYMOUS and "no-store" not in response.get("Cache-Control", ""):
                problems.append(f"{case}: an answer to a signed-in user without no-store")
            # Any cache may keep a public answer for anyone (ccmtracker/httpcache.py): never
            # one that sets a cookie, answers a signed-in user or a POST.
            if "public" in response.get("Cache-Control", "") and (
                response.cookies or role != ANONYMOUS or method != "GET"
            ):
                problems.append(f"{case}: marked public ({response['Cache-Control']})")
            if route.public and role == ANONYMOUS and method == "GET":
                if response.cookies:
                    problems.append(f"{case}: a public page set cookies {list(response.cookies)}")
                htmx = client.get(target, headers={"HX-Request": "true"})
                fragment = htmx.getvalue().decode(errors="replace")
                if CANARY in fragment or PENDING_MARKER in fragment or htmx.cookies:
                    problems.append(f"{case} (htmx): leaked the canary or set a cookie")
    assert not problems, "\n".join(problems)


# Accounts: nobody but a superuser grants superuser status or rights they lack


def user_change_data(user, **changes):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "groups": [g.pk for g in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_an_administrator_cannot_make_themself_superuser(client, administrator):
    client.force_login(administrator)
    url = f"/admin/auth/user/{administrator.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    response = client.post(url, user_change_data(administrator, is_superuser="on"))
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert not administrator.user_permissions.exists()


def test_an_administrator_cannot_change_or_delete_a_superuser(client, administrator):
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(administrator)
    response = client.post(
        f"/admin/auth/user/{boss.pk}/change/", user_change_data(boss, is_staff="")
    )
    assert response.status_code == 403
    assert client.post(f"/admin/auth/user/{boss.pk}/delete/", {"post": "yes"}).status_code == 403
    boss.refresh_from_db()
    assert boss.is_staff
    assert boss.is_superuser


def test_an_administrator_grants_only_roles_within_their_own_rights(client, administrator):
    from django.contrib.auth.models import Permission

    mighty = Group.objects.create(name="mighty")
    mighty.permissions.add(Permission.objects.get(codename="add_followup"))
    mighty.permissions.add(Permission.objects.get(codename="delete_followup"))
    member = member_of("viewers")
    client.force_login(administrator)
    url = f"/admin/auth/user/{member.pk}/change/"
    page = client.get(url).content.decode()
    assert ">mighty<" not in page
    assert ">editors<" in page
    response = client.post(
        url, user_change_data(member, groups=[Group.objects.get(name="editors").pk, mighty.pk])
    )
    assert response.status_code == 200  # the form refuses the choice
    assert list(member.groups.values_list("name", flat=True)) == ["viewers"]
    # Nor may the administrator widen a group beyond their own rights.
    editors = Group.objects.get(name="editors")
    delete_followup = Permission.objects.get(codename="delete_followup")
    response = client.post(
        f"/admin/auth/group/{editors.pk}/change/",
        {
            "name": "editors",
            "permissions": [*editors.permissions.values_list("pk", flat=True), delete_followup.pk],
        },
    )
    assert response.status_code == 200
    assert not editors.permissions.filter(pk=delete_followup.pk).exists()


def test_a_superuser_may_grant_superuser_status(client, administrator):
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(boss)
    url = f"/admin/auth/user/{administrator.pk}/change/"
    assert 'name="is_superuser"' in client.get(url).content.decode()
    response = client.post(url, user_change_data(administrator, is_superuser="on"))
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.is_superuser


def test_an_editor_can_look_up_owners_but_not_accounts(client, seeded):
    editor = member_of("editors", username="eddie")
    UserFactory(username="outsider", is_staff=False)
    client.force_login(editor)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "commitments", "model_name": "commitment", "field_name": "owner", "term": ""},
    )
    assert response.status_code == 200
    names = [result["text"] for result in response.json()["results"]]
    assert "eddie" in names
    assert "outsider" not in names
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get(f"/admin/auth/user/{editor.pk}/change/").status_code == 403


def test_viewers_still_cannot_use_the_owner_lookup(client, viewer, seeded):
    client.force_login(viewer)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "commitments", "model_name": "commitment", "field_name": "owner"},
    )
    assert response.status_code == 403


def test_an_administrator_can_lift_a_login_lockout(client, administrator):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="locked", ip_address="10.0.0.1", user_agent="x", failures_since_start=5
    )
    client.force_login(administrator)
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_a_refused_next_lands_on_the_staff_page(client, editor):
    editor.set_password("a-long-test-password")
    editor.save()
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {
            "username": editor.username,
            "password": "a-long-test-password",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/staff/"
