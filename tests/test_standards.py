"""The standards the site claims, checked by the tools that define them: the Nu HTML Checker
(vnu) on every kind of page, feedparser on every feed, and the headers sent with every
response. Accessibility (axe) is checked in a real browser: tests/browser/."""

import datetime
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.views import defaults

from commitments.models import Commitment, Status
from commitments.records import propose_follow_up, record_follow_up, send_back

from .conftest import member_of
from .factories import (
    CommitmentFactory,
    DelegationFactory,
    MeetingFactory,
    StateFactory,
    StatementFactory,
    TreatyEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
STATEMENT = "/statements/norway-2012-04-16-universalisation/"
VNU_JAR = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def record(reference, status, on, **kwargs):
    author = get_user_model().objects.get_or_create(username="author")[0]
    return record_follow_up(
        Commitment.objects.get(reference=reference),
        status=status,
        happened_on=on,
        by=author,
        **kwargs,
    )


@pytest.fixture
def tracker(seeded):
    record("NOR-2012-10", Status.IN_PROGRESS, D(2012, 9, 11), public_note="3MSP agenda set")
    record("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9), public_note="Presidency report",
           evidence_url="https://example.org/report", evidence_label="Report")  # fmt: skip
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1), public_note="Raised at the UNGA")
    Commitment.objects.filter(reference="NOR-2012-05").update(next_review=D(2013, 1, 1))
    # Issue 14: treaty events (a signatory, a State Party, a withdrawal, a correction) and a
    # follow-up naming two states, for the states pages.
    norway, canada = StateFactory(country="NO"), StateFactory(country="CA")
    TreatyEventFactory(state=norway, kind="signature", date=D(2008, 12, 3))
    wrong = TreatyEventFactory(state=norway, kind="ratification", date=D(2008, 12, 13))
    TreatyEventFactory(state=norway, kind="ratification", date=D(2008, 12, 3), corrects=wrong,
                       notification="C.N.1.2008.TREATIES-XXVI.6")  # fmt: skip
    TreatyEventFactory(state=canada, kind="signature", date=D(2008, 12, 3))
    TreatyEventFactory(state=StateFactory(country="LT"), kind="withdrawal", date=D(2024, 9, 6))
    Commitment.objects.filter(reference="NOR-2012-10").get().follow_ups.first().set_states_once(
        [norway, canada]
    )
    # Treaty events: the dashboard's universalisation indicator and a universalisation
    # commitment's context have figures to show.
    for country, kind, on in [
        ("LA", "ratification", D(2009, 3, 18)),
        ("GD", "accession", D(2012, 4, 17)),
        ("PH", "signature", D(2008, 12, 3)),
    ]:
        TreatyEventFactory(state=StateFactory(country=country), kind=kind, date=on)


# --- HTML: the Nu HTML Checker ---------------------------------------------------------------

PUBLIC_PAGES = [
    "/",
    "/fr/",
    "/es/",
    "/?theme=promotion&q=presidency",
    "/?theme=norm&status=achieved",  # no result
    "/?as_of=not-a-date&theme=nope",  # errors shown
    "/?as_of=2013-09-13",
    "/fr/?as_of=2012-09-14",
    "/commitments/NOR-2012-10/",
    "/es/commitments/NOR-2012-10/?as_of=2013-01-01",
    "/commitments/NOR-2012-05/",
    "/commitments/NOR-2012-01/",  # universalisation: states that joined since, as context
    "/fr/commitments/NOR-2012-04/?as_of=2014-01-01",
    "/?as_of=2008-06-01",  # before the Convention was opened for signature
    "/es/?known_on=2008-01-01",  # no treaty event recorded by then
    STATEMENT,
    f"/fr{STATEMENT}?as_of=2013-09-13&known_on=2014-01-01",
    "/statements/",
    "/es/statements/?as_of=2012-01-01",  # none yet
    "/?delegation=Norway",
    "/?delegation=Atlantis",  # error shown
    "/no-such-page/",  # 404
    # Issue 14: the states, their map and table, and a state's page.
    "/states/",
    "/fr/states/?as_of=2012-06-30",
    "/es/states/?status=signatory&region=nope",  # error shown
    "/states/?status=state_party&region=europe",
    "/states/NO/",
    "/fr/states/NO/?as_of=2010-01-01&known_on=2026-01-01",
    "/states/LT/",
    # Issue 14: the meeting reports (the meetings and a state's accession: see the test).
    "/reports/",
    "/reports/4MSP/",
    "/fr/reports/3MSP/",  # the meeting before it, or the opening for signature
    "/es/reports/4MSP/?known_on=not-a-date",  # error shown
]


