"""Fault injection: what the site answers when a service it needs is gone or the input is
hostile. Each fault gives its expected answer and writes nothing it should not.

No shared service is stopped: Redis is pointed at a closed port in this process, and the
database at a closed port (or a SQLite file in a missing folder) in a child process, whose
settings are read at start-up.
"""

import csv
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ccmtracker import failsoft
from ccmtracker.settings import redis_cache
from commitments.models import NOTE_MAX_LENGTH, Commitment, FollowUp
from commitments.records import record_follow_up
from commitments.resources import CommitmentResource
from commitments.spreadsheets import neutralise

from .factories import UserFactory
from .html_forms import versions
from .test_staff import follow_up_data, record_url

BASE_DIR = Path(__file__).resolve().parent.parent
CLOSED_REDIS = "redis://127.0.0.1:1/0"


def _stdout_handler():
    return next(h for h in logging.getLogger("django").handlers if h.name == "stdout")


def _as_logged(records):
    """The records as the stdout handler writes them, after its filters."""
    handler = _stdout_handler()
    return [handler.format(r) for r in records if handler.filter(r)]


# --- Redis unreachable ------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    failsoft._health.clear()
    # The production configuration for a Redis nobody answers at.
    settings.CACHES = {"default": redis_cache(CLOSED_REDIS)}
    yield
    failsoft._health.clear()


