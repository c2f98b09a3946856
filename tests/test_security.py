"""Tries to break in: every URL x role x method, leaks, escaping, CSRF, append-only history,
login throttling and the security headers.

## The URL table (read this before adding a URL)

`test_every_url_pattern_has_an_entry` walks the whole URLconf (admin included) and fails,
naming the pattern, when a URL pattern has no entry in URL_TABLE. To add one, append a
`Route` to URL_TABLE:

    Route("exports/commitments.csv", PUBLIC_DOWNLOAD),

- the first argument is the pattern text exactly as the resolver shows it (the failure
  message prints it), e.g. "commitments/<slug:reference>/"; with `regex=True` it is a regular
  expression matched against the whole text instead (the admin is grouped that way). Entries
  are tried in order and the first match wins, so put specific entries before general ones;
- the second is what each role gets, for GET and POST: `{ANON: (get, post), MEMBER: (...),
  STAFF: (...)}` where each answer is a status code, LOGIN (302 to the admin login) or
  REDIRECT (302 elsewhere). The ready-made sets below cover most views (PUBLIC, STAFF_PAGE,
  STAFF_ACTION, ADMIN_PAGE...). POSTs are sent with the CSRF token but an empty body;
- `public=True` also checks that anonymous GETs set no cookie and that the htmx variant
  leaks nothing (every answer to a signed-in user must be no-store, whatever the entry);
- URL kwargs are filled from SAMPLE_KWARGS by name (reference, slug, ...); give
  `url=lambda s, m: "/path/"` for anything else (`s` is the Sample, `m` the regex match).

Whatever the entry, every response is also checked for the internal-note canary and
unpublished items (never shown to anyone but staff), for unescaped HTML payloads in HTML and
XML answers (never, for anyone; CSV and JSON carry the raw text), for `no-store` on every
answer to a signed-in user and, for GET, for unchanged database state. The same walk sends
every URL a POST without a CSRF token, plain and htmx, and expects 403 for all.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern, RoutePattern
from django.utils import translation

from commitments.models import (
    AppendOnlyError,
    Article,
    Commitment,
    FollowUp,
    Statement,
    Status,
    Theme,
)

from .conftest import CANARY, member_of
from .factories import UserFactory

ANON, MEMBER, STAFF = "anonymous", "logged-in non-staff", "staff"
ROLES = [ANON, MEMBER, STAFF]
METHODS = ["GET", "POST"]
LOGIN = "302 to the login page"
REDIRECT = "302 elsewhere"

# Ready-made answer sets: {role: (GET, POST)}.
PUBLIC = {ANON: (200, 405), MEMBER: (200, 405), STAFF: (200, 405)}
PROBE = PUBLIC
STAFF_PAGE = {ANON: (LOGIN, 405), MEMBER: (403, 405), STAFF: (200, 405)}
# An empty POST is invalid: 422 with the form's errors.
STAFF_ACTION = {ANON: (405, LOGIN), MEMBER: (405, 403), STAFF: (405, 422)}
# Django's admin sends anyone who is not staff to its login page.
ADMIN_PAGE = {ANON: (LOGIN, LOGIN), MEMBER: (LOGIN, LOGIN), STAFF: (200, 200)}
ADMIN_READ_ONLY = {ANON: (LOGIN, LOGIN), MEMBER: (LOGIN, LOGIN), STAFF: (200, 403)}
ADMIN_REFUSED = {ANON: (LOGIN, LOGIN), MEMBER: (LOGIN, LOGIN), STAFF: (403, 403)}
ADMIN_REDIRECT = {ANON: (LOGIN, LOGIN), MEMBER: (LOGIN, LOGIN), STAFF: (REDIRECT, REDIRECT)}


@dataclass(frozen=True)
class Route:
    pattern: str
    expect: dict
    regex: bool = False
    url: Callable | None = None
    public: bool = False

    def matches(self, text):
        if self.regex:
            return re.fullmatch(self.pattern, text)
        return re.fullmatch(re.escape(self.pattern), text)


def admin_object(s, m, suffix):
    return f"/admin/{m['app']}/{m['model']}/{s.pk_for(m['app'], m['model'])}/{suffix}"


MODEL = r"admin/(?P<app>\w+)/(?P<model>\w+)/"
READ_ONLY_MODELS = r"admin/(?P<app>commitments)/(?P<model>followup)/"
AXES_MODELS = r"admin/(?P<app>axes)/(?P<model>access\w+)/"
IMPORT_EXPORT = r"admin/(?P<app>commitments)/(?P<model>commitment|statement)/"
AUDITED = r"admin/(?P<app>commitments)/(?P<model>commitment|statement|theme)/"


def past_version(s, m):
    model = apps.get_model(m["app"], m["model"])
    return model.history.filter(id=s.pk_for(m["app"], m["model"])).first().history_id


URL_TABLE = [
    # Probes for load balancers.
    Route("healthz", PROBE, public=True),
    Route("readyz", PROBE, public=True),
    # Public pages, once per language (English unprefixed, /fr/, /es/), and their Atom feeds.
    Route("<lang>/", PUBLIC, public=True),
    Route("<lang>/commitments/<slug:reference>/", PUBLIC, public=True),
    Route("<lang>/commitments/<slug:reference>/feed/", PUBLIC, public=True),
    Route("<lang>/statements/<slug:slug>/", PUBLIC, public=True),
    Route("<lang>/feed/", PUBLIC, public=True),
    # Open data: one address whatever the language (re_path: /data/<name>.csv or .json).
    Route(
        r"\^data/(?P<name>commitments|follow-ups)\\\.\(\?P<fmt>csv\|json\)\$",
        PUBLIC,
        regex=True,
        url=lambda s, m: f"/data/{m['name']}.csv",
        public=True,
    ),
    # Staff pages.
    Route("staff/", STAFF_PAGE),
    Route("staff/commitments/<slug:reference>/follow-ups/", STAFF_ACTION),
    # The admin's own pages.
    Route("admin/", ADMIN_PAGE),
    Route(
        "admin/login/",
        # Staff are sent on to the admin; an empty POST re-shows the form with its errors.
        {ANON: (200, 200), MEMBER: (200, 200), STAFF: (REDIRECT, 200)},
    ),
    # Logging out is a POST (a GET cannot log anyone out); the admin sends non-staff to its index.
    Route(
        "admin/logout/",
        {ANON: (REDIRECT, REDIRECT), MEMBER: (REDIRECT, REDIRECT), STAFF: (405, 200)},
    ),
    Route("admin/password_change/", ADMIN_PAGE),
    Route("admin/password_change/done/", {**ADMIN_PAGE, STAFF: (200, 405)}),
    # Refused without its query parameters.
    Route("admin/autocomplete/", {**ADMIN_PAGE, STAFF: (403, 405)}),
    Route("admin/jsi18n/", {**ADMIN_PAGE, STAFF: (200, 405)}),
    Route(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        ADMIN_REDIRECT,
        url=lambda s, m: (
            f"/admin/r/{ContentType.objects.get_for_model(Commitment).pk}/{s.commitment.pk}/"
        ),
    ),
    Route(
        "admin/^(?P<app_label>auth|axes|commitments)/$",
        ADMIN_PAGE,
        url=lambda s, m: "/admin/commitments/",
    ),
    Route(
        "admin/(?P<url>.*)$",
        {**ADMIN_PAGE, STAFF: (404, 404)},
        url=lambda s, m: "/admin/no-such-page/",
    ),
    Route(
        "admin/auth/user/<id>/password/",
        ADMIN_PAGE,
        url=lambda s, m: f"/admin/auth/user/{s.member.pk}/password/",
    ),
    # Follow-ups are history: readable in the admin, never added, changed or deleted there.
    Route(READ_ONLY_MODELS, ADMIN_PAGE, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(READ_ONLY_MODELS + "add/", ADMIN_REFUSED, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(
        READ_ONLY_MODELS + "<path:object_id>/history/",
        ADMIN_PAGE,
        regex=True,
        url=lambda s, m: admin_object(s, m, "history/"),
    ),
    Route(
        READ_ONLY_MODELS + "<path:object_id>/delete/",
        ADMIN_REFUSED,
        regex=True,
        url=lambda s, m: admin_object(s, m, "delete/"),
    ),
    Route(
        READ_ONLY_MODELS + "<path:object_id>/change/",
        ADMIN_READ_ONLY,
        regex=True,
        url=lambda s, m: admin_object(s, m, "change/"),
    ),
    # django-axes' records of logins are read and deleted (to unlock), never added; every
    # field is read-only, so saving the change form changes nothing and goes back to the list.
    Route(AXES_MODELS + "add/", ADMIN_REFUSED, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(
        AXES_MODELS + "<path:object_id>/change/",
        {**ADMIN_PAGE, STAFF: (200, REDIRECT)},
        regex=True,
        url=lambda s, m: admin_object(s, m, "change/"),
    ),
    # Issue 5: candidate commitments in a statement's text (an empty POST has no formset).
    Route(
        "admin/commitments/statement/<int:pk>/propose/",
        {**ADMIN_PAGE, STAFF: (200, 422)},
        url=lambda s, m: f"/admin/commitments/statement/{s.statement.pk}/propose/",
    ),
    # CSV import and export (django-import-export): an empty POST re-shows its form.
    Route(IMPORT_EXPORT + "import/", ADMIN_PAGE, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(
        IMPORT_EXPORT + "process_import/",
        {**ADMIN_PAGE, STAFF: (405, 200)},
        regex=True,
        url=lambda s, m: f"/{m[0]}",
    ),
    Route(IMPORT_EXPORT + "export/", ADMIN_PAGE, regex=True, url=lambda s, m: f"/{m[0]}"),
    # One past version from the change history, to read; reverting (POST) is refused.
    Route(
        AUDITED + re.escape("^([^/]+)/history/([^/]+)/$"),
        {**ADMIN_PAGE, STAFF: (200, 403)},
        regex=True,
        url=lambda s, m: admin_object(s, m, f"history/{past_version(s, m)}/"),
    ),
    # Every other model admin: the standard views.
    Route(MODEL, ADMIN_PAGE, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(MODEL + "add/", ADMIN_PAGE, regex=True, url=lambda s, m: f"/{m[0]}"),
    Route(
        MODEL + "<path:object_id>/history/",
        ADMIN_PAGE,
        regex=True,
        url=lambda s, m: admin_object(s, m, "history/"),
    ),
    # An empty POST does not confirm a deletion: the confirmation page is shown again.
    Route(
        MODEL + "<path:object_id>/delete/",
        ADMIN_PAGE,
        regex=True,
        url=lambda s, m: admin_object(s, m, "delete/"),
    ),
    Route(
        MODEL + "<path:object_id>/change/",
        ADMIN_PAGE,
        regex=True,
        url=lambda s, m: admin_object(s, m, "change/"),
    ),
    # The old-style object address redirects to its change page.
    Route(
        MODEL + "<path:object_id>/",
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


def test_every_url_pattern_has_an_entry():
    missing = [str(p) for p in ALL_PATTERNS if route_for(p)[0] is None]
    assert not missing, (
        "These URL patterns have no entry in URL_TABLE in tests/test_security.py; add a "
        "Route(...) for each, saying what anonymous, non-staff and staff users get:\n  "
        + "\n  ".join(missing)
    )


def test_every_entry_in_the_table_matches_a_url():
    used = {id(route_for(p)[0]) for p in ALL_PATTERNS}
    stale = [route.pattern for route in URL_TABLE if id(route) not in used]
    assert not stale, f"URL_TABLE entries that match no URL pattern any more: {stale}"


def test_the_table_covers_every_role_and_method():
    for route in URL_TABLE:
        assert set(route.expect) == set(ROLES), route.pattern
        assert all(len(answers) == len(METHODS) for answers in route.expect.values())


# --- Sample data: every text field carries an HTML payload; internal notes carry the canary --


PAYLOAD = "\"'><q7 onmouseover=alert(1)>"
RAW_MARKER = "<q7"  # appears in a response only if a payload was not escaped
ESCAPED_MARKER = "&lt;q7"


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
    statement = Statement.objects.create(
        slug="statement-x",
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
    follow_up = commitment.record_follow_up(
        status=Status.IN_PROGRESS,
        by=owner,
        happened_on=datetime.date(2013, 1, 2),
        public_note=payload(),
        internal_note=f"{CANARY} {PAYLOAD}",
        evidence_url="https://example.org/",
        evidence_label=payload(200),
    )
    unpublished.record_follow_up(status=Status.IN_PROGRESS, by=owner, public_note=CANARY)
    axes_fields = {
        "user_agent": payload(255),
        "ip_address": "10.0.0.1",
        "username": payload(255),
        "http_accept": payload(),
        "path_info": "/admin/login/",
    }
    group = Group.objects.create(name=payload(150))
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
            "commitments.theme": theme,
            "commitments.article": article,
            "commitments.followup": follow_up,
            "axes.accessattempt": AccessAttempt.objects.create(
                get_data="", post_data="", failures_since_start=1, **axes_fields
            ),
            "axes.accesslog": AccessLog.objects.create(**axes_fields),
            "axes.accessfailurelog": AccessFailureLog.objects.create(**axes_fields),
        },
    )


def state():
    """What a GET must never change: every row of every model, sessions aside."""
    snapshot = {}
    for model in apps.get_models():
        if model._meta.label == "sessions.Session":
            continue
        snapshot[model._meta.label] = list(model.objects.order_by("pk").values())
    return snapshot


def client_for(role, sample, **kwargs):
    client = Client(**kwargs)
    if role == MEMBER:
        client.force_login(sample.member)
    elif role == STAFF:
        client.force_login(sample.staff)
    return client


def build_url(pattern, route, match, sample):
    with translation.override(pattern.language):
        if route.url:
            return route.url(sample, match)
        missing = [key for key in pattern.converters if key not in SAMPLE_KWARGS]
        assert not missing, f"Add SAMPLE_KWARGS for {missing} or a url= to the entry {pattern}"
        kwargs = {key: SAMPLE_KWARGS[key](sample) for key in pattern.converters}
        return reverse(pattern.name, kwargs=kwargs)


def is_markup(response):
    """HTML and XML (pages, fragments, Atom feeds) must escape; CSV and JSON carry raw text."""
    content_type = response.get("Content-Type", "text/html")
    return content_type.startswith("text/html") or "xml" in content_type


def answer_matches(expected, response):
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith("/admin/login/")
    if expected == REDIRECT:
        return response.status_code in {301, 302} and not response["Location"].startswith(
            "/admin/login/"
        )
    return response.status_code == expected


def describe(response):
    where = f" -> {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{where}"


CASES = [(p, role, method) for p in ALL_PATTERNS for role in ROLES for method in METHODS]


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=str)
@pytest.mark.django_db
def test_url_answers_each_role_and_method_as_the_table_says(pattern):
    route, match = route_for(pattern)
    assert route is not None, f"No URL_TABLE entry for {pattern}: add one (see the docstring)."
    sample = make_sample()
    url = build_url(pattern, route, match, sample)
    problems = []
    for role in ROLES:
        for method, expected in zip(METHODS, route.expect[role], strict=True):
            client = client_for(role, sample)
            before = state() if method == "GET" else None
            response = getattr(client, method.lower())(url)
            body = response.getvalue().decode(errors="replace")
            case = f"{method} {url} as {role}"
            if not answer_matches(expected, response):
                problems.append(f"{case}: expected {expected}, got {describe(response)}")
            if RAW_MARKER in body and is_markup(response):
                problems.append(f"{case}: an HTML payload is shown unescaped")
            if role != STAFF and (CANARY in body or "UNPUBLISHED-TITLE" in body):
                problems.append(f"{case}: an internal note or unpublished item leaked")
            if before is not None and state() != before:
                problems.append(f"{case}: a GET changed the database")
            if role != ANON and "no-store" not in response.get("Cache-Control", ""):
                problems.append(f"{case}: an answer to a signed-in user without no-store")
            if route.public and role == ANON and method == "GET":
                if response.cookies:
                    problems.append(f"{case}: a public page set cookies {list(response.cookies)}")
                htmx = client.get(url, headers={"HX-Request": "true"})
                if CANARY in htmx.getvalue().decode() or htmx.cookies:
                    problems.append(f"{case} (htmx): leaked the canary or set a cookie")
    assert not problems, "\n".join(problems)


def test_the_walk_reaches_nested_admin_and_app_urls():
    texts = {p.text for p in ALL_PATTERNS}
    assert {
        "healthz",
        "staff/commitments/<slug:reference>/follow-ups/",
        "admin/commitments/followup/<path:object_id>/change/",
        "admin/auth/user/<id>/password/",
        "admin/(?P<url>.*)$",
    } <= texts
    assert len(CASES) == len(ALL_PATTERNS) * 6


# --- Escaping --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_payloads_in_text_fields_are_shown_escaped_on_every_page_that_shows_them():
    sample = make_sample()
    staff = client_for(STAFF, sample)
    anonymous = Client()
    pages = [
        (anonymous, "/"),
        (anonymous, sample.commitment.get_absolute_url()),
        (anonymous, sample.statement.get_absolute_url()),
        (staff, "/staff/"),
        (staff, f"/admin/commitments/commitment/{sample.commitment.pk}/change/"),
        (staff, f"/admin/commitments/statement/{sample.statement.pk}/change/"),
        (staff, f"/admin/commitments/followup/{sample.follow_up.pk}/change/"),
        (staff, "/admin/commitments/followup/"),
    ]
    for client, url in pages:
        html = client.get(url).content.decode()
        assert ESCAPED_MARKER in html, url  # the payload reached the page...
        assert RAW_MARKER not in html, url  # ...and only escaped


@pytest.mark.django_db
def test_htmx_fragment_escapes_payloads_and_shows_no_canary_to_the_public(staff_user):
    sample = make_sample()
    client = client_for(STAFF, sample)
    prefix = f"c{sample.commitment.pk}"
    response = client.post(
        f"/staff/commitments/{sample.commitment.reference}/follow-ups/",
        {
            f"{prefix}-version": sample.commitment.version,
            f"{prefix}-status": Status.IN_PROGRESS,
            f"{prefix}-happened_on": "2013-03-01",
            f"{prefix}-public_note": PAYLOAD,
            f"{prefix}-internal_note": CANARY,
            f"{prefix}-evidence_label": PAYLOAD,
            f"{prefix}-evidence_url": "https://example.org/",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="c-XSS-2012-01"' in html
    assert "<html" not in html  # a fragment
    assert ESCAPED_MARKER in html
    assert RAW_MARKER not in html
    public = Client().get(sample.commitment.get_absolute_url()).content.decode()
    assert CANARY not in public
    assert RAW_MARKER not in public


@pytest.mark.django_db
def test_invalid_htmx_post_echoes_the_payload_escaped():
    sample = make_sample()
    client = client_for(STAFF, sample)
    prefix = f"c{sample.commitment.pk}"
    response = client.post(
        f"/staff/commitments/{sample.commitment.reference}/follow-ups/",
        {f"{prefix}-status": "nonsense", f"{prefix}-public_note": PAYLOAD},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert ESCAPED_MARKER in response.content.decode()
    assert RAW_MARKER not in response.content.decode()


# --- Error pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_error_pages_are_the_sites_own_and_show_no_canary(client, member_client):
    make_sample()
    not_found = client.get("/commitments/XSS-2012-02/")  # exists, but unpublished
    assert not_found.status_code == 404
    assert "Page not found" in not_found.content.decode()
    assert "UNPUBLISHED" not in not_found.content.decode()
    forbidden = member_client.get("/staff/")
    assert forbidden.status_code == 403
    assert "Not allowed" in forbidden.content.decode()
    for response in (not_found, forbidden):
        assert CANARY not in response.content.decode()
        assert "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_server_error_page_is_static_and_reveals_nothing():
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "Traceback" not in html
    assert "Django" not in html
    assert CANARY not in html


@pytest.mark.django_db
def test_csrf_failure_page_explains_and_has_no_inline_style():
    sample = make_sample()
    client = client_for(STAFF, sample, enforce_csrf_checks=True)
    response = client.post("/staff/commitments/XSS-2012-01/follow-ups/", {})
    html = response.content.decode()
    assert response.status_code == 403
    assert "<style" not in html
    assert "security token" in html


# --- CSRF and GET --------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.django_db
def test_state_changing_requests_without_a_csrf_token_are_refused(htmx):
    sample = make_sample()
    headers = {"HX-Request": "true"} if htmx else {}
    clients = {role: client_for(role, sample, enforce_csrf_checks=True) for role in ROLES}
    before = state()
    refused = []
    for pattern in ALL_PATTERNS:
        route, match = route_for(pattern)
        url = build_url(pattern, route, match, sample)
        for role, client in clients.items():
            prefix = f"c{sample.commitment.pk}"
            data = {
                f"{prefix}-version": sample.commitment.version,
                f"{prefix}-status": Status.OFF_TRACK,
                f"{prefix}-happened_on": "2013-03-01",
                "post": "yes",  # would confirm an admin deletion
                "username": sample.staff.username,
                "password": "a-long-test-password",
            }
            response = client.post(url, data, headers=headers)
            if response.status_code != 403:
                refused.append(f"POST {url} as {role}: {describe(response)}")
    assert not refused, "Accepted without a CSRF token:\n" + "\n".join(refused)
    assert state() == before


@pytest.mark.django_db
def test_staff_post_with_the_token_from_the_page_is_accepted_and_without_it_refused():
    sample = make_sample()
    client = client_for(STAFF, sample, enforce_csrf_checks=True)
    page = client.get("/staff/").content.decode()
    token = re.search(r'"x-csrftoken": "([^"]+)"', page)[1]  # hx-headers on <body>
    prefix = f"c{sample.commitment.pk}"
    data = {
        f"{prefix}-version": sample.commitment.version,
        f"{prefix}-status": Status.OFF_TRACK,
        f"{prefix}-happened_on": "2013-03-01",
    }
    url = f"/staff/commitments/{sample.commitment.reference}/follow-ups/"
    assert client.post(url, data, headers={"HX-Request": "true"}).status_code == 403
    response = client.post(url, data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert FollowUp.objects.filter(commitment=sample.commitment).count() == 2


# --- Append-only history -------------------------------------------------------------------


@pytest.mark.django_db
def test_follow_ups_cannot_be_changed_or_deleted_through_the_orm():
    sample = make_sample()
    follow_up = FollowUp.objects.get(pk=sample.follow_up.pk)
    follow_up.public_note = "rewritten"
    with pytest.raises(AppendOnlyError):
        follow_up.save()
    with pytest.raises(AppendOnlyError):
        follow_up.delete()
    with pytest.raises(AppendOnlyError):
        FollowUp.objects.filter(pk=follow_up.pk).update(public_note="rewritten")
    with pytest.raises(AppendOnlyError):
        FollowUp.objects.all().delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        FollowUp.objects.bulk_update([follow_up], ["public_note"])
    assert FollowUp.objects.get(pk=follow_up.pk).public_note == PAYLOAD


def history():
    return list(FollowUp.objects.order_by("pk").values())


@pytest.mark.django_db
def test_follow_ups_cannot_be_changed_or_deleted_through_the_admin():
    sample = make_sample()
    client = client_for(STAFF, sample)
    before = history()
    pk = sample.follow_up.pk
    base = "/admin/commitments/followup"
    crafted = {"public_note": "rewritten", "internal_note": "", "status": Status.ACHIEVED}
    assert client.post(f"{base}/{pk}/change/", crafted).status_code == 403
    assert client.post(f"{base}/{pk}/delete/", {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
    client.post(f"{base}/", action)
    # The commitment's page, with the history inline forged as if it were editable.
    commitment_url = f"/admin/commitments/commitment/{sample.commitment.pk}/change/"
    form = {
        "statement": sample.statement.pk,
        "reference": sample.commitment.reference,
        "title": "Title",
        "quote": sample.commitment.quote,
        "theme": sample.commitment.theme_id,
        "kind": sample.commitment.kind,
        "weight": 1,
        "published": "on",
    }
    for prefix in ("follow_ups", "follow_ups-2"):
        form.update(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-INITIAL_FORMS": "1",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
                f"{prefix}-0-id": pk,
                f"{prefix}-0-commitment": sample.commitment.pk,
                f"{prefix}-0-public_note": "rewritten",
                f"{prefix}-0-status": Status.ACHIEVED,
                f"{prefix}-0-happened_on": "2013-01-02",
                f"{prefix}-0-DELETE": "on",
            }
        )
    client.post(commitment_url, form)
    after = history()
    assert after[: len(before)] == before  # nothing changed or removed; a new one may be added
    assert all(row["public_note"] != "rewritten" or row["id"] > pk for row in after)


@pytest.mark.django_db
def test_a_crafted_staff_post_naming_an_existing_follow_up_only_appends():
    sample = make_sample()
    client = client_for(STAFF, sample)
    before = history()
    prefix = f"c{sample.commitment.pk}"
    response = client.post(
        f"/staff/commitments/{sample.commitment.reference}/follow-ups/",
        {
            f"{prefix}-id": sample.follow_up.pk,
            f"{prefix}-pk": sample.follow_up.pk,
            "id": sample.follow_up.pk,
            f"{prefix}-version": sample.commitment.version,
            f"{prefix}-status": Status.OFF_TRACK,
            f"{prefix}-happened_on": "2013-03-01",
            f"{prefix}-public_note": "appended",
            f"{prefix}-author": sample.member.pk,
        },
    )
    assert response.status_code == 302
    after = history()
    assert after[: len(before)] == before
    [new] = after[len(before) :]
    assert new["public_note"] == "appended"
    assert new["author_id"] == sample.staff.pk  # not whoever the POST named


# --- Login throttling (django-axes, tested on this Django) ----------------------------------


def login(ip, username, password):
    client = Client(REMOTE_ADDR=ip)
    return client.post("/admin/login/?next=/staff/", {"username": username, "password": password})


@pytest.mark.django_db
def test_five_failed_logins_lock_that_username_from_that_address_with_a_clear_message():
    user = UserFactory(is_staff=True)
    for _attempt in range(4):
        response = login("203.0.113.5", user.username, "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    locked = login("203.0.113.5", user.username, "wrong")  # the fifth
    assert locked.status_code == 429
    # Even the right password is refused from there now, with a message saying why.
    refused = login("203.0.113.5", user.username, "a-long-test-password")
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Too many failed logins" in html
    assert "5 failed attempts" in html
    assert "wait 15 minutes and try again" in html
    assert "_auth_user_id" not in refused.client.session


@pytest.mark.django_db
def test_a_locked_username_still_logs_in_from_another_address():
    user = member_of("viewers")  # /staff/ needs a role (issue 5)
    for _attempt in range(5):
        login("203.0.113.5", user.username, "wrong")
    elsewhere = login("198.51.100.7", user.username, "a-long-test-password")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/staff/"
    assert elsewhere.client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_other_usernames_from_the_locked_address_still_log_in():
    locked_user, other = UserFactory(is_staff=True), UserFactory(is_staff=True)
    for _attempt in range(5):
        login("203.0.113.5", locked_user.username, "wrong")
    assert login("203.0.113.5", other.username, "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(settings):
    from axes.models import AccessAttempt

    user = UserFactory(is_staff=True)
    for _attempt in range(5):
        login("203.0.113.5", user.username, "wrong")
    assert login("203.0.113.5", user.username, "a-long-test-password").status_code == 429
    # Move the failures back past the cool-off, as time would.
    long_ago = datetime.datetime.now(datetime.UTC) - settings.AXES_COOLOFF_TIME * 2
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=long_ago)
    assert login("203.0.113.5", user.username, "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(settings):
    settings.TRUSTED_PROXY_COUNT = 1  # one load balancer that appends the client's address
    user = UserFactory(is_staff=True)

    def via_proxy(client_ip, password):
        # A client may send its own X-Forwarded-For; the balancer appends the real address.
        forwarded = f"192.0.2.66, {client_ip}"
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        return client.post("/admin/login/", {"username": user.username, "password": password})

    for _attempt in range(5):
        via_proxy("203.0.113.5", "wrong")
    assert via_proxy("203.0.113.5", "a-long-test-password").status_code == 429
    assert via_proxy("198.51.100.7", "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_x_forwarded_for_does_not_dodge_the_lockout():
    user = UserFactory(is_staff=True)
    for attempt in range(5):
        Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}").post(
            "/admin/login/", {"username": user.username, "password": "wrong"}
        )
    forged = Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.99")
    response = forged.post(
        "/admin/login/", {"username": user.username, "password": "a-long-test-password"}
    )
    assert response.status_code == 429


# --- Headers and cookies -------------------------------------------------------------------


EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def assert_security_headers(response):
    assert response["Content-Security-Policy"] == EXPECTED_CSP
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_public_and_staff_pages_send_every_security_header(client):
    sample = make_sample()
    for url in ["/", sample.commitment.get_absolute_url(), "/admin/login/", "/healthz"]:
        assert_security_headers(client.get(url, secure=True))
    staff = client_for(STAFF, sample)
    for url in [
        "/staff/",
        "/admin/",
        f"/admin/commitments/commitment/{sample.commitment.pk}/change/",
    ]:
        response = staff.get(url, secure=True)
        assert_security_headers(response)
        assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_http_only():
    user = UserFactory(is_staff=True)
    client = Client()
    client.get("/admin/login/", secure=True)
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["httponly"]
    response = client.post(
        "/admin/login/",
        {"username": user.username, "password": "a-long-test-password"},
        secure=True,
    )
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


@pytest.mark.django_db
def test_staff_pages_turn_off_htmx_history_cache(staff_client):
    html = staff_client.get("/staff/").content.decode()
    assert 'data-hx-history="false"' in html
    assert '"historyCacheSize":0' in html
