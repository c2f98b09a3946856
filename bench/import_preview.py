"""Time the admin's CSV import preview (and, for small files, its confirmation) over HTTP.

Builds a SQLite database of its own under var/bench/ (or uses BENCH_IMPORT_DATABASE_URL,
e.g. a PostgreSQL database that may be dropped), loads the seed statement, serves it with
gunicorn as in production (DEBUG off, one sync worker, gunicorn.conf.py's 30 s timeout),
logs in through the admin login page and posts files of new commitments to the import page.

    .venv/bin/python bench/import_preview.py [ROWS ...]       # default: 1000 5000 10000
    IMPORT_MAX_ROWS=20000 BENCH_IMPORT_CONFIRM=1000 .venv/bin/python bench/import_preview.py

Prints, for each size, the file's size, the preview's time and status, and whether it
offered to confirm. BENCH_IMPORT_CONFIRM=N also confirms files of at most N rows (slow: a
confirmed import saves each row through the models, with its history and progress).
"""

import http.client
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PY = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", "8402"))
CONFIRM_UP_TO = int(os.environ.get("BENCH_IMPORT_CONFIRM", "0"))


def manage(*args, env):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


class Session:
    def __init__(self):
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, timeout=120):
        connection = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers["Referer"] = f"http://{HOST}:{PORT}{path}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        return response.status, data.decode(errors="replace")

    def token(self, html):
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def multipart(fields, file_field, filename, content):
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = "".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def main():
    sizes = [int(arg) for arg in sys.argv[1:]] or [1000, 5000, 10000]
    VAR.mkdir(parents=True, exist_ok=True)
    database = VAR / "import.sqlite3"
    for stale in VAR.glob("import.sqlite3*"):
        stale.unlink()
    shutil.rmtree(VAR / "import-cache", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DATABASE_URL=os.environ.get("BENCH_IMPORT_DATABASE_URL", f"sqlite:///{database}"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_LOG_LEVEL="WARNING",
        CACHE_DIR=str(VAR / "import-cache"),
        WEB_CONCURRENCY="1",
        GUNICORN_BIND=f"{HOST}:{PORT}",
    )
    password = secrets.token_urlsafe(16)
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("seed", env=env)
    manage("collectstatic", "--no-input", "-v", "0", env=env)
    manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.filter(username='bench-import').delete(); "
        f"User.objects.create_superuser('bench-import', '', {password!r})",
        env=env,
    )
    exported = subprocess.run(  # noqa: S603
        [
            PY,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            "from commitments.resources import CommitmentResource; "
            "print(CommitmentResource().export().csv, end='')",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines(keepends=True)
    header, row = exported[0], exported[1]
    existing = row.split(",")[0]

    log = open(VAR / "import-gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, "ccmtracker.wsgi"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        session = Session()
        for _ in range(100):
            try:
                if session.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, html = session.request("GET", "/admin/login/")
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": session.token(html),
                "username": "bench-import",
                "password": password,
                "next": "/admin/",
            }
        )
        status, _ = session.request(
            "POST", "/admin/login/", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302, status
        print(
            f"{'rows':>7} {'bytes':>10} {'preview s':>10} status  confirm offered  {'confirm s':>9}"
        )
        for n in sizes:
            text = header + "".join(row.replace(existing, f"BENCH-{i:05d}", 1) for i in range(n))
            status, html = session.request("GET", "/admin/commitments/commitment/import/")
            body, content_type = multipart(
                {"csrfmiddlewaretoken": session.token(html), "format": "0", "resource": "0"},
                "import_file",
                "bench.csv",
                text.encode(),
            )
            started = time.perf_counter()
            status, html = session.request(
                "POST",
                "/admin/commitments/commitment/import/",
                body,
                {"Content-Type": content_type},
            )
            preview = time.perf_counter() - started
            offered = "Confirm import" in html
            confirm = ""
            if offered and n <= CONFIRM_UP_TO:
                fields = dict(
                    re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
                )
                started = time.perf_counter()
                status2, _ = session.request(
                    "POST",
                    "/admin/commitments/commitment/process_import/",
                    urllib.parse.urlencode(fields),
                    {"Content-Type": "application/x-www-form-urlencoded"},
                )
                confirm = f"{time.perf_counter() - started:.2f} ({status2})"
            line = f"{n:>7} {len(text):>10,} {preview:>10.2f} {status:>6}"
            print(f"{line}  {offered!s:>15}  {confirm:>9}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
