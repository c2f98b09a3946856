"""Serve the production configuration with gunicorn and check it from outside, as a browser
behind a TLS proxy would see it: pages, admin, staff page, htmx, static files, headers.

Run by .ci/run once on SQLite and, when PostgreSQL answers, once with DATABASE_URL set.
Uses a temporary SQLite file (or the DATABASE_URL database), and port SERVE_CHECK_PORT.
"""

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("SERVE_CHECK_PORT", "8150"))
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Browser:
    """Just enough of a browser: a cookie jar, and the TLS proxy's X-Forwarded-Proto."""

    def __init__(self):
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, https=True):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if https:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        connection.close()
        return response, content.decode(errors="replace")


def fresh_postgres_database(url):
    """An empty <name>_serve_check database beside the one named, so no real data is touched."""
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    name = f"{db['NAME']}_serve_check"
    params = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"]}
    if db["PASSWORD"]:
        params["password"] = db["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def check(condition, message):
    if not condition:
        raise SystemExit(f"serve check FAILED: {message}")


def check_security_headers(response, path):
    for name, value in SECURITY_HEADERS.items():
        check(
            response.headers.get(name) == value, f"{path}: {name} is {response.headers.get(name)!r}"
        )
    check(
        "camera=()" in response.headers.get("Permissions-Policy", ""),
        f"{path}: no Permissions-Policy",
    )
    check(
        response.headers.get("Server") is None,
        f"{path}: Server is {response.headers.get('Server')!r}",
    )


def manage(*args, env):
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)  # noqa: S603


def show_headers(title, response):
    print(f"--- {title}: HTTP {response.status}")
    for name, value in response.getheaders():
        print(f"{name}: {value}")


def main():
    workdir = Path(tempfile.mkdtemp(prefix="ccm-serve-check-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DJANGO_DEBUG="",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        CACHE_DIR=str(workdir / "cache"),
        WEB_CONCURRENCY="2",
        GUNICORN_BIND=f"127.0.0.1:{PORT}",
    )
    if env.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = fresh_postgres_database(env["DATABASE_URL"])
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(workdir / "db.sqlite3")
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    if env.get("REDIS_URL") or env.get("CACHE_URL"):
        database += " + Redis cache"
    password = secrets.token_urlsafe(16)
    username = f"serve-check-{secrets.token_hex(3)}"
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("seed", env=env)
    manage("collectstatic", "--no-input", "-v", "0", env=env)
    manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser({username!r}, '', {password!r})",
        env=env,
    )
    log = open(workdir / "gunicorn.log", "w+")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, "ccmtracker.wsgi"], cwd=BASE_DIR, env=env, stdout=log, stderr=log
    )
    try:
        run_checks(username, password, database)
        time.sleep(0.5)  # let the workers flush their log lines
        log.seek(0)
        lines = log.read().splitlines()
        # The change of status waits for a second review: logged as proposed, by whom.
        recorded = [json.loads(line) for line in lines if "follow_up_proposed" in line]
        check(len(recorded) == 1, "the follow-up was not logged as JSON")
        check(recorded[0]["username"] == username, "the log does not say who recorded it")
        check(not any("SERVE-CHECK-INTERNAL" in line for line in lines), "internal note in logs")
        check(all(line.startswith("{") for line in lines if line), "a log line is not JSON")
        check(not any("no-body response" in line for line in lines), "a HEAD answer had a body")
    except BaseException:
        log.seek(0)
        print(log.read()[-5000:])
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"serve check passed: gunicorn, DEBUG off, {database}")