# A one-off JVM: the quick compiler only and a simple collector start it about twice as fast
# (measured: ~9 s against ~20 s for 20 pages on a busy 2-core machine); the schema's deep
# recursion then needs a bigger stack than the default.
JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss4m"]


def run_vnu(files: list[Path]) -> list[dict]:
    """The checker's messages about these files: one JVM for them all (~3 s)."""
    java = shutil.which("java")
    if not java or not VNU_JAR.exists():
        pytest.fail(
            "The Nu HTML Checker needs Java 17+ and node_modules/vnu-jar: run `make checkers` "
            "(make test runs it)."
        )
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own files
        [java, *JVM_FLAGS, "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always"]
        + [str(file) for file in files],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stderr)["messages"]


def html_errors(pages: dict[str, bytes], tmp_path) -> dict[str, list[str]]:
    """Each page's HTML errors, by the name it was given."""
    files = {}
    for number, (name, html) in enumerate(pages.items()):
        files[name] = tmp_path / f"page-{number}.html"
        files[name].write_bytes(html)
    by_file = {path.name: name for name, path in files.items()}
    errors = {name: dangling_references(html) for name, html in pages.items()}
    for message in run_vnu(list(files.values())):
        if message["type"] in {"error", "non-document-error"}:
            name = by_file.get(message.get("url", "").rpartition("/")[2], "?")
            where = f"line {message.get('lastLine', '?')}"
            errors.setdefault(name, []).append(f"{where}: {message['message']}")
    return {name: found for name, found in errors.items() if found}


class _References(HTMLParser):
    """Collects ids, and the ids that attributes point at."""

    POINTERS = ("aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage", "for")

    def __init__(self):
        super().__init__()
        self.ids, self.pointers = set(), []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids.add(value)
            elif name in self.POINTERS and value:
                self.pointers += [(name, target) for target in value.split()]


def dangling_references(html: bytes) -> list[str]:
    """ARIA and label references to ids that are not in the page (vnu leaves these to axe,
    which sees only what a browser renders)."""
    parser = _References()
    parser.feed(html.decode())
    return [
        f"{name} points at missing #{target}"
        for name, target in parser.pointers
        if target not in parser.ids
    ]


