"""HTTP caching in front of the app (ccmtracker/httpcache.py, pagecache.public_page).

The contract: every anonymous public answer (each public URL pattern, each language, htmx
fragments, feeds, exports) says `Cache-Control: public, max-age=…, stale-while-revalidate=…`,
carries a weak ETag worked out without building the page, and answers a matching
If-None-Match with 304 before any query or template. Everything else — staff pages, the
admin, the login, any answer that sets a cookie or reads the session, any signed-in request,
any POST, any server error — is `private, no-store`. The rules are general: the views at the
bottom of this file are public pages that misbehave (set the CSRF cookie, read the session,
fail), and each must still come out private.
"""

import datetime
import gc
import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client
from django.urls import path as route
from django.utils import timezone, translation

from ccmtracker.pagecache import public_etag, public_page
from ccmtracker.urls import urlpatterns as site_urlpatterns
from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from .factories import UserFactory
from .test_roles import ALL_PATTERNS, build_url, route_for

BASE_DIR = Path(__file__).resolve().parent.parent
PUBLIC_CONTROL = "public, max-age=60, stale-while-revalidate=300"
REFERENCE = "NOR-2012-09"

# Every public URL pattern the role table marks public, but the load balancers' probes (not
# pages: they say how this server is, now).
PUBLIC_PATTERNS = [
    pattern
    for pattern in ALL_PATTERNS
    if route_for(pattern)[0] is not None
    and route_for(pattern)[0].public
    and pattern.name not in {"healthz", "readyz"}
]


NGINX_CONF = (BASE_DIR / "docs" / "nginx" / "ccmtracker.conf").read_text()
NGINX_KEY = re.search(r'proxy_cache_key "([^"]+)"', NGINX_CONF)[1]


def in_nginx_key(header):
    """nginx ignores Vary (docs/deploy.md): the cache key must hold every header varied on."""
    if header == "accept-encoding":
        return "$ccm_gzip" in NGINX_KEY
    return f"$http_{header.replace('-', '_')}" in NGINX_KEY


def private(response):
    control = response.get("Cache-Control", "")
    return "private" in control and "no-store" in control and "public" not in control


def vary(response):
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


@pytest.fixture(autouse=True)
def _streams_read(monkeypatch):
    """Read a streamed export to its end within its test, and let a HEAD's unread rows go
    there too: on PostgreSQL an export's server-side cursor lives in the test's transaction,
    and closing it later would break the next test's."""
    original_get, original_head = Client.get, Client.head

    def get(self, *args, **kwargs):
        response = original_get(self, *args, **kwargs)
        if response.streaming:
            response.streamed = response.getvalue()
        return response

    def head(self, *args, **kwargs):
        response = original_head(self, *args, **kwargs)
        gc.collect()
        return response

    monkeypatch.setattr(Client, "get", get)
    monkeypatch.setattr(Client, "head", head)


@pytest.fixture
def sample(db):
    from .sample import make_sample

    return make_sample()


# --- The contract, for every public URL pattern -----------------------------------------------


