"""Debian's nginx, with the deployment guide's configuration, in front of gunicorn: check the
HTTP cache from outside (docs/deploy.md, "HTTP caching: nginx in front").

gunicorn with DEBUG off on a temporary SQLite database (seeded, one staff login), nginx from
docs/nginx/ccmtracker.conf on free ports (bench/nginx.py: plain HTTP, its own temporary
folder), HTTP_CACHE_MAX_AGE=2 so that "within max-age" takes seconds. Checks:

- public pages (each language, a commitment page, a feed, an export, an htmx fragment) come
  from nginx's cache (X-Cache-Status: HIT), and a conditional GET through it gets 304;
- the staff pages and the admin never do, signed in or not;
- a signed-in user is never served a cached page, not even a public one;
- a follow-up recorded on the staff page is on the public page within max-age (plus the one
  request that refreshes it);
- nothing in nginx's cache holds a cookie (Set-Cookie, the session or CSRF cookie's value),
  the staff page or the internal note, after a run with signed-in requests.
"""

import gzip
import http.client
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
sys.path.insert(0, str(BASE_DIR / "bench"))
sys.path.insert(0, str(BASE_DIR / ".ci"))
from nginx import Nginx, ensure_nginx, free_port  # noqa: E402
from serve_check import manage  # noqa: E402

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
MAX_AGE = 2
INTERNAL = "NGINX-CHECK-INTERNAL"


