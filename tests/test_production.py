"""The production path: probes, backups, logs, static files and the deploy checklist."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from commitments.models import Article, Commitment, FollowUp, Statement, Status, Theme
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory, UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent


# --- /healthz and /readyz -----------------------------------------------------------------------


def assert_probe_headers(response):
    assert "no-store" in response.headers["Cache-Control"]
    assert not response.cookies


@pytest.mark.django_db
def test_healthz_answers_ok_without_versions_or_caching(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert_probe_headers(response)


@pytest.mark.django_db
def test_readyz_is_ok_when_database_answers_and_migrations_are_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert_probe_headers(response)


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_unapplied(client):
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="commitments").order_by("-id").first()
    recorder.record_unapplied(latest.app, latest.name)  # as if a release added it
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"migrations pending\n"
    assert_probe_headers(response)


PROBE = (
    "import django; django.setup(); from django.test import Client; c = Client();"
    "r = c.get('/readyz'); h = c.get('/healthz');"
    "print(r.status_code, r.content.decode().strip(), '|', h.status_code, r['Cache-Control'])"
)


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path):
    # A separate process whose database file cannot be opened: a database that is down.
    env = production_env(
        SQLITE_PATH=str(tmp_path / "no-such-dir" / "db.sqlite3"),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    env.pop("DATABASE_URL", None)
    result = python(PROBE, env=env)
    assert result.returncode == 0, result.stderr
    probe = result.stdout.splitlines()[-1]  # after the JSON log line for the 503
    assert probe.startswith("503 database unavailable | 200 "), result.stdout
    assert "no-store" in probe


def test_readyz_is_503_on_a_database_that_was_never_migrated(tmp_path):
    env = production_env(
        SQLITE_PATH=str(tmp_path / "empty.sqlite3"),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    env.pop("DATABASE_URL", None)
    result = python(PROBE, env=env)
    assert result.returncode == 0, result.stderr
    probe = result.stdout.splitlines()[-1]
    assert probe.startswith("503 migrations pending | 200 "), result.stdout


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 301


# --- Backups --------------------------------------------------------------------------------------


def everything():
    """Every statement, commitment and follow-up, as comparable values."""
    return {
        "statements": list(Statement.objects.order_by("pk").values()),
        "commitments": list(Commitment.objects.order_by("pk").values()),
        "follow_ups": list(FollowUp.objects.order_by("pk").values()),
        "themes": list(Theme.objects.order_by("pk").values()),
        "articles": list(Article.objects.order_by("pk").values()),
        "users": list(get_user_model().objects.order_by("pk").values()),
    }


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_finds_everything_again(tmp_path):
    call_command("seed", verbosity=0)
    author = UserFactory(is_staff=True)
    for commitment in Commitment.objects.all()[:4]:
        record_follow_up(
            commitment,
            status=Status.OFF_TRACK,
            by=author,
            public_note="Public",
            internal_note=CANARY,
        )
    CommitmentFactory(published=False)
    before = everything()
    assert before["follow_ups"]
    assert len(before["statements"]) == 2

    path = tmp_path / "backup.db"
    call_command("backup", str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert path.stat().st_size > 0

    call_command("flush", "--no-input", verbosity=0)
    assert not Commitment.objects.exists()

    call_command("restore", str(path), "--no-input", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert everything() == before


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path):
    call_command("seed", verbosity=0)
    before = everything()
    path = tmp_path / "damaged.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(Exception, match="integrity|pg_restore|not a database|file is not"):
        call_command("restore", str(path), "--no-input", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert everything() == before


# --- Logging ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_follow_up_is_logged_with_who_recorded_it_and_never_the_notes(
    second_review_off, staff_client, staff_user, django_capture_on_commit_callbacks, caplog
):
    commitment = CommitmentFactory()
    prefix = f"c{commitment.pk}"
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/staff/commitments/{commitment.reference}/follow-ups/",
            {
                f"{prefix}-version": commitment.version,
                f"{prefix}-status": Status.IN_PROGRESS,
                f"{prefix}-happened_on": "2013-03-01",
                f"{prefix}-public_note": "PUBLIC-NOTE-TEXT",
                f"{prefix}-internal_note": CANARY,
            },
        )
    assert response.status_code == 302
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "follow_up_recorded"]
    assert record.username == staff_user.username
    assert record.user_id == staff_user.pk
    assert record.commitment == commitment.reference
    assert record.follow_up_id == FollowUp.objects.get().pk

    # What a collector receives: one JSON object per line, with the fields above.
    handler = logging.getLogger().handlers[0]
    line = handler.formatter.format(record)
    data = json.loads(line)
    assert data["level"] == "INFO"
    assert data["username"] == staff_user.username
    assert data["commitment"] == commitment.reference
    everything_logged = "\n".join(handler.formatter.format(r) for r in caplog.records) + caplog.text
    assert CANARY not in everything_logged
    assert "PUBLIC-NOTE-TEXT" not in everything_logged
    assert "a-long-test-password" not in everything_logged


def test_root_logger_writes_json_lines_to_stdout():
    handler = logging.getLogger().handlers[0]
    assert handler.stream.name == "<stdout>" or handler.stream is sys.stdout
    record = logging.LogRecord("ccm", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    data = json.loads(handler.formatter.format(record))
    assert data["message"] == "hello world"
    assert data["logger"] == "ccm"
    assert "time" in data


# --- Static files ------------------------------------------------------------------------------


def test_collectstatic_writes_compressed_hashed_files(tmp_path):
    production = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=production):
        call_command("collectstatic", "--no-input", verbosity=0)
        from django.templatetags.static import static

        url = static("css/site.css")
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/site.css"]
    assert hashed != "css/site.css"
    assert url == f"/static/{hashed}"
    assert (tmp_path / hashed).is_file()
    assert (tmp_path / f"{hashed}.gz").is_file()


# --- Deploy checklist --------------------------------------------------------------------------


def production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST")) and key not in {"CACHE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SECRET_KEY="a-production-like-secret-" + "x7Qp2v9LmZ" * 5,
        DJANGO_ALLOWED_HOSTS="ccm.example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://ccm.example.org",
        EMAIL_HOST="smtp.example.org",
    )
    env.update(extra)
    return env


def python(code, env):
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "ccmtracker.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args, env):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_production_weakens_a_setting():
    env = production_env(DJANGO_SECURE_COOKIES="0")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stdout + result.stderr


def test_start_up_without_a_secret_key_is_a_clear_error():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_settings_read_database_and_cache_urls():
    code = (
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'],"
        "s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], s.SESSION_ENGINE,"
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        "s.CSRF_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG]))"
    )
    env = production_env(
        DATABASE_URL="postgres://ccm:pw@db.internal:5432/ccmtracker",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.db.backends.postgresql",
        "ccmtracker",
        "ccmtracker.failsoft.FailSoftRedisCache",
        "redis://cache.internal:6379/0",
        "django.contrib.sessions.backends.db",
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ]


def test_without_a_cache_url_every_worker_shares_a_file_cache():
    code = (
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.CACHES['default']['BACKEND'], str(s.CACHES['default']['LOCATION']), s.SESSION_ENGINE]))"
    )
    result = manage("shell", "--no-imports", "-c", code, env=production_env())
    assert result.returncode == 0, result.stderr
    backend, location, sessions = json.loads(result.stdout)
    assert backend == "django.core.cache.backends.filebased.FileBasedCache"
    assert location == str(BASE_DIR / "var" / "cache")
    assert sessions == "django.contrib.sessions.backends.db"


@pytest.mark.django_db
def test_head_requests_are_answered_like_get_for_monitors_and_curl_i(client, staff_client):
    commitment = CommitmentFactory()
    for url in ["/healthz", "/readyz", "/", commitment.get_absolute_url()]:
        response = client.head(url)
        assert response.status_code == 200, url
        assert response.content == b""
    assert staff_client.head("/staff/").status_code == 200