@pytest.mark.parametrize("pattern", PUBLIC_PATTERNS, ids=str)
def test_every_public_url_is_cacheable_by_anyone_and_answers_if_none_match(pattern, sample):
    route, match = route_for(pattern)
    url = build_url(pattern, route, match, sample)
    client = Client()
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, url
    assert response["Cache-Control"] == PUBLIC_CONTROL, url
    assert not response.cookies, url
    etag = response["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]+-[0-9a-f]{16}"', etag), etag
    # The language is the address's, and no public answer reads a cookie.
    assert not vary(response) & {"cookie", "accept-language", "*"}, response["Vary"]
    assert all(map(in_nginx_key, vary(response))), (response["Vary"], NGINX_KEY)
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304, url
    assert again["ETag"] == etag
    assert again["Cache-Control"] == PUBLIC_CONTROL
    assert vary(again) == vary(response), "a 304 says what its 200 varies on"
    # …also when the page is not in the page cache (a HEAD never is; nor a first request).
    cold = client.head(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert cold.status_code == 304
    assert vary(cold) == vary(response)
    assert not again.cookies
    if response.streaming:
        return  # a HEAD of a streamed export: tests/test_open_data.py, .ci/serve_check.py
    head = client.head(url)
    assert head["Cache-Control"] == PUBLIC_CONTROL
    assert head["ETag"] == etag


@pytest.mark.parametrize("path", ["/", "/states/"])
def test_htmx_fragments_are_public_and_vary_on_the_htmx_headers(seeded, client, path):
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true", "HX-Target": "results"})
    assert fragment["Cache-Control"] == PUBLIC_CONTROL
    for response in (page, fragment):
        assert {"hx-request", "hx-target", "hx-history-restore-request"} <= vary(response)
        assert all(map(in_nginx_key, vary(response))), (response["Vary"], NGINX_KEY)
    assert fragment["ETag"] != page["ETag"]
    # A 304 says what the 200 varies on.
    again = client.get(path, headers={"HX-Request": "true", "If-None-Match": fragment["ETag"]})
    assert again.status_code == 200  # HX-Target differs: another answer
    same = client.get(
        path,
        headers={"HX-Request": "true", "HX-Target": "results", "If-None-Match": fragment["ETag"]},
    )
    assert same.status_code == 304
    assert {"hx-request", "hx-target", "hx-history-restore-request"} <= vary(same)


def test_accept_language_changes_no_public_page(seeded, client):
    """Why Vary leaves Accept-Language out: the language is the address's."""
    english = client.get("/")
    asked_french = client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="en"' in asked_french.content.decode()
    assert asked_french["ETag"] == english["ETag"]
    assert asked_french["Content-Language"] == "en"
    assert client.get("/fr/")["ETag"] != english["ETag"]


def test_settings_set_max_age_and_stale_while_revalidate(seeded, client, settings):
    settings.HTTP_CACHE_MAX_AGE = 2
    settings.HTTP_CACHE_STALE_WHILE_REVALIDATE = 7
    assert client.get("/")["Cache-Control"] == "public, max-age=2, stale-while-revalidate=7"


def test_a_missing_public_page_is_public_briefly_and_a_missing_address_is_private(seeded, client):
    missing = client.get("/commitments/NO-SUCH-ONE/")
    assert missing.status_code == 404
    assert missing["Cache-Control"] == PUBLIC_CONTROL
    unknown = client.get("/no-such-page/")
    assert unknown.status_code == 404
    assert private(unknown)


# --- The ETag: worked out without building the page ---------------------------------------


@pytest.mark.parametrize("page_cache", [300, 0], ids=["page cache on", "page cache off"])
@pytest.mark.parametrize(
    "path", ["/", f"/fr/commitments/{REFERENCE}/", "/data/commitments.csv", "/feed/"]
)
def test_a_conditional_get_builds_nothing(
    seeded, client, settings, django_assert_max_num_queries, page_cache, path
):
    settings.PAGE_CACHE_SECONDS = page_cache
    etag = client.get(path)["ETag"]
    with django_assert_max_num_queries(0):
        response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.templates == []
    assert response.content == b""


def test_if_none_match_star_is_a_304_only_where_the_page_exists(seeded, client):
    """RFC 9110 13.1.2: "*" is false when any current representation exists."""
    star = {"If-None-Match": "*"}
    for path in ["/", f"/commitments/{REFERENCE}/", "/data/commitments.csv"]:
        response = client.get(path, headers=star)
        assert response.status_code == 304, path
        assert response["ETag"] == client.get(path)["ETag"], path
    for path in ["/commitments/NOR-1999-99/", "/states/XX/", "/reports/99MSP/"]:
        response = client.get(path, headers=star)
        assert response.status_code == 404, path
        assert response.content, path


def test_the_etag_moves_when_a_follow_up_is_recorded(
    seeded, client, django_capture_on_commit_callbacks
):
    paths = ["/", f"/commitments/{REFERENCE}/", "/data/follow-ups.json", "/es/feed/"]
    before = {path: client.get(path)["ETag"] for path in paths}
    with django_capture_on_commit_callbacks(execute=True):
        record_follow_up(
            Commitment.objects.get(reference=REFERENCE),
            status=Status.OFF_TRACK,
            by=UserFactory(is_staff=True),
            public_note="Stalled",
        )
    for path in paths:
        response = client.get(path, headers={"If-None-Match": before[path]})
        assert response.status_code == 200, path
        assert response["ETag"] != before[path], path


def test_the_etag_differs_by_language_and_query_and_not_by_query_order(seeded, client):
    def etag(path):
        return client.get(path)["ETag"]

    assert len({etag("/"), etag("/fr/"), etag("/es/")}) == 3
    assert etag("/?status=achieved") != etag("/")
    assert etag("/?status=achieved&theme=promotion") == etag("/?theme=promotion&status=achieved")
    assert etag(f"/commitments/{REFERENCE}/?as_of=2013-01-01") != etag(f"/commitments/{REFERENCE}/")
    assert etag("/data/commitments.csv") != etag("/data/commitments.json")


def test_the_etag_names_the_language_it_was_built_in(db, rf):
    """The language comes from the address on every public page today; should a page ever be
    built in another (a header, a setting), its ETag must still tell the two apart."""
    request = rf.get("/data/commitments.csv")
    with translation.override("fr"):
        french = public_etag(request)
    assert public_etag(request) != french


def test_the_etag_moves_at_midnight(seeded, client):
    today = client.get("/")["ETag"]
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        again = client.get("/", headers={"If-None-Match": today})
    assert again.status_code == 200
    assert again["ETag"] != today


# --- Private: the staff side, the admin, the login, anyone signed in, any POST ---------------


@pytest.mark.parametrize("path", ["/staff/", "/admin/", "/admin/login/", "/healthz"])
def test_the_staff_side_and_the_login_are_private_for_anonymous_visitors(seeded, client, path):
    assert private(client.get(path))


@pytest.mark.parametrize(
    "path",
    [
        f"/commitments/{REFERENCE}/reply/",
        f"/fr/commitments/{REFERENCE}/reply/",
        f"/commitments/{REFERENCE}/reply/sent/",
        "/staff/review/",
        "/staff/replies/",
    ],
)
def test_the_reply_form_and_the_queues_are_private(seeded, client, path):
    """The reply form sets the CSRF cookie (its page, not the commitment's); the second
    review's and the replies' queues are staff pages (issue 15)."""
    response = client.get(path)
    assert private(response)
    if "/reply/" in path and not path.endswith("sent/"):
        assert response.status_code == 200
        assert "csrftoken" in response.cookies
    commitment = client.get(f"/commitments/{REFERENCE}/")
    assert commitment["Cache-Control"] == PUBLIC_CONTROL
    assert not commitment.cookies


@pytest.mark.parametrize(
    "path", ["/", "/fr/", f"/commitments/{REFERENCE}/", "/data/commitments.csv", "/staff/"]
)
def test_anyone_signed_in_gets_private_answers_even_on_public_pages(seeded, staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    assert private(response)


def test_signing_in_clears_the_public_pages_the_browser_kept(seeded, client):
    """A browser keeps public pages for max-age; once signed in, its user must see changes."""
    client.get("/")
    page = client.get("/admin/login/")
    assert "Clear-Site-Data" not in page
    token = page.cookies["csrftoken"].value
    user = UserFactory(is_staff=True)
    user.set_password("a long enough password")
    user.save()
    signed_in = client.post(
        "/admin/login/?next=/staff/",
        {"username": user.username, "password": "a long enough password"},
        headers={"X-CSRFToken": token},
    )
    assert signed_in.status_code == 302
    assert signed_in["Clear-Site-Data"] == '"cache"'
    assert private(signed_in)
    assert "Clear-Site-Data" not in client.get("/staff/")


def test_a_session_cookie_alone_makes_an_answer_private(seeded, client):
    """nginx bypasses its cache on the session cookie; the app never says otherwise."""
    client.cookies["sessionid"] = "not-a-session"
    assert private(client.get("/"))
    other = Client()
    other.cookies["messages"] = "x"
    assert private(other.get("/"))


def test_the_csrf_and_language_cookies_keep_a_page_public(seeded, client):
    client.cookies["csrftoken"] = "x" * 32
    client.cookies["django_language"] = "fr"
    assert client.get("/")["Cache-Control"] == PUBLIC_CONTROL


def test_a_post_to_a_public_page_is_private(seeded, client):
    response = client.post("/")
    assert response.status_code == 405
    assert private(response)


def test_a_page_served_by_the_page_cache_is_public_too(seeded, client):
    first = client.get("/")
    hit = client.get("/")
    assert hit["Cache-Control"] == PUBLIC_CONTROL
    assert hit["ETag"] == first["ETag"]
    signed_in = Client()
    signed_in.force_login(UserFactory(is_staff=True))
    assert private(signed_in.get("/"))


# --- The rules are general: public pages that misbehave ---------------------------------------


@public_page
def sets_the_csrf_cookie(request):
    return HttpResponse(f"<form>{get_token(request)}</form>")


@public_page
def reads_the_session(request):
    return HttpResponse(f"seen: {request.session.get('seen', 0)}")


@public_page
def sets_a_cookie(request):
    response = HttpResponse("hello")
    response.set_cookie("hello", "there")
    return response


@public_page
def fails(request):
    return HttpResponse("broken", status=500)


@public_page
def well_behaved(request):
    return HttpResponse("fine")


urlpatterns = [
    route("t/csrf/", sets_the_csrf_cookie),
    route("t/session/", reads_the_session),
    route("t/cookie/", sets_a_cookie),
    route("t/fails/", fails),
    route("t/fine/", well_behaved),
    # A staff page marked public by mistake (a queue copied from a public view, say).
    route("staff/t/fine/", well_behaved),
    route("admin/t/fine/", well_behaved),
    *site_urlpatterns,
]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "path",
    ["/t/csrf/", "/t/session/", "/t/cookie/", "/t/fails/", "/staff/t/fine/", "/admin/t/fine/"],
)
def test_no_answer_that_sets_a_cookie_or_reads_the_session_is_ever_public(db, client, path):
    response = client.get(path)
    assert private(response), (path, response.get("Cache-Control"), response.cookies)


@pytest.mark.urls(__name__)
def test_a_public_page_that_behaves_is_public(db, client):
    assert client.get("/t/fine/")["Cache-Control"] == PUBLIC_CONTROL


# --- The nginx configuration the deployment guide gives is the one CI runs -------------------


def test_the_deployment_guide_shows_the_nginx_configuration_ci_runs():
    conf = (BASE_DIR / "docs" / "nginx" / "ccmtracker.conf").read_text()
    guide = (BASE_DIR / "docs" / "deploy.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", guide, re.DOTALL)
    assert conf in blocks, "docs/deploy.md must show docs/nginx/ccmtracker.conf as it is"