def run_checks(username, password, database):
    browser = Browser()
    for _attempt in range(100):
        try:
            response, _body = browser.request("GET", "/healthz", https=False)
            if response.status == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise SystemExit("gunicorn did not start")

    check(browser.request("GET", "/readyz", https=False)[0].status == 200, "/readyz")
    redirected, _ = browser.request("GET", "/", https=False)
    check(redirected.status == 301, "plain HTTP is not redirected to HTTPS")
    check(redirected.headers["Location"] == "https://127.0.0.1/", "redirect target")

    home, html = browser.request("GET", "/")
    check(home.status == 200 and "Progress on the commitments" in html, "dashboard")
    check_security_headers(home, "/")
    check(home.headers.get("Set-Cookie") is None, "the dashboard sets a cookie")
    show_headers(f"/ ({database})", home)

    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
    check(css, "the stylesheet is not served under a hashed name")
    static, _ = browser.request("GET", css[1], headers={"Accept-Encoding": "gzip"})
    check(static.status == 200, "static file")
    check(static.headers.get("Content-Encoding") == "gzip", "static file not compressed")
    check("immutable" in static.headers.get("Cache-Control", ""), "static file not cacheable")

    check(browser.request("GET", "/staff/")[0].status == 302, "/staff/ open to anonymous")
    login_page, login_html = browser.request("GET", "/admin/login/")
    check_security_headers(login_page, "/admin/login/")
    cookie = login_page.headers["Set-Cookie"]
    check("Secure" in cookie and "HttpOnly" in cookie, f"csrf cookie flags: {cookie}")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_html)[1]
    logged_in, _ = browser.request(
        "POST",
        "/admin/login/?next=/staff/",
        body={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": "https://127.0.0.1/admin/login/", "Origin": "https://127.0.0.1"},
    )
    check(logged_in.status == 302, f"login answered {logged_in.status}")
    session = logged_in.headers["Set-Cookie"]
    check("Secure" in session and "HttpOnly" in session, f"session cookie flags: {session}")

    # The staff page opens on the user's own commitments; this user owns none: show all.
    staff, staff_html = browser.request("GET", "/staff/?show=all")
    check(staff.status == 200 and "What needs attention" in staff_html, "staff page")
    check_security_headers(staff, "/staff/")
    check("no-store" in staff.headers["Cache-Control"], "/staff/ is not no-store")
    show_headers(f"/staff/ as staff ({database})", staff)

    token = re.search(r'"x-csrftoken": "([^"]+)"', staff_html)[1]
    prefix = re.search(r'name="(c\d+)-status"', staff_html)[1]
    reference = re.search(r'action="/staff/commitments/([\w-]+)/follow-ups/', staff_html)[1]
    version = re.search(rf'name="{prefix}-version" value="(\d+)"', staff_html)[1]
    fragment, fragment_html = browser.request(
        "POST",
        f"/staff/commitments/{reference}/follow-ups/",
        body={
            f"{prefix}-version": version,
            f"{prefix}-status": "off_track",
            f"{prefix}-happened_on": "2013-01-01",
            f"{prefix}-internal_note": "SERVE-CHECK-INTERNAL",
        },
        headers={
            "HX-Request": "true",
            "X-CSRFToken": token,
            "Origin": "https://127.0.0.1",
            "Referer": "https://127.0.0.1/staff/",
        },
    )
    # A change of status waits for a second editor (SECOND_REVIEW, on by default).
    check(fragment.status == 200 and "sent for a second review" in fragment_html, "htmx follow-up")
    check("<html" not in fragment_html, "htmx answer is not a fragment")

    admin, admin_html = browser.request("GET", "/admin/commitments/commitment/")
    check(admin.status == 200 and "Select commitment to change" in admin_html, "admin")
    check_security_headers(admin, "/admin/commitments/commitment/")
    public, public_html = Browser().request("GET", f"/commitments/{reference}/")
    check(public.status == 200 and "SERVE-CHECK-INTERNAL" not in public_html, "public page")
    missing, missing_html = Browser().request("GET", "/no-such-page/")
    check(missing.status == 404 and "Page not found" in missing_html, "404 page")
    check(missing.headers.get("Server") is None, "the 404 page names the server software")

    # HEAD: the headers of a GET, no body (a body here makes gunicorn log a warning).
    for path in ["/", "/feed/", "/data/commitments.csv", "/data/follow-ups.json", css[1]]:
        head, head_body = Browser().request("HEAD", path)
        check(head.status == 200 and head_body == "", f"HEAD {path}")
        check(head.headers.get("Cross-Origin-Resource-Policy") == "same-origin", f"HEAD {path}")
        check(head.headers.get("Server") is None, f"HEAD {path} names the server software")


if __name__ == "__main__":
    main()