def test_every_kind_of_page_is_valid_html(client, tracker, tmp_path):
    pages = {}
    # A second delegation: the dashboard breaks its figures down by delegation.
    ruritania = DelegationFactory(name="Ruritania", code="RUR")
    CommitmentFactory(statement=StatementFactory(delegation=ruritania), reference="RUR-1")
    # Issue 14: two meetings, and a state that joined between them.
    MeetingFactory(code="3MSP", start=datetime.date(2012, 9, 11), end=datetime.date(2012, 9, 14))
    MeetingFactory(code="4MSP", start=datetime.date(2013, 9, 9), end=datetime.date(2013, 9, 13))
    TreatyEventFactory(state=StateFactory(country="FR"), date=datetime.date(2013, 1, 15))
    for url in PUBLIC_PAGES:
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        pages[url] = response.content

    # Error pages as Django renders them (django.views.defaults with our templates).
    request = RequestFactory().get("/")
    pages["400 page"] = defaults.bad_request(request, exception=None).content
    pages["500 page"] = defaults.server_error(request).content

    # The login page, then the staff page as an editor sees it (every row's form).
    pages["/admin/login/"] = client.get("/admin/login/").content
    editor = member_of("editors")
    Commitment.objects.filter(reference="NOR-2012-03").update(owner=editor)
    client.force_login(editor)
    pages["/staff/"] = client.get("/staff/?show=all").content
    # A follow-up refused without JavaScript: the whole page, with the row's errors.
    refused = client.post(
        "/staff/commitments/NOR-2012-03/follow-ups/", {"status": "nope", "happened_on": ""}
    )
    pages["/staff/ with errors"] = refused.content
    # Issue 13: the language page, and a language the site does not offer refused on it.
    pages["/staff/language/"] = client.get("/staff/language/").content
    pages["/staff/language/ refused"] = client.post("/staff/language/", {"language": "xx"}).content
    # Issue 13: the translation queue, with a follow-up's form, and the form refused.
    follow_up = record_follow_up(
        Commitment.objects.get(reference="NOR-2012-03"),
        status=Status.ON_TRACK,
        by=editor,
        public_note="Met the ministry",
        evidence_url="https://example.org/",
        evidence_label="Minutes",
    )
    pages["/staff/translations/"] = client.get("/staff/translations/?language=es").content
    pages["/staff/translations/ refused"] = client.post(
        f"/staff/follow-ups/{follow_up.pk}/translation/es/", {}
    ).content
    # Issue 15: the second review's queue (another editor's proposal, with its forms), a send
    # back refused (no note), and the author's staff page with one sent back and one waiting.
    author = member_of("editors")
    waiting = propose_follow_up(
        Commitment.objects.get(reference="NOR-2012-07"),
        status=Status.IN_PROGRESS,
        by=author,
        public_note="Regional workshop held",
        evidence_url="https://example.org/",
        evidence_label="Report",
        states=[StateFactory(country="TG")],
    )
    returned = propose_follow_up(
        Commitment.objects.get(reference="NOR-2012-10"), status=Status.IN_PROGRESS, by=author
    )
    send_back(returned, by=editor, note="Give the date it happened")
    pages["/staff/review/"] = client.get("/staff/review/").content
    pages["/staff/review/ refused"] = client.post(
        f"/staff/review/{waiting.pk}/send-back/", {}
    ).content
    client.force_login(author)
    pages["/staff/ with proposals"] = client.get("/staff/?show=all").content
    # Issue 15: the right of reply: the form, refused with errors, the thank-you page, a
    # published reply on the commitment's page, the moderation queue (a reject refused) and
    # the follow-up form opened from a reply.
    from commitments.models import ReplyOutcome, ReplySubmission
    from commitments.replies import decide

    def reply(**fields):
        return ReplySubmission.objects.create(
            commitment=Commitment.objects.get(reference="NOR-2012-03"), name="A", email="a@b.org",
            organisation="Ministry", text="Done.\nSee the link.", language="en",
            evidence_url="https://example.org/", **fields,
        )  # fmt: skip

    decide(reply(), ReplyOutcome.PUBLISHED, by=editor, sender_verified=True)
    decide(turned := reply(), ReplyOutcome.FOLLOW_UP, by=editor)
    waiting = reply()
    pages["/staff/replies/"] = client.get("/staff/replies/").content
    pages["/staff/replies/ refused"] = client.post(f"/staff/replies/{waiting.pk}/reject/").content
    pages["reply follow-up"] = client.get(f"/staff/replies/{turned.pk}/follow-up/").content
    client.logout()
    pages["reply page"] = client.get("/fr/commitments/NOR-2012-03/reply/").content
    pages["reply refused"] = client.post("/commitments/NOR-2012-03/reply/", {"text": "x"}).content
    pages["reply sent"] = client.get("/es/commitments/NOR-2012-03/reply/sent/").content
    pages["commitment with a reply"] = client.get("/commitments/NOR-2012-03/").content
    assert b"Reply from Ministry" in pages["commitment with a reply"]
    # A staff account in no group: 403.
    client.force_login(UserFactory(is_staff=True))
    forbidden = client.get("/staff/")
    assert forbidden.status_code == 403
    pages["403 page"] = forbidden.content

    # A page known to be wrong, checked in the same run (one JVM start for all): the check
    # can fail, and the checker really ran.
    pages["known bad"] = KNOWN_BAD_PAGE
    errors = html_errors(pages, tmp_path)
    known_bad = errors.pop("known bad", [])
    assert any("hx-get" in error for error in known_bad), known_bad
    assert any("aria-describedby points at missing" in error for error in known_bad), known_bad
    assert not errors, "\n".join(
        f"{name}: {len(found)} errors\n  " + "\n  ".join(found) for name, found in errors.items()
    )


KNOWN_BAD_PAGE = (
    b'<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>'
    b'<a href="/" hx-get="/">x</a><input aria-describedby="nowhere"></body></html>'
)