class Visitor:
    """A cookie jar and nginx's address."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": "127.0.0.1", "Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        content = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            content = gzip.decompress(content)
        content = content.decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        connection.close()
        return response, content

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)


def check(condition, message):
    if not condition:
        raise SystemExit(f"nginx check FAILED: {message}")


def status(response):
    return response.headers.get("X-Cache-Status")


def main():
    started = time.monotonic()
    ensure_nginx()
    workdir = Path(tempfile.mkdtemp(prefix="ccm-nginx-check-"))
    gunicorn_port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    env.update(
        DJANGO_DEBUG="",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",  # nginx on plain HTTP here
        CACHE_DIR=str(workdir / "app-cache"),
        SQLITE_PATH=str(workdir / "db.sqlite3"),
        WEB_CONCURRENCY="2",
        GUNICORN_BIND=f"127.0.0.1:{gunicorn_port}",
        HTTP_CACHE_MAX_AGE=str(MAX_AGE),
        HTTP_CACHE_STALE_WHILE_REVALIDATE="30",
        # The check records a change of status and waits for it on the public page: with a
        # second review (the default) it would wait for another editor (tests cover that).
        SECOND_REVIEW="off",
    )
    password = secrets.token_urlsafe(16)
    username = f"nginx-check-{secrets.token_hex(3)}"
    # One Django start-up for the database (CI's budget is tight); the static files are
    # collected once (serve_check.py did it before, in CI).
    manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.core.management import call_command; "
        "from django.contrib.auth.models import User; "
        "call_command('migrate', interactive=False, verbosity=0); "
        "call_command('seed', verbosity=0); "
        f"User.objects.create_superuser({username!r}, '', {password!r})",
        env=env,
    )
    if not (BASE_DIR / "staticfiles" / "staticfiles.json").exists():
        manage("collectstatic", "--no-input", "-v", "0", env=env)
    print(f"nginx check: database ready in {time.monotonic() - started:.0f} s", flush=True)
    # Its own folder: the workers, not root, write the cache (a mktemp folder is root's alone).
    nginx = Nginx(tempfile.mkdtemp(prefix="ccm-nginx-"), gunicorn_port)
    log = open(workdir / "gunicorn.log", "w+")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, "ccmtracker.wsgi"], cwd=BASE_DIR, env=env, stdout=log, stderr=log
    )
    try:
        nginx.start()
        run_checks(nginx, username, password)
    except BaseException:
        log.seek(0)
        print(log.read()[-3000:])
        print(nginx.errors())
        raise
    finally:
        nginx.stop()
        server.terminate()
        server.wait(timeout=30)
    print(f"nginx check passed in {time.monotonic() - started:.0f} s")


def wait_for(visitor, path):
    for _attempt in range(150):
        try:
            if visitor.get(path)[0].status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"nginx check FAILED: {path} never answered through nginx")


def run_checks(nginx, username, password):
    anonymous = Visitor(nginx.port)
    wait_for(anonymous, "/healthz")
    home, home_html = anonymous.get("/")
    reference = re.search(r'href="/commitments/([\w-]+)/"', home_html)[1]

    # Public answers come from the cache the second time, gzipped or not, htmx or not.
    public = [
        ("/", {}),
        ("/", {"Accept-Encoding": "gzip"}),
        ("/fr/", {}),
        (f"/es/commitments/{reference}/", {}),
        ("/feed/", {}),
        ("/data/commitments.csv", {}),
        ("/data/follow-ups.json?status=achieved", {}),
        ("/", {"HX-Request": "true", "HX-Target": "results"}),
        ("/states/", {"HX-Request": "true", "HX-Target": "state-table"}),
    ]
    for path, headers in public:
        first, _ = anonymous.get(path, headers)
        check(first.status == 200, f"{path}: {first.status}")
        check("public" in first.headers.get("Cache-Control", ""), f"{path} is not public")
        # nginx commits a cache entry once it has read the whole answer from upstream, which
        # may be a moment after the client has it: a request sent at once can still MISS.
        # An answer that is never stored stays a MISS however long one waits.
        for _attempt in range(10):
            second, body = anonymous.get(path, headers)
            if status(second) == "HIT":
                break
            time.sleep(0.1)
        check(status(second) == "HIT", f"{path} {headers}: not from the cache: {status(second)}")
        if headers.get("HX-Request"):
            check("<html" not in body, f"{path}: the htmx fragment was served the page")
        elif path == "/":
            check("<html" in body, "/: served a fragment to a full-page request")
        etag = second.headers["ETag"]
        again, _ = anonymous.get(path, {**headers, "If-None-Match": etag})
        check(again.status == 304, f"{path}: If-None-Match through nginx got {again.status}")
    gzipped, _ = anonymous.get("/", {"Accept-Encoding": "gzip, deflate, br"})
    check(gzipped.headers.get("Content-Encoding") == "gzip", "the gzipped page was not gzip")
    plain, _ = anonymous.get("/", {"Accept-Encoding": "identity"})
    check(plain.headers.get("Content-Encoding") is None, "a plain request got gzip")

    # The staff side: never from the cache, signed in or not.
    for _ in range(2):
        staff, _ = anonymous.get("/staff/")
        check(staff.status == 302 and status(staff) != "HIT", "/staff/ came from the cache")
        check("no-store" in staff.headers["Cache-Control"], "/staff/ to anonymous not no-store")
        login_page, login_html = anonymous.get("/admin/login/")
        check(status(login_page) != "HIT", "the login page came from the cache")

    staff = Visitor(nginx.port)
    _page, login_html = staff.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_html)[1]
    logged_in, _ = staff.request(
        "POST",
        "/admin/login/?next=/staff/",
        body={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": "http://127.0.0.1/admin/login/", "Origin": "http://127.0.0.1"},
    )
    check(logged_in.status == 302 and "sessionid" in staff.cookies, "login through nginx")
    session = staff.cookies["sessionid"]
    for _ in range(2):
        page, staff_html = staff.get("/staff/?show=all")
        check(page.status == 200 and "What needs attention" in staff_html, "staff page")
        check(status(page) != "HIT", "the staff page came from the cache")
        check("no-store" in page.headers["Cache-Control"], "the staff page is not no-store")
        admin, _ = staff.get("/admin/commitments/commitment/")
        check(admin.status == 200 and status(admin) != "HIT", "the admin came from the cache")
    # …and never a cached public page, though anonymous visitors have it cached.
    for path, headers in public:
        page, _ = staff.get(path, headers)
        check(status(page) == "BYPASS", f"{path}: a signed-in user got {status(page)}")
        check("no-store" in page.headers["Cache-Control"], f"{path}: signed in, not no-store")

    # A follow-up recorded on the staff page is public within max-age.
    token = re.search(r'"x-csrftoken": "([^"]+)"', staff_html)[1]
    prefix = re.search(rf'id="c-{re.escape(reference)}".*?name="(c\d+)-status"', staff_html, re.S)
    prefix = prefix[1] if prefix else None
    if prefix is None:  # the row of another commitment, then
        prefix = re.search(r'name="(c\d+)-status"', staff_html)[1]
        reference = re.search(r'action="/staff/commitments/([\w-]+)/follow-ups/', staff_html)[1]
    version = re.search(rf'name="{prefix}-version" value="(\d+)"', staff_html)[1]
    path = f"/commitments/{reference}/"
    before, before_html = anonymous.get(path)
    anonymous.get(path)
    note = f"Nginx check {secrets.token_hex(4)}"
    recorded, recorded_html = staff.request(
        "POST",
        f"/staff/commitments/{reference}/follow-ups/",
        body={
            f"{prefix}-version": version,
            f"{prefix}-status": "off_track",
            f"{prefix}-happened_on": "2013-01-02",
            f"{prefix}-public_note": note,
            f"{prefix}-internal_note": INTERNAL,
        },
        headers={
            "HX-Request": "true",
            "X-CSRFToken": token,
            "Origin": "http://127.0.0.1",
            "Referer": "http://127.0.0.1/staff/",
        },
    )
    check(recorded.status == 200 and "Recorded" in recorded_html, "recording a follow-up")
    written = time.monotonic()
    seen = None
    # Past max-age nginx serves the page it has once more (stale-while-revalidate) while one
    # background request fetches the new one: public within max-age, plus that one refresh.
    while time.monotonic() - written < MAX_AGE + 5:
        page, html = anonymous.get(path)
        if note in html:
            seen = time.monotonic() - written
            break
        time.sleep(0.1)
    check(seen is not None, f"the follow-up was not public {MAX_AGE + 5} s after it was recorded")
    check(seen <= MAX_AGE + 2, f"the follow-up took {seen:.1f} s to be public (max-age {MAX_AGE})")
    print(f"a recorded follow-up was public through nginx {seen:.1f} s later (max-age {MAX_AGE} s)")

    # Nothing personal in nginx's cache.
    files = nginx.cached_files()
    check(len(files) >= len(public), f"only {len(files)} files in nginx's cache")
    for file in files:
        data = file.read_bytes()
        for secret in [
            b"Set-Cookie",
            session.encode(),
            staff.cookies.get("csrftoken", "no-csrf-cookie").encode(),
            b"What needs attention",
            INTERNAL.encode(),
        ]:
            check(secret not in data, f"{file} in nginx's cache holds {secret[:20]!r}")
    print(f"nginx's cache: {len(files)} pages, none with a cookie or a staff page")


if __name__ == "__main__":
    main()
