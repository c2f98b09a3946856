"""The shared page cache: what it stores, for whom, and that a change shows at once."""

import contextlib
import datetime
import gzip
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.views.decorators.http import condition

from ccmtracker.httpcache import HttpCacheMiddleware
from ccmtracker.pagecache import (
    PublicPageCacheMiddleware,
    page_key,
    public_etag,
    public_page,
    rebuild_lock,
    rebuilt_key,
)
from commitments import changes
from commitments.changes import GENERATION_KEY, OUTDATED_KEY, data_cache, public_data_changed
from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory
from .html_forms import versions

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/commitments/NOR-2012-01/", {}),
        # Every public page, including those that vary on more request headers (a page
        # whose Vary names a header the cache key lacks is never stored).
        ("/", {}),
        ("/fr/?theme=norm", {}),
        ("/?theme=norm", {"HX-Request": "true", "HX-Target": "selection"}),
        ("/?page=1", {"HX-Request": "true", "HX-Target": "results"}),
        ("/statements/", {}),
        ("/statements/norway-2012-04-16-universalisation/", {}),
        ("/data/commitments.json", {}),
        ("/feed/", {}),
    ],
)
def test_anonymous_page_is_served_from_the_cache_without_a_query(
    client, seeded, django_assert_num_queries, url, headers
):
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get(url, headers=headers)
    assert again.status_code == 200
    body = b"".join(again.streaming_content) if again.streaming else again.content
    first_body = b"".join(first.streaming_content) if first.streaming else first.content
    assert body == first_body


def test_new_follow_up_is_visible_on_the_very_next_request(
    client, seeded, staff_user, django_capture_on_commit_callbacks
):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    client.get(commitment.get_absolute_url())
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True) as bumps:
        record_follow_up(
            commitment, status=Status.ON_TRACK, by=staff_user, public_note="Fresh news from Oslo"
        )
    assert len([bump for bump in bumps if bump.__name__ == "_bump"]) == 1  # once per change
    assert "Fresh news from Oslo" in client.get(commitment.get_absolute_url()).content.decode()
    assert "0 of 10 commitments assessed" not in client.get("/").content.decode()