def test_admin_forms_of_ours_point_only_at_ids_they_hold(client, seeded):
    """Django renders aria-describedby="…_helptext" on fields with help text; the templates
    that lay out fields themselves must give the help text that id."""
    from commitments.models import Statement

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    statement = Statement.objects.get()
    propose = client.get(f"/admin/commitments/statement/{statement.pk}/propose/")
    ids = Commitment.objects.order_by("pk").values_list("pk", flat=True)[:2]
    bulk = client.post(
        "/admin/commitments/commitment/",
        {"action": "bulk_follow_up", "_selected_action": list(ids)},
    )
    for name, response in [("propose", propose), ("bulk", bulk)]:
        assert response.status_code == 200, name
        assert "aria-describedby" in response.content.decode(), name
        assert dangling_references(response.content) == [], name


# --- Atom feeds, read as a feed reader reads them --------------------------------------------

FEEDS = ["/feed/", "/fr/feed/", "/es/feed/", "/commitments/NOR-2012-10/feed/"]


def test_every_feed_is_well_formed_atom_with_author_id_and_updated(client, tracker, settings):
    settings.SITE_URL = "https://ccm.example.org"
    for url in [*FEEDS, "/commitments/NOR-2012-01/feed/"]:  # the last one has no entry
        feed = feedparser.parse(client.get(url).content)
        assert feed.bozo == 0, (url, feed.get("bozo_exception"))
        assert feed.version == "atom10", url
        assert feed.feed.author == "ccmtracker", url
        assert feed.feed.id.startswith("https://ccm.example.org/"), url
        assert feed.feed.updated, url
        for entry in feed.entries:
            assert entry.author == "ccmtracker", url
            assert all(entry.get(key) for key in ["id", "updated", "title", "link"]), url
    assert len(feedparser.parse(client.get("/feed/").content).entries) == 3


def test_feed_ids_do_not_depend_on_the_host_asked_for(client, tracker, settings):
    settings.SITE_URL = "https://ccm.example.org"
    settings.ALLOWED_HOSTS = ["ccm.example.org", "10.0.0.5", "testserver"]
    for url in FEEDS:
        seen = []
        for host in ["ccm.example.org", "10.0.0.5"]:
            feed = feedparser.parse(client.get(url, headers={"host": host}).content)
            seen.append([feed.feed.id] + [entry.id for entry in feed.entries])
        assert seen[0] == seen[1], url
        assert "10.0.0.5" not in str(seen[0]), url
    english, french = (feedparser.parse(client.get(url).content) for url in FEEDS[:2])
    assert english.feed.id == "https://ccm.example.org/feed/"
    assert french.feed.id == "https://ccm.example.org/fr/feed/"


# --- Headers on every response ----------------------------------------------------------------

EVERY_KIND_OF_RESPONSE = [
    "/",
    "/fr/commitments/NOR-2012-10/",
    "/feed/",
    "/data/commitments.csv",
    "/data/follow-ups.json",
    "/no-such-page/",
    "/healthz",
    "/staff/",  # a redirect to log in
    "/admin/login/",
    "/static/css/site.css",
]


def test_every_response_says_same_origin_and_turns_off_unused_features(client, tracker):
    for url in EVERY_KIND_OF_RESPONSE:
        for method in (client.get, client.head):
            response = method(url)
            assert response["Cross-Origin-Resource-Policy"] == "same-origin", url
            policy = response["Permissions-Policy"]
            assert "camera=()" in policy, url
            assert "geolocation=()" in policy, url


def wsgi(method, url):
    """The application as gunicorn calls it (the test client drops HEAD bodies itself)."""
    environ = RequestFactory().generic(method, url).environ
    status_headers = []
    # As Django's test client does: the request signals must not close the test's database
    # connection, which holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = WSGIHandler()(
            environ, lambda status, headers: status_headers.append((status, headers))
        )
        try:
            content = b"".join(body)
        finally:
            body.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, headers = status_headers[0]
    return status, dict(headers), content


def test_head_answers_the_headers_of_get_without_a_body(tracker):
    for url in ["/", "/feed/", "/data/commitments.csv", "/data/follow-ups.json", "/no-such-page/"]:
        get_status, get_headers, get_body = wsgi("GET", url)
        head_status, head_headers, head_body = wsgi("HEAD", url)
        assert get_body, url
        assert head_body == b"", url
        assert head_status == get_status, url
        assert head_headers["Content-Type"] == get_headers["Content-Type"], url
        if "Content-Length" in get_headers:
            assert head_headers["Content-Length"] == get_headers["Content-Length"], url
