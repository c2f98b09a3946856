"""The shared page cache: what it stores, for whom, and that a change shows at once."""

import gzip
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ccmtracker.pagecache import PublicPageCacheMiddleware, public_page
from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def test_anonymous_page_is_served_from_the_cache_without_a_query(
    client, seeded, django_assert_num_queries
):
    first = client.get("/commitments/NOR-2012-01/")
    with django_assert_num_queries(0):
        again = client.get("/commitments/NOR-2012-01/")
    assert again.status_code == 200
    assert again.content == first.content


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
                "name": "Renamed theme for the test",
                "slug": theme.slug,
                "description": theme.description,
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


def test_compressed_and_plain_pages_are_cached_apart(client, seeded):
    plain = client.get("/")
    compressed = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert compressed["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in client.get("/")
    assert gzip.decompress(compressed.content) == plain.content
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

    assert history_queries("/")
    assert not history_queries("/fr/")
    assert not history_queries("/?status=on_track")
    with django_capture_on_commit_callbacks(execute=True):
        record_follow_up(
            Commitment.objects.get(reference="NOR-2012-01"), status=Status.ON_TRACK, by=staff_user
        )
    assert history_queries("/?status=off_track")