def test_deleting_commitments_in_the_admin_outdates_cached_pages(
    client, seeded, staff_user, django_capture_on_commit_callbacks
):
    assert "NOR-2012-04" in client.get("/").content.decode()
    assert client.get("/commitments/NOR-2012-04/").status_code == 200
    admin = Client()
    admin.force_login(staff_user)
    pk = Commitment.objects.get(reference="NOR-2012-04").pk
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/commitments/commitment/",
            {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Commitment.objects.filter(pk=pk).exists()
    assert "NOR-2012-04" not in client.get("/").content.decode()
    assert client.get("/commitments/NOR-2012-04/").status_code == 404


def test_deleting_a_commitment_in_the_admin_outdates_cached_pages(
    client, seeded, staff_user, django_capture_on_commit_callbacks
):
    assert "NOR-2012-05" in client.get("/").content.decode()
    admin = Client()
    admin.force_login(staff_user)
    pk = Commitment.objects.get(reference="NOR-2012-05").pk
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/commitments/commitment/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert "NOR-2012-05" not in client.get("/").content.decode()


def test_a_write_around_the_app_reaches_cached_pages_at_the_next_uncached_read(
    client, seeded, django_capture_on_commit_callbacks
):
    """A bulk update or raw SQL skips the domain's paths; the triggers mark it, and the
    first request that is not served from the cache syncs it and outdates every page."""
    assert "NOR-2012-04" in client.get("/").content.decode()
    Commitment.objects.filter(reference="NOR-2012-04").update(published=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get("/?page=1").status_code == 200  # a page not cached yet
    assert "NOR-2012-04" not in client.get("/").content.decode()


def test_theme_change_in_the_admin_outdates_cached_pages(
    client, seeded, staff_user, django_capture_on_commit_callbacks
):
    theme = Commitment.objects.select_related("theme").get(reference="NOR-2012-01").theme
    client.get("/")
    admin = Client()
    admin.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/admin/commitments/theme/{theme.pk}/change/",
            {
                **versions(theme, "name", "description", name="Renamed theme for the test"),
                "slug": theme.slug,
                "position": theme.position,
            },
        )
    assert response.status_code == 302
    assert "Renamed theme for the test" in client.get("/").content.decode()


def test_staff_are_never_served_a_cached_page(
    client, staff_client, seeded, django_assert_max_num_queries
):
    client.logout()
    client.get("/")  # stored for anonymous visitors
    client.force_login(UserFactory(is_staff=True))
    with django_assert_max_num_queries(50) as captured:
        assert client.get("/").status_code == 200
    assert len(captured) > 0


def test_pages_seen_by_staff_are_never_stored(client, seeded, django_assert_max_num_queries):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    client.get("/")
    client.logout()
    client.cookies.clear()
    with django_assert_max_num_queries(50) as captured:
        client.get("/")
    assert len(captured) > 0


def test_response_that_sets_a_cookie_is_never_stored(rf):
    calls = []

    @public_page
    def view(request):
        calls.append(request)
        response = HttpResponse("hello")
        response.set_cookie("visitor", "42")
        return response

    middleware = PublicPageCacheMiddleware(lambda request: view(request))
    for _ in range(2):
        assert middleware(rf.get("/somewhere/")).cookies["visitor"].value == "42"
    assert len(calls) == 2


def test_only_views_marked_public_are_stored(rf):
    calls = []

    def view(request):
        calls.append(request)
        return HttpResponse("not public")

    middleware = PublicPageCacheMiddleware(view)
    middleware(rf.get("/private-thing/"))
    middleware(rf.get("/private-thing/"))
    assert len(calls) == 2


def test_htmx_fragment_and_full_page_are_cached_apart(client, seeded):
    full = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert "<html" in full.content.decode()
    assert "<html" not in fragment.content.decode()
    assert 'id="results"' in fragment.content.decode()
    assert "<html" in client.get("/").content.decode()
    assert "<html" not in client.get("/", headers={"HX-Request": "true"}).content.decode()
    assert "HX-Request" in full["Vary"]


def test_htmx_answers_for_different_targets_are_cached_apart(client, seeded):
    """A page of the list and a filter's answer for the same URL are different fragments."""
    page = {"HX-Request": "true", "HX-Target": "results"}
    selection = {"HX-Request": "true", "HX-Target": "selection"}
    assert client.get("/", headers=page).content.decode().lstrip().startswith('<div id="results"')
    answer = client.get("/", headers=selection)
    assert answer.content.decode().lstrip().startswith('<div id="selection"')
    assert "HX-Target" in answer["Vary"]
    assert client.get("/", headers=page).content.decode().lstrip().startswith('<div id="results"')


def test_an_export_etag_changes_with_the_day(db):
    """Verdicts lapse at midnight with no write: yesterday's ETag must not earn a 304."""
    request = RequestFactory().get("/data/commitments.json")
    today = public_etag(request)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.localdate", return_value=tomorrow):
        assert public_etag(request) != today


def test_compressed_and_plain_pages_are_cached_apart(client, seeded):
    plain = client.get("/")
    compressed = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert compressed["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in client.get("/")
    # The same page, but for its permanent link's moment (to the second): the two were
    # rendered apart, and under load a second may pass between them.
    moment = re.compile(rb"\d{4}-\d\d-\d\dT\d\d(:|%3A)\d\d(:|%3A)\d\dZ")
    assert moment.sub(b"MOMENT", gzip.decompress(compressed.content)) == moment.sub(
        b"MOMENT", plain.content
    )
    assert client.get("/", headers={"Accept-Encoding": "gzip"})["Content-Encoding"] == "gzip"


def test_each_language_is_cached_apart(client, seeded):
    assert 'lang="en"' in client.get("/").content.decode()
    assert 'lang="fr"' in client.get("/fr/").content.decode()
    assert 'lang="en"' in client.get("/").content.decode()


def test_internal_note_never_reaches_a_cached_page(client, seeded, staff_user):
    commitment = Commitment.objects.get(reference="NOR-2012-02")
    record_follow_up(
        commitment,
        status=Status.ON_TRACK,
        by=staff_user,
        public_note="Public",
        internal_note=CANARY,
    )
    for _ in range(2):
        for url in ("/", commitment.get_absolute_url(), "/feed/", "/data/follow-ups.csv"):
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert CANARY not in body.decode()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:  # noqa: S310
        return response.read().decode()


@pytest.mark.django_db(False)
def test_follow_up_recorded_by_one_process_is_seen_at_once_by_every_gunicorn_worker(tmp_path):
    """Real processes: gunicorn with two workers caching pages in the shared file cache, and
    a third process recording a follow-up; every next response shows it."""
    env = {
        # PYTEST_VERSION stays: the test settings (static files from the finders, no HTTPS).
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CACHE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_DIR": str(tmp_path / "cache"),
        "DJANGO_SECRET_KEY": "test-only",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PAGE_CACHE_SECONDS": "300",
    }
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)  # noqa: S603
    subprocess.run([*manage, "seed"], env=env, check=True, cwd=ROOT, capture_output=True)  # noqa: S603
    port = _free_port()
    gunicorn = str(Path(python).parent / "gunicorn")
    server = subprocess.Popen(  # noqa: S603
        [gunicorn, "ccmtracker.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--log-level", "error"],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                _fetch(port, "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        path = "/commitments/NOR-2012-03/"
        before = [_fetch(port, path) for _ in range(8)]
        assert all("Written by another process" not in page for page in before)
        assert any((tmp_path / "cache").iterdir()), "the workers stored nothing in the cache"
        record = (
            "from django.contrib.auth.models import User; "
            "from commitments.models import Commitment; "
            "from commitments.records import record_follow_up; "
            "user = User.objects.create_user('writer'); "
            "record_follow_up(Commitment.objects.get(reference='NOR-2012-03'), "
            "status='on_track', by=user, public_note='Written by another process')"
        )
        subprocess.run([*manage, "shell", "-c", record], env=env, check=True, cwd=ROOT)  # noqa: S603
        after = [_fetch(port, path) for _ in range(8)]
        assert all("Written by another process" in page for page in after)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_many_commitments_make_more_pages_not_longer_ones(client, db):
    user = UserFactory()
    for commitment in CommitmentFactory.create_batch(60):
        record_follow_up(commitment, status=Status.IN_PROGRESS, by=user)
    first = client.get("/").content.decode()
    assert first.count('<tr id="row-') == 50
    assert "Page 1 of 2" in first
    assert "60 commitments" in first
    second = client.get("/?page=2").content.decode()
    assert second.count('<tr id="row-') == 10
    fragment = client.get("/?page=2", headers={"HX-Request": "true"}).content.decode()
    assert fragment.count('<tr id="row-') == 10
    assert "<html" not in fragment


def test_dashboard_variants_share_one_progress_history_until_something_changes(
    client, seeded, staff_user, django_capture_on_commit_callbacks
):
    def history_queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in captured if 'FROM "commitments_progresstotal"' in q["sql"]]

    # The unfiltered dashboard in every language shares one history (a filtered one charts
    # its own selection, from the commitments' steps).
    assert history_queries("/")
    assert not history_queries("/fr/")
    assert not history_queries("/es/?page=1")
    with django_capture_on_commit_callbacks(execute=True):
        record_follow_up(
            Commitment.objects.get(reference="NOR-2012-01"), status=Status.ON_TRACK, by=staff_user
        )
    assert history_queries("/es/")


# --- An outdated page while one worker rebuilds it (PAGE_CACHE_STALE_SECONDS) -------------------
# Middleware-level, with a view that says how many times it was built: "build 1", "build 2"…
# Time is never waited for: the tests write the generation and the record of when it was
# outdated as if they had been written that many seconds ago.


def _counting_view():
    builds = []

    @public_page
    @condition(etag_func=public_etag)
    def view(request):
        builds.append(request)
        return HttpResponse(f"build {len(builds)}")

    return view, builds


def _seconds_ago(seconds):
    """A generation (or a record of one) written `seconds` ago."""
    return f"{time.time_ns() - int(seconds * 1e9):x}"


def _change(capture):
    """A change to the public data, committed: what public_data_changed() runs on commit.

    (Inside the test's one transaction, which never commits, a second public_data_changed()
    is folded into the first: the bump runs here as each commit would run it.)"""
    with capture(execute=True) as callbacks:
        public_data_changed()
    if not callbacks:
        changes._bump()


@pytest.fixture
def stale_window(settings):
    settings.PAGE_CACHE_STALE_SECONDS = 5
    return settings


@pytest.fixture
def rebuilding_elsewhere():
    """(hold, release): another worker takes the page's rebuild lock (the real one: on the
    file cache an flock, which a second descriptor in this process cannot take either)."""
    with contextlib.ExitStack() as stack:

        def hold(path="/page/"):
            assert stack.enter_context(rebuild_lock(page_key(RequestFactory().get(path))))

        yield hold, stack.close


def test_outdated_page_is_served_while_another_worker_rebuilds_it(
    rf, stale_window, django_capture_on_commit_callbacks, rebuilding_elsewhere
):
    hold_lock, _ = rebuilding_elsewhere
    # The site was quiet for an hour: the change, not the page's age, starts the window.
    cache.set(GENERATION_KEY, _seconds_ago(3600), timeout=None)
    view, builds = _counting_view()
    middleware = PublicPageCacheMiddleware(view)
    assert middleware(rf.get("/page/")).content == b"build 1"
    _change(django_capture_on_commit_callbacks)
    hold_lock()
    for _ in range(3):
        assert middleware(rf.get("/page/")).content == b"build 1"
    assert len(builds) == 1


def test_the_request_that_takes_the_lock_rebuilds_while_the_others_get_the_previous_page(
    rf, stale_window, django_capture_on_commit_callbacks
):
    served_meanwhile = []
    builds = []

    @public_page
    def view(request):
        builds.append(request)
        if len(builds) == 2:  # mid-rebuild, another request for the same page arrives
            served_meanwhile.append(middleware(rf.get("/page/")).content)
        return HttpResponse(f"build {len(builds)}")

    middleware = PublicPageCacheMiddleware(view)
    assert middleware(rf.get("/page/")).content == b"build 1"
    _change(django_capture_on_commit_callbacks)
    assert middleware(rf.get("/page/")).content == b"build 2"
    assert served_meanwhile == [b"build 1"]
    assert middleware(rf.get("/page/")).content == b"build 2"
    # A change right after the rebuild: the page is rebuilt at most once per rebuild_interval(),
    # so until that has passed the page just built is served (within the window).
    _change(django_capture_on_commit_callbacks)
    assert middleware(rf.get("/page/")).content == b"build 2"
    cache.delete(rebuilt_key(page_key(rf.get("/page/"))))  # as if the interval had passed
    assert middleware(rf.get("/page/")).content == b"build 3"
    assert len(builds) == 3


@pytest.mark.parametrize(("changed_seconds_ago", "served"), [(4, b"build 1"), (6, b"build 2")])
def test_an_outdated_page_is_never_served_past_the_window(
    rf,
    stale_window,
    django_capture_on_commit_callbacks,
    changed_seconds_ago,
    served,
    rebuilding_elsewhere,
):
    hold_lock, _ = rebuilding_elsewhere
    view, builds = _counting_view()
    middleware = PublicPageCacheMiddleware(view)
    middleware(rf.get("/page/"))
    before = cache.get(GENERATION_KEY)
    _change(django_capture_on_commit_callbacks)
    # The change happened that long ago, and another worker still holds the rebuild lock.
    cache.set(OUTDATED_KEY, {before: _seconds_ago(changed_seconds_ago)})
    hold_lock()
    assert middleware(rf.get("/page/")).content == served


def test_without_a_record_of_the_change_the_page_counts_as_outdated_since_it_was_built(
    rf, stale_window, django_capture_on_commit_callbacks, rebuilding_elsewhere
):
    hold_lock, _ = rebuilding_elsewhere
    cache.set(GENERATION_KEY, _seconds_ago(60), timeout=None)
    view, builds = _counting_view()
    middleware = PublicPageCacheMiddleware(view)
    middleware(rf.get("/page/"))
    before = cache.get(GENERATION_KEY)
    _change(django_capture_on_commit_callbacks)
    records = cache.get(OUTDATED_KEY)
    assert before in records  # the bump noted when `before` was outdated…
    del records[before]  # …and the note is lost (expired, evicted, or to a racing bump)
    cache.set(OUTDATED_KEY, records)
    hold_lock()
    assert middleware(rf.get("/page/")).content == b"build 2"


def test_an_outdated_page_is_kept_by_no_http_cache(
    rf, stale_window, django_capture_on_commit_callbacks, rebuilding_elsewhere
):
    """Served outdated while another worker rebuilds it: nginx or a CDN must not keep it for
    max-age more (ccmtracker/httpcache.py), or a change would take that much longer."""
    hold_lock, _ = rebuilding_elsewhere
    view, builds = _counting_view()
    middleware = HttpCacheMiddleware(PublicPageCacheMiddleware(view))
    first = middleware(rf.get("/page/"))
    assert first["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
    assert middleware(rf.get("/page/"))["Cache-Control"] == first["Cache-Control"]
    _change(django_capture_on_commit_callbacks)
    hold_lock()
    served = middleware(rf.get("/page/"))
    assert served.content == b"build 1"
    assert served["Cache-Control"] == "public, max-age=0, stale-while-revalidate=300"


def test_no_window_means_every_request_after_a_change_sees_it(
    rf, settings, django_capture_on_commit_callbacks, rebuilding_elsewhere
):
    hold_lock, _ = rebuilding_elsewhere
    settings.PAGE_CACHE_STALE_SECONDS = 0
    view, builds = _counting_view()
    middleware = PublicPageCacheMiddleware(view)
    middleware(rf.get("/page/"))
    _change(django_capture_on_commit_callbacks)
    hold_lock()
    assert middleware(rf.get("/page/")).content == b"build 2"


def test_an_outdated_page_keeps_its_own_etag(
    rf, stale_window, django_capture_on_commit_callbacks, rebuilding_elsewhere
):
    hold_lock, release_lock = rebuilding_elsewhere
    view, builds = _counting_view()
    middleware = PublicPageCacheMiddleware(view)
    first = middleware(rf.get("/page/"))
    etag = first["ETag"]
    _change(django_capture_on_commit_callbacks)
    hold_lock()
    served = middleware(rf.get("/page/"))
    assert served.content == b"build 1"
    assert served["ETag"] == etag  # the page it is, not the current generation's
    # A client that has this page is told it has the page being served…
    assert middleware(rf.get("/page/", headers={"If-None-Match": etag})).status_code == 304
    # …and one that already has the rebuilt page (its ETag names the current generation) is
    # never sent the older one: the view answers it.
    current = public_etag(rf.get("/page/"))
    assert current != etag
    assert middleware(rf.get("/page/", headers={"If-None-Match": current})).status_code == 304
    assert len(builds) == 1
    release_lock()
    rebuilt = middleware(rf.get("/page/"))
    assert (rebuilt.content, rebuilt["ETag"]) == (b"build 2", current)


def test_the_notes_of_when_generations_were_outdated_stay_few(
    stale_window, django_capture_on_commit_callbacks
):
    cache.set(OUTDATED_KEY, {_seconds_ago(3601): _seconds_ago(3600)})
    before = cache.get(GENERATION_KEY) or changes.current_generation()
    _change(django_capture_on_commit_callbacks)
    assert list(cache.get(OUTDATED_KEY)) == [before]


@pytest.mark.parametrize("backend", ["file cache", "other caches (add)"])
def test_one_rebuild_lock_per_page_at_a_time(backend):
    store = data_cache() if backend == "file cache" else LocMemCache("rebuild-lock-test", {})
    assert isinstance(data_cache(), FileBasedCache)
    with (
        rebuild_lock("page:0123abcd", store) as first,
        rebuild_lock("page:0123abcd", store) as second,
    ):
        assert (first, second) == (True, False)
    with rebuild_lock("page:0123abcd", store) as again:
        assert again


@pytest.mark.django_db(False)
def test_a_rebuild_lock_dies_with_its_worker(settings):
    """A worker killed mid-rebuild (kill -9) leaves no lock behind."""
    hold = (
        "import sys, time, django; django.setup(); "
        "from ccmtracker.pagecache import rebuild_lock; "
        "lock = rebuild_lock('page:0123abcd'); print(lock.__enter__(), flush=True); "
        "time.sleep(600)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccmtracker.settings",
        "CACHE_DIR": str(settings.CACHES["default"]["LOCATION"]),
    }
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", hold], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout.readline().strip() == "True"
        with rebuild_lock("page:0123abcd") as mine:
            assert not mine
    finally:
        worker.kill()
        worker.wait()
        worker.stdout.close()
    with rebuild_lock("page:0123abcd") as mine:
        assert mine