def test_redis_down_public_pages_are_served_uncached_and_logged_once(
    client, seeded, redis_down, caplog
):
    with caplog.at_level(logging.WARNING):
        for path in ["/", "/", "/commitments/NOR-2012-01/", "/fr/", "/data/commitments.csv"]:
            response = client.get(path)
            assert response.status_code == 200, path
    down = [r for r in caplog.records if r.name == "ccmtracker.failsoft"]
    assert len(down) == 1
    assert "cache unavailable" in down[0].getMessage()
    assert down[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_redis_down_etag_never_matches_so_no_client_keeps_a_stale_page(client, seeded, redis_down):
    first = client.get("/data/commitments.json")
    again = client.get("/data/commitments.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200


def test_redis_down_probes_say_alive_and_ready_with_the_cache_degraded(client, db, redis_down):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert "cache unavailable" in ready.content.decode()


def test_readyz_with_the_cache_up_says_ok_only(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_redis_down_staff_log_in_and_record_a_follow_up(
    second_review_off, client, seeded, redis_down
):
    UserFactory(username="ana", is_staff=True, is_superuser=True)
    response = client.post(
        "/admin/login/?next=/staff/", {"username": "ana", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = client.post(record_url("NOR-2012-07"), follow_up_data(commitment))
    assert response.status_code == 302
    assert FollowUp.objects.count() == 1
    # The public page shows it at once, the cache being out of the way.
    assert "Met the ministry" in Client().get("/commitments/NOR-2012-07/").content.decode()


def test_redis_back_deletes_what_this_process_failed_to_write(settings, db):
    """A generation written before the outage must not come back as current after it."""
    from django.core.cache import cache
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    url = os.environ.get("CI_REDIS_URL", "redis://127.0.0.1:6379/1")
    try:
        Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except RedisConnectionError:
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    failsoft._health.clear()
    settings.CACHES = {"default": {**redis_cache(url), "KEY_PREFIX": f"ccm-faults-{os.getpid()}"}}
    try:
        cache.set("generation", "before", None)
        # The outage, as the backend sees it: a write fails, then Redis answers again.
        cache._failed(RedisConnectionError("test outage"), [cache.make_key("generation")])
        assert cache.get("generation") is None  # down: every read is a miss
        cache._health.down_until = 0
        assert cache.get("generation") is None  # back: the outdated value was deleted
        cache.set("generation", "after", None)
        assert cache.get("generation") == "after"
    finally:
        cache.delete("generation")
        failsoft._health.clear()


# --- Database unreachable -----------------------------------------------------------------------

DATABASE_DOWN_SCRIPT = """
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "ccmtracker.settings"
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
answers = {}
anonymous = Client(raise_request_exception=False)
signed_in = Client(raise_request_exception=False)
signed_in.cookies["sessionid"] = "a-session-the-database-cannot-look-up"
for name, client, path in [
    ("dashboard", anonymous, "/"),
    ("commitment", anonymous, "/commitments/NOR-2012-01/"),
    ("commitments.csv", anonymous, "/data/commitments.csv"),
    ("follow-ups.csv", anonymous, "/data/follow-ups.csv"),
    ("follow-ups.json", anonymous, "/data/follow-ups.json"),
    ("feed", anonymous, "/feed/"),
    ("staff", signed_in, "/staff/"),
    ("admin", signed_in, "/admin/commitments/commitment/"),
    ("healthz", anonymous, "/healthz"),
    ("readyz", anonymous, "/readyz"),
]:
    response = client.get(path)
    body = b"".join(response) if response.streaming else response.content
    answers[name] = {
        "status": response.status_code,
        "retry_after": response.get("Retry-After"),
        "body": body.decode(errors="replace"),
    }
print("ANSWERS " + json.dumps(answers))
"""


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_database_down_answers_503_with_retry_after_and_probes_tell_apart(database, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.update(
        DJANGO_DEBUG="",
        DJANGO_LOG_FORMAT="text",
        CACHE_DIR=str(tmp_path / "cache"),
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    if database == "postgres":
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:1/ccmtracker"
    else:
        env["SQLITE_PATH"] = str(tmp_path / "missing-folder" / "db.sqlite3")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", DATABASE_DOWN_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("ANSWERS "))
    answers = json.loads(line.removeprefix("ANSWERS "))
    for name in ["dashboard", "commitment", "commitments.csv", "follow-ups.csv", "feed", "staff"]:
        answer = answers[name]
        assert answer["status"] == 503, (name, answer)
        assert answer["retry_after"] == "30"
        assert "Temporarily unavailable" in answer["body"]
        # An export fails before its first byte: no header row that looks like empty data.
        assert "reference" not in answer["body"]
        assert str(BASE_DIR) not in answer["body"]
    assert answers["follow-ups.json"]["status"] == 503
    assert answers["admin"]["status"] == 503
    assert answers["healthz"]["status"] == 200
    assert answers["readyz"]["status"] == 503
    # Logged as one line a request, never a traceback.
    assert "Traceback" not in result.stdout + result.stderr
    assert "database unavailable" in result.stdout


# --- Bad requests ---------------------------------------------------------------------------

PATHS = ["/", "/fr/", "/staff/", "/admin/", "/admin/login/", "/data/commitments.csv", "/nowhere/"]


def test_a_host_we_do_not_serve_gets_400_logged_as_one_line(client, seeded, caplog):
    for path in PATHS:
        caplog.clear()
        response = client.get(path, HTTP_HOST="evil.example")
        assert response.status_code == 400, path
        assert "Bad request" in response.content.decode()
        assert "evil.example" not in response.content.decode()
        logged = _as_logged(r for r in caplog.records if r.name.startswith("django"))
        assert logged
        assert all("Traceback" not in line for line in logged)


def test_a_form_in_another_charset_gets_400_and_writes_nothing(seeded):
    for signed_in in (False, True):
        client = Client(enforce_csrf_checks=True)
        if signed_in:
            client.force_login(UserFactory(is_staff=True, is_superuser=True))
        client.get("/staff/")
        token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else "x"
        for path in [*PATHS, "/staff/commitments/NOR-2012-07/follow-ups/"]:
            response = client.generic(
                "POST",
                path,
                "c1-status=in_progress&c1-public_note=x".encode("utf-16"),
                content_type="application/x-www-form-urlencoded; charset=utf-16",
                HTTP_X_CSRFTOKEN=token,
            )
            if path == "/nowhere/":
                assert response.status_code == 404
            elif signed_in:
                assert response.status_code == 400, path
            else:
                assert response.status_code in {400, 403}, path
    assert FollowUp.objects.count() == 0


def test_a_refused_permission_is_logged_as_one_line(client, viewer, seeded, caplog):
    client.force_login(viewer)
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    response = client.post(record_url("NOR-2012-07"), follow_up_data(commitment))
    assert response.status_code == 403
    logged = _as_logged(r for r in caplog.records if r.name == "django.request")
    assert len(logged) == 1
    assert "Traceback" not in logged[0]
    assert "Forbidden" in logged[0]


# --- CSV import -------------------------------------------------------------------------------


def commitments_csv(rows=1, *, reference="NOR-X-{i:05d}", **cells):
    """A commitment import file: `rows` new commitments quoting the seeded statement. Copies
    of the first exported row, read and written as CSV: its criteria span several lines."""
    header, row = list(csv.reader(io.StringIO(CommitmentResource().export().csv)))[:2]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for i in range(rows):
        line = [reference.format(i=i), *row[1:]]
        for old, new in cells.items():
            line = [cell.replace(old, new) for cell in line]
        writer.writerow(line)
    return out.getvalue()


def admin_import(client, text, name="commitments.csv"):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(
        "/admin/commitments/commitment/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )


def assert_refused_cleanly(response, *messages):
    html = response.content.decode()
    assert response.status_code == 200
    for message in messages:
        assert message in html
    assert "Confirm import" not in html
    assert "Traceback" not in html
    assert str(BASE_DIR) not in html
    assert ".venv" not in html
    return html


def snapshot():
    return (
        list(Commitment.objects.order_by("pk").values()),
        list(Commitment.articles.through.objects.order_by("pk").values()),
        Commitment.history.count(),
    )


def test_import_over_the_row_limit_is_refused_whole(client, administrator, seeded, settings):
    settings.IMPORT_MAX_ROWS = 5
    client.force_login(administrator)
    before = snapshot()
    response = admin_import(client, commitments_csv(6))
    assert_refused_cleanly(response, "This file has 6 rows; an import takes at most 5.")
    assert snapshot() == before


def test_import_over_the_size_limit_is_refused_before_reading(
    client, administrator, seeded, settings
):
    settings.IMPORT_MAX_BYTES = 1000
    client.force_login(administrator)
    before = snapshot()
    response = admin_import(client, commitments_csv(10))
    assert_refused_cleanly(response, "an import takes at most 1,000 bytes")
    assert snapshot() == before


def test_import_with_a_repeated_reference_is_a_row_error(client, administrator, seeded):
    client.force_login(administrator)
    before = snapshot()
    text = commitments_csv(4, reference="NOR-X-{i}").replace("NOR-X-3,", "NOR-X-0,", 1)
    # NOR-X-0 again, on line 4
    response = admin_import(client, text)
    assert_refused_cleanly(response, "“NOR-X-0” is already on line 1 of this file")
    assert snapshot() == before


def test_import_with_wrong_headers_says_which_columns_without_a_traceback(
    client, administrator, seeded
):
    client.force_login(administrator)
    before = snapshot()
    text = commitments_csv(2).replace("reference,statement", "ref,statement", 1)
    response = admin_import(client, text)
    assert_refused_cleanly(response, "The first line of the file must name its columns")
    text = commitments_csv(2).replace(",title,", ",titel,", 1)
    assert_refused_cleanly(admin_import(client, text), "titel")
    assert snapshot() == before


def test_import_with_a_nul_character_is_refused_on_every_database(client, administrator, seeded):
    client.force_login(administrator)
    before = snapshot()
    response = admin_import(
        client, commitments_csv(2, **{"Continuous work": "Continuous\x00 work"})
    )
    assert_refused_cleanly(response, "NUL character")
    assert snapshot() == before


def test_preview_queries_do_not_grow_with_the_file(
    client, administrator, seeded, django_assert_max_num_queries
):
    client.force_login(administrator)
    small, large = commitments_csv(2), commitments_csv(300)
    with django_assert_max_num_queries(12):
        assert "Confirm import" in admin_import(client, small).content.decode()
    with django_assert_max_num_queries(12):
        assert "Confirm import" in admin_import(client, large).content.decode()
    assert not Commitment.objects.filter(reference__startswith="NOR-X-").exists()


def test_preview_then_confirm_writes_what_the_preview_showed(client, administrator, seeded):
    client.force_login(administrator)
    preview = admin_import(client, commitments_csv(3))
    assert "Confirm import" in preview.content.decode()
    assert not Commitment.objects.filter(reference__startswith="NOR-X-").exists()
    confirm = client.post(
        "/admin/commitments/commitment/process_import/", preview.context["confirm_form"].initial
    )
    assert confirm.status_code == 302
    created = Commitment.objects.filter(reference__startswith="NOR-X-")
    assert created.count() == 3
    original = Commitment.objects.get(reference="NOR-2012-01")
    for commitment in created:
        assert list(commitment.articles.all()) == list(original.articles.all())
        assert commitment.history.count() >= 1


# --- Formula cells in every CSV -----------------------------------------------------------------

FORMULAS = [
    "=1+1",
    "@SUM(1,1)",
    "+1",
    "-1",
    "\uff1d1+1",
    "\uff20SUM(1)",
    "\uff0b1",
    "\uff0d1",
    "\tx",
]


def test_admin_export_neutralises_formula_cells_like_the_public_export(staff_client, seeded):
    commitments = list(Commitment.objects.order_by("reference")[: len(FORMULAS)])
    for commitment, formula in zip(commitments, FORMULAS, strict=True):
        Commitment.objects.filter(pk=commitment.pk).update(title=formula)
    exported = CommitmentResource().export()
    titles = {row[0]: row[3] for row in exported}
    for commitment, formula in zip(commitments, FORMULAS, strict=True):
        assert titles[commitment.reference] == neutralise(formula) == "'" + formula
    response = staff_client.post(
        "/admin/commitments/commitment/export/",
        {"format": "0", "resource": "0", "commitmentresource_title": "on"},
    )
    body = response.content.decode()
    assert "'=1+1" in body
    assert ",=1+1" not in body


def test_an_exported_formula_cell_imports_back_unchanged(administrator, client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    Commitment.objects.filter(pk=commitment.pk).update(title="=1+1")
    before = snapshot()
    dataset = CommitmentResource().export()
    result = CommitmentResource().import_data(dataset, dry_run=False, raise_errors=True)
    assert {row.import_type for row in result.rows} == {"skip"}
    assert snapshot() == before


# --- Follow-ups: note length, dates, NUL characters, on every way in ----------------------------

HUGE_NOTE = "x" * (NOTE_MAX_LENGTH + 1)
BAD_FOLLOW_UPS = {
    "huge public note": ({"public_note": HUGE_NOTE}, "at most 10000 characters"),
    "huge internal note": ({"internal_note": HUGE_NOTE}, "at most 10000 characters"),
    "year one": ({"happened_on": "0001-01-01"}, "before the commitment was made"),
    "before its statement": ({"happened_on": "2012-04-15"}, "before the commitment was made"),
    "NUL in a note": ({"public_note": "Met\x00 them"}, "Null characters are not allowed"),
}


def test_staff_page_refuses_a_bad_follow_up_and_keeps_nothing(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    for case, (fields, message) in BAD_FOLLOW_UPS.items():
        data = follow_up_data(commitment, **fields)
        response = staff_client.post(record_url("NOR-2012-07"), data)
        assert response.status_code == 422, case
        assert message in response.content.decode(), case
    assert FollowUp.objects.count() == 0


def test_admin_bulk_follow_up_refuses_a_bad_follow_up(staff_client, seeded):
    for case, (fields, message) in BAD_FOLLOW_UPS.items():
        assert message in bulk_follow_up(staff_client, fields), case
    assert FollowUp.objects.count() == 0


def bulk_follow_up(staff_client, fields):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]))
    data = {
        "action": "bulk_follow_up",
        "_selected_action": [c.pk for c in chosen],
        "apply": "1",
        **{f"version-{c.pk}": c.version for c in chosen},
        "status": "on_track",
        "happened_on": "2013-05-02",
        **fields,
    }
    response = staff_client.post("/admin/commitments/commitment/", data)
    assert response.status_code == 422
    return response.content.decode()


def test_admin_change_form_refuses_a_bad_follow_up(staff_client, seeded):
    for case, (fields, message) in BAD_FOLLOW_UPS.items():
        assert message in change_form_follow_up(staff_client, fields), case
    assert FollowUp.objects.count() == 0


def change_form_follow_up(staff_client, fields):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    data = {
        "statement": commitment.statement_id,
        "reference": commitment.reference,
        **versions(commitment, "title", "reading", "criteria"),
        "quote": commitment.quote,
        "theme": commitment.theme_id,
        "kind": commitment.kind,
        "articles": [a.pk for a in commitment.articles.all()],
        "weight": commitment.weight,
        "owner": "",
        "next_review": "",
        "published": "on",
        "based_on_version": commitment.version,
    }
    for prefix, total in (("follow_ups", 1), ("follow_ups-2", 0)):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": total,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(
        {
            "follow_ups-0-status": "in_progress",
            "follow_ups-0-happened_on": "2013-05-02",
            # The admin shows the note's language versions side by side: English is _en.
            **{
                f"follow_ups-0-{name}{'_en' if name == 'public_note' else ''}": value
                for name, value in fields.items()
            },
        }
    )
    response = staff_client.post(f"/admin/commitments/commitment/{commitment.pk}/change/", data)
    assert response.status_code == 200
    return response.content.decode()


def test_a_follow_up_on_its_statement_day_is_accepted(staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    record_follow_up(
        commitment, status="in_progress", by=staff_user, happened_on=commitment.statement.date
    )
    assert FollowUp.objects.count() == 1


def test_record_follow_up_itself_refuses_a_huge_note(staff_user, seeded):
    from django.core.exceptions import ValidationError

    commitment = Commitment.objects.get(reference="NOR-2012-07")
    with pytest.raises(ValidationError):
        record_follow_up(commitment, status="in_progress", by=staff_user, public_note=HUGE_NOTE)
    assert FollowUp.objects.count() == 0


# --- NUL characters anywhere else: refused as input, never a database error --------------------

NUL_URLS = [
    "/?q=a%00b",
    "/data/commitments.csv?q=a%00b",
    "/staff/?show=all&status=a%00b&owner=%00",
    "/admin/commitments/commitment/?q=a%00b",
    "/admin/commitments/followup/?q=a%00b",
    "/admin/commitments/statement/?q=a%00b",
    "/admin/auth/user/?q=a%00b",
]


def test_a_nul_character_in_a_query_is_never_a_server_error(staff_client, seeded):
    for url in NUL_URLS:
        assert staff_client.get(url).status_code < 500, url


def test_a_nul_character_in_a_login_is_refused(client, db):
    before = FollowUp.objects.count()
    response = client.post("/admin/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    assert FollowUp.objects.count() == before
