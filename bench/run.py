"""`make bench`: serve a synthetic tracker with gunicorn and measure it with wrk.

For two data sizes (2,000 commitments / 50,000 follow-ups, and ten times smaller) it builds
a database of its own under var/bench/, serves it with gunicorn on 127.0.0.1 with DEBUG off,
and drives each page with wrk in bounded runs, page cache on and off, beside a trivial view
(/healthz, the floor) measured on the same server in the same run. Then it measures the
gunicorn worker's memory while it streams the 50,000-row CSV, and "writes under load": four
staff writers recording follow-ups over HTTP for 20 s while wrk loads the public pages, on
SQLite and, when it answers on 127.0.0.1:5432, PostgreSQL. Last, "public reads while staff
write": wrk on the cached dashboard with no writes, then while one staff writer records 1, then
5 follow-ups a second, on the same server. And "HTTP caching: nginx in front": the cached
dashboard through Debian's nginx with the deployment guide's configuration, against the
gunicorn floor and against nginx serving a static file of the same size, with and without 5
staff writes a second; a conditional GET (304) straight to gunicorn. Prints the tables and
writes docs/benchmarks.md.
Absolute figures depend on the machine; compare the ratios to the floor.

Environment: BENCH_SECONDS (per wrk run, default 4), BENCH_PORT (default 8401),
BENCH_WORKERS (gunicorn workers, default 3), BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/ccm_perf_bench), BENCH_WRITE_SECONDS (default 20),
BENCH_RW_SECONDS (each run of "public reads while staff write", default 10), BENCH_NGINX_SECONDS
(each run behind nginx, default 8).

BENCH_ONLY=pages,memory,writes,reads-while-writing,nginx runs only those parts (comma-separated;
"pages" also takes BENCH_SIZES=large or small). With BENCH_REUSE=1 a database already under
var/bench/ is used as it is instead of being built again. A partial run prints its tables and
writes them to var/bench/benchmarks-partial.md, leaving docs/benchmarks.md alone.
"""

import contextlib
import datetime
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PY = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8401"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
WRITE_SECONDS = int(os.environ.get("BENCH_WRITE_SECONDS", "20"))
RW_SECONDS = int(os.environ.get("BENCH_RW_SECONDS", "10"))
NGINX_SECONDS = int(os.environ.get("BENCH_NGINX_SECONDS", "8"))
# (label, follow-ups a second): the no-write runs come first and last, and their mean is what
# the runs with writes are compared with (the machine's load drifts over a minute).
RW_RUNS = [("no writes", 0), ("1 write/s", 1), ("5 writes/s", 5), ("no writes, again", 0)]
PARTS = ("pages", "memory", "writes", "reads-while-writing", "nginx")
ONLY = [p.strip() for p in os.environ.get("BENCH_ONLY", ",".join(PARTS)).split(",") if p.strip()]
REUSE = os.environ.get("BENCH_REUSE", "") not in ("", "0")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/ccm_perf_bench")
WRITERS = 4
ACCEPT_GZIP = "Accept-Encoding: gzip, deflate, br"

sys.path.insert(0, str(ROOT / "bench"))
from build import BENCH_PASSWORD, BENCH_STAFF, VERSION_AFTER_BUILD  # noqa: E402
from nginx import Nginx, ensure_nginx, free_port  # noqa: E402

SIZES = [("2,000 commitments", 1.0), ("200 commitments", 0.1)]


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------------------


def bench_env(database_url, *, cached=True, cache_dir=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CACHE_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY="bench-only-not-a-secret",  # noqa: S106
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback
        DJANGO_SECURE_COOKIES="0",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_LOG_FORMAT="text",
        PAGE_CACHE_SECONDS="300" if cached else "0",
        CACHE_DIR=str(cache_dir or VAR / "cache"),
        # The writers' follow-ups must reach the public pages at once (each one outdates the
        # page cache, which is what "reads while writing" measures): no second review.
        SECOND_REVIEW="off",
    )
    return env


def run(args, env):
    subprocess.run(args, env=env, cwd=ROOT, check=True)  # noqa: S603


def build(database_url, scale):
    if database_url.startswith("sqlite:///"):
        path = ROOT / database_url.removeprefix("sqlite:///")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        recreate_postgres(database_url)
    started = time.monotonic()
    run([PY, str(ROOT / "bench" / "build.py"), "--scale", str(scale)], bench_env(database_url))
    return time.monotonic() - started


def recreate_postgres(database_url):
    import psycopg

    name = urllib.parse.urlparse(database_url).path.lstrip("/")
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def postgres_answers():
    try:
        import psycopg

        with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return False


class Server:
    def __init__(self, env, workers=WORKERS):
        cache_dir = Path(env["CACHE_DIR"])
        shutil.rmtree(cache_dir, ignore_errors=True)
        self.log_path = VAR / "gunicorn.log"
        self.log_file = open(self.log_path, "a")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [GUNICORN, "ccmtracker.wsgi", "-b", f"{HOST}:{PORT}", "-w", str(workers)]
            + ["--log-level", "warning", "--timeout", "60"],
            env=env,
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {self.log_path}")

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self):
        """Quick shutdown (SIGQUIT: workers end now, mid-request or not), then wait until
        the port is free again for the next server."""
        workers = self.worker_pids()
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                get("/healthz")
            except OSError:
                break
            time.sleep(0.1)
        self.log_file.close()


# --- HTTP ------------------------------------------------------------------------------------


def get(path, headers=None):
    connection = http.client.HTTPConnection(HOST, PORT, timeout=120)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def _cookies(headers_list):
    cookies = {}
    for name, value in headers_list:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]
    return cookies


def login(username):
    """A staff session through the admin login form, CSRF and all: {cookie name: value}."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
    connection.request("GET", "/admin/login/")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = _cookies(response.getheaders())
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {
            "username": username,
            "password": BENCH_PASSWORD,
            "csrfmiddlewaretoken": token,
            "next": "/staff/",
        }
    )
    connection.request(
        "POST",
        "/admin/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
    )
    response = connection.getresponse()
    response.read()
    cookies.update(_cookies(response.getheaders()))
    connection.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"bench login failed for {username}: HTTP {response.status}")
    return cookies


def cookie_header(cookies):
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# --- wrk -------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * UNITS[unit]


def wrk(path, seconds=SECONDS, connections=8, headers=(), port=None):
    args = [
        shutil.which("wrk"),
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    for header in headers:
        args += ["-H", header]
    output = subprocess.run(  # noqa: S603
        [*args, f"http://{HOST}:{port or PORT}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "p50": _ms(p50.group(1)) if p50 else None,
        "p99": _ms(p99.group(1)) if p99 else None,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk is missing: installing Debian's wrk")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "wrk"], check=True)  # noqa: S603


# --- the page benchmark ----------------------------------------------------------------------


def pages(scale):
    """(label, path, special, connections, seconds): slow pages get fewer, longer runs."""
    statement = 3 if scale >= 1 else 1
    slow = max(SECONDS, 6)
    return [
        ("dashboard /", "/", None, 8, SECONDS),
        ("dashboard, filtered", "/?theme=regional&status=in_progress", None, 8, SECONDS),
        ("dashboard ?as_of=", "/?as_of=2018-06-30", None, 8, SECONDS),
        ("commitment page", f"/commitments/B{statement:02d}-010/", None, 8, SECONDS),
        ("statement page", f"/statements/bench-{statement:02d}/", None, 8, SECONDS),
        ("Atom feed", "/feed/", None, 8, SECONDS),
        ("CSV export, If-None-Match → 304", "/data/follow-ups.csv", "etag", 8, SECONDS),
        # Slow pages last: requests still in flight when wrk stops would disturb a floor run.
        ("CSV export (all follow-ups)", "/data/follow-ups.csv", None, 2, slow),
        ("/staff/ (logged in)", "/staff/", "staff", 2, slow),
    ]


FLOOR = ("floor (/healthz)", "/healthz")


def paired(path, connections, seconds, headers):
    """The page and the floor in alternation (floor, page, floor, page), half the time each:
    on a shared machine load comes and goes, and pairing puts both under the same weather.
    Returns the page's figures with `floor` (the floor's mean req/s over the same rounds)."""
    half = max(1, seconds // 2)
    floors, runs = [], []
    for _ in range(2):
        floors.append(wrk(FLOOR[1], seconds=half, headers=[ACCEPT_GZIP]))
        runs.append(wrk(path, seconds=half, connections=connections, headers=headers))
    return {
        "rps": sum(r["rps"] for r in runs) / len(runs),
        "p50": sum(r["p50"] or 0 for r in runs) / len(runs),
        "p99": max(r["p99"] or 0 for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "floor": sum(f["rps"] for f in floors) / len(floors),
        "floor_runs": floors,
    }


def measure_pages(env, scale, cached):
    """Every page on one server. Fast pages are paired with the floor run for run; slow pages
    (a request takes seconds) get one longer run and are compared with the mean floor."""
    server = Server(env)
    mode = "cached" if cached else "uncached"
    try:
        staff = cookie_header(login(f"{BENCH_STAFF}-0"))
        rows = []
        for label, path, special, connections, seconds in pages(scale):
            headers = [ACCEPT_GZIP]  # as every browser sends
            if special == "staff":
                headers += [f"Cookie: {staff}"]
            elif special == "etag":
                etag = get(path)[1]["ETag"]
                headers += [f"If-None-Match: {etag}"]
                if get(path, {"If-None-Match": etag})[0] != 304:
                    raise RuntimeError("the CSV export did not answer 304 to its own ETag")
            elif connections > 2:  # (the streamed CSV is never stored: no warming)
                # Warm the cache with the very request wrk sends (and check it answers).
                status = get(path, dict(h.split(": ", 1) for h in headers))[0]
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            if connections > 2:
                result = paired(path, connections, seconds, headers)
            else:
                result = wrk(path, seconds=seconds, connections=connections, headers=headers)
            log(f"  {mode} {label}: {result}")
            rows.append((label, result))
        floor_runs = [f for _, r in rows if "floor" in r for f in r["floor_runs"]]
        floor = {
            key: sum(f[key] or 0 for f in floor_runs) / len(floor_runs)
            for key in ("rps", "p50", "p99")
        }
        floor["non_2xx"] = sum(f["non_2xx"] for f in floor_runs)
        for _, result in rows:
            result.setdefault("floor", floor["rps"])
            result.pop("floor_runs", None)
        floor["floor"] = floor["rps"]
        return [(FLOOR[0], floor), *rows]
    finally:
        server.stop()


# --- memory while streaming the CSV ----------------------------------------------------------


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_csv_memory(env):
    server = Server(env, workers=1)
    try:
        (worker,) = server.worker_pids()
        for path in ("/", "/commitments/B03-010/", "/data/commitments.csv", "/healthz"):
            get(path)
        idle = rss_kb(worker)
        peak = idle
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kb(worker))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        connection = http.client.HTTPConnection(HOST, PORT, timeout=120)
        connection.request("GET", "/data/follow-ups.csv")
        response = connection.getresponse()
        size = 0
        lines = 0
        while chunk := response.read(65536):
            size += len(chunk)
            lines += chunk.count(b"\n")
        connection.close()
        took = time.monotonic() - started
        done.set()
        sampler.join()
        return {
            "seconds": took,
            "idle_mb": idle / 1024,
            "peak_mb": peak / 1024,
            "delta_mb": (peak - idle) / 1024,
            "csv_mb": size / 1e6,
            "csv_rows": lines - 1,
            "streamed": response.getheader("Content-Length") is None,
        }
    finally:
        server.stop()


# --- writes under load -----------------------------------------------------------------------


def writer(index, seconds, references, queue):
    """One staff member recording follow-ups as fast as the server lets them, over HTTP.

    Like the staff page, each post says which version of the commitment it is based on: the
    version the build left, then the one in the fresh form each answer carries. The writers'
    commitments are disjoint, so a refusal (409) would be a real error, and counts as one."""
    ok, errors, locked, samples = 0, 0, 0, []
    try:
        cookies = login(f"{BENCH_STAFF}-{index + 1}")
    except Exception as error:  # noqa: BLE001 - reported as an error, never hidden
        queue.put({"ok": 0, "errors": 1, "locked": 0, "samples": [repr(error)]})
        return
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie_header(cookies),
        "X-CSRFToken": cookies["csrftoken"],
        "HX-Request": "true",
    }
    today = datetime.date.today().isoformat()
    deadline = time.monotonic() + seconds
    n = 0
    versions = {}
    connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
    while time.monotonic() < deadline:
        pk, reference, continuous = references[n % len(references)]
        n += 1
        prefix = f"c{pk}"
        body = urllib.parse.urlencode(
            {
                f"{prefix}-version": versions.get(pk, VERSION_AFTER_BUILD),
                f"{prefix}-status": "on_track" if continuous else "in_progress",
                f"{prefix}-happened_on": today,
                f"{prefix}-public_note": f"Bench writer {index}, entry {n}.",
                f"{prefix}-internal_note": "bench",
            }
        )
        try:
            connection.request(
                "POST", f"/staff/commitments/{reference}/follow-ups/", body=body, headers=headers
            )
            response = connection.getresponse()
            text = response.read()
            version = re.search(rf'name="{prefix}-version" value="(\d+)"'.encode(), text)
            if version:
                versions[pk] = int(version.group(1))
            if response.status == 200:
                ok += 1
            else:
                errors += 1
                locked += b"database is locked" in text
                if len(samples) < 3:
                    samples.append(f"HTTP {response.status}: {text[:200]!r}")
        except (OSError, http.client.HTTPException) as error:
            errors += 1
            if len(samples) < 3:
                samples.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
    connection.close()
    queue.put({"ok": ok, "errors": errors, "locked": locked, "samples": samples})


def count_follow_ups(env):
    code = "from commitments.models import FollowUp; print(FollowUp.objects.count())"
    result = subprocess.run(  # noqa: S603
        [PY, "manage.py", "shell", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def history_in_step(env):
    """`manage.py verify`: every stored copy (each commitment's state, the progress history)
    still equals a recompute from the follow-ups after the concurrent writes."""
    result = subprocess.run(  # noqa: S603
        [PY, "manage.py", "verify"], env=env, cwd=ROOT, capture_output=True
    )
    return result.returncode == 0


def measure_writes(env, scale):
    before = count_follow_ups(env)
    server = Server(env, workers=max(WORKERS, 4))
    log_start = server.log_path.stat().st_size
    try:
        statements, per_statement = max(1, round(20 * scale)), 100
        # Each writer its own commitments (pk, reference, continuous?), as build.py made them.
        references = [
            (s * per_statement + i + 1, f"B{s:02d}-{i:03d}", i % 3 == 0)
            for s in range(statements)
            for i in range(per_statement)
        ]
        queue = multiprocessing.Queue()
        writers = [
            multiprocessing.Process(
                target=writer, args=(n, WRITE_SECONDS, references[n::WRITERS], queue)
            )
            for n in range(WRITERS)
        ]
        loaders = [
            subprocess.Popen(  # noqa: S603
                [shutil.which("wrk"), "-t1", "-c4", f"-d{WRITE_SECONDS + 2}s", "-H", ACCEPT_GZIP]
                + [f"http://{HOST}:{PORT}{path}"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for path in ("/", "/commitments/B00-010/")
        ]
        time.sleep(1)
        for process in writers:
            process.start()
        results = [queue.get(timeout=WRITE_SECONDS + 120) for _ in writers]
        for process in writers:
            process.join()
        reads = 0.0
        read_errors = 0
        for loader in loaders:
            output = loader.communicate(timeout=120)[0]
            reads += float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
            bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
            read_errors += int(bad.group(1)) if bad else 0
    finally:
        server.stop()
    with open(server.log_path) as handle:
        handle.seek(log_start)
        server_log = handle.read()
    after = count_follow_ups(env)
    ok = sum(r["ok"] for r in results)
    return {
        "writes": ok,
        "writes_per_s": ok / WRITE_SECONDS,
        "errors": sum(r["errors"] for r in results),
        "locked": sum(r["locked"] for r in results) + server_log.count("database is locked"),
        "stored": after - before,
        "counts_match": after - before == ok,
        "history_in_step": history_in_step(env),
        "reads_per_s": reads,
        "read_errors": read_errors,
        "samples": [s for r in results for s in r["samples"]],
    }


# --- public reads while staff write ---------------------------------------------------------


def current_versions(env, prefix):
    """{reference: (pk, version, continuous?)} of the commitments whose reference starts with
    prefix, read from the database: earlier parts of the bench may have moved the versions."""
    code = (
        "import json; from commitments.models import Commitment, Kind; print(json.dumps("
        f"{{c.reference: [c.pk, c.version, c.kind == Kind.CONTINUOUS] for c in "
        f"Commitment.objects.filter(reference__startswith={prefix!r})}}))"
    )
    result = subprocess.run(  # noqa: S603
        [PY, "manage.py", "shell", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


class PacedWriter(threading.Thread):
    """One staff member recording `rate` follow-ups a second for `seconds` through the staff
    page (session, CSRF, htmx, the version the form was based on), on schedule: the n-th
    write starts at n / rate s, or at once if the previous answer came later than that."""

    def __init__(self, cookies, commitments, rate, seconds):
        super().__init__()
        self.cookies, self.commitments = cookies, commitments
        self.rate, self.seconds = rate, seconds
        self.ok, self.errors, self.samples, self.took = 0, 0, [], []

    def run(self):
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(self.cookies),
            "X-CSRFToken": self.cookies["csrftoken"],
            "HX-Request": "true",
        }
        today = datetime.date.today().isoformat()
        references = sorted(self.commitments)
        connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
        started = time.monotonic()
        n = 0
        while (due := started + n / self.rate) < started + self.seconds:
            time.sleep(max(0.0, due - time.monotonic()))
            reference = references[n % len(references)]
            pk, version, continuous = self.commitments[reference]
            n += 1
            prefix = f"c{pk}"
            body = urllib.parse.urlencode(
                {
                    f"{prefix}-version": version,
                    f"{prefix}-status": "on_track" if continuous else "in_progress",
                    f"{prefix}-happened_on": today,
                    f"{prefix}-public_note": f"Bench reads-while-writing, entry {n}.",
                    f"{prefix}-internal_note": "bench",
                }
            )
            sent = time.monotonic()
            try:
                connection.request(
                    "POST",
                    f"/staff/commitments/{reference}/follow-ups/",
                    body=body,
                    headers=headers,
                )
                response = connection.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.errors += 1
                self.samples.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
                continue
            self.took.append(time.monotonic() - sent)
            fresh = re.search(rf'name="{prefix}-version" value="(\d+)"'.encode(), text)
            if fresh:
                self.commitments[reference] = [pk, int(fresh.group(1)), continuous]
            if response.status == 200:
                self.ok += 1
            else:
                self.errors += 1
                if len(self.samples) < 3:
                    self.samples.append(f"HTTP {response.status}: {text[:200]!r}")
        connection.close()


def measure_reads_while_writing(env):
    """wrk on the cached dashboard (as the page bench loads it) for RW_SECONDS a run, on one
    server: no writes; one staff writer at 1, then 5 follow-ups a second; no writes again."""
    commitments = current_versions(env, "B19-")
    server = Server(env)
    try:
        cookies = login(f"{BENCH_STAFF}-4")
        headers = [ACCEPT_GZIP]
        status = get("/", dict(h.split(": ", 1) for h in headers))[0]
        if status != 200:
            raise RuntimeError(f"/ answered {status}")
        wrk("/", seconds=2, headers=headers)  # warm every worker
        runs = []
        for label, rate in RW_RUNS:
            # The page as the last write left it, rebuilt before the clock starts: the run
            # measures its own writes, not the end of the run before.
            get("/", dict(h.split(": ", 1) for h in headers))
            writer = PacedWriter(cookies, commitments, rate, RW_SECONDS) if rate else None
            if writer:
                writer.start()
            result = wrk("/", seconds=RW_SECONDS, headers=headers)
            if writer:
                writer.join()
                result.update(
                    writes=writer.ok,
                    writes_per_s=writer.ok / RW_SECONDS,
                    write_errors=writer.errors,
                    write_ms=1000 * sum(writer.took) / max(1, len(writer.took)),
                    samples=writer.samples,
                )
            log(f"  reads while writing, {label}: {result}")
            runs.append((label, rate, result))
    finally:
        server.stop()
    return runs


def reads_while_writing_targets(runs):
    quiet = [r for _, rate, r in runs if rate == 0]
    base_rps = sum(r["rps"] for r in quiet) / len(quiet)
    base_p99 = sum(r["p99"] or 0 for r in quiet) / len(quiet)
    lines = []
    for label, rate, result in runs:
        if rate != 5:
            continue
        rps_ratio = result["rps"] / base_rps
        p99_ratio = (result["p99"] or 0) / base_p99
        writes_ok = result["write_errors"] == 0 and result["writes_per_s"] >= 0.9 * rate
        lines += [
            f"- {'met' if rps_ratio >= 0.8 else 'MISSED'}: cached dashboard at {label} ≥ 0.8× "
            f"its no-write throughput (measured {rps_ratio:.2f}×)",
            f"- {'met' if p99_ratio <= 2 else 'MISSED'}: cached dashboard p99 at {label} ≤ 2× "
            f"its no-write p99 (measured {p99_ratio:.2f}×)",
            f"- {'met' if writes_ok else 'MISSED'}: the writer kept up ({result['writes']} "
            f"follow-ups stored in {RW_SECONDS} s, {result['write_errors']} errors)",
        ]
    return base_rps, base_p99, lines


def reads_while_writing_table(runs):
    base_rps, base_p99, lines = reads_while_writing_targets(runs)
    out = [
        "| run | follow-ups stored | writes/s | staff POST ms | req/s | p50 ms | p99 ms "
        "| req/s vs no writes | p99 vs no writes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, rate, r in runs:
        flags = " (non-2xx!)" if r["non_2xx"] else ""
        writes = (
            f"{r['writes']} | {r['writes_per_s']:.1f} | {r['write_ms']:.0f}"
            if rate
            else "— | — | —"
        )
        out.append(
            f"| {label}{flags} | {writes} | {_f(r['rps'])} | {_f(r['p50'], 2)} "
            f"| {_f(r['p99'], 2)} | {r['rps'] / base_rps:.2f}× "
            f"| {(r['p99'] or 0) / base_p99:.2f}× |"
        )
    samples = [s for _, _, r in runs for s in r.get("samples", [])]
    return out + ["", "Targets:", *lines] + ([f"First errors: {samples}"] if samples else [])


# --- HTTP caching: nginx in front ------------------------------------------------------------


def measure_nginx(env):
    """The cached dashboard through nginx (docs/nginx/ccmtracker.conf, bench/nginx.py) against
    the gunicorn floor (/healthz straight to gunicorn) and against nginx serving a static file
    of the dashboard's size (the most this machine serves at that size); a conditional GET
    (304) straight to gunicorn; the dashboard through nginx again while one staff member
    records 5 follow-ups a second (straight to gunicorn, as staff bypass the cache)."""
    import tempfile

    ensure_nginx()
    commitments = current_versions(env, "B19-")
    server = Server(env)
    static_dir = Path(tempfile.mkdtemp(prefix="ccm-bench-static-"))
    nginx = None
    try:
        cookies = login(f"{BENCH_STAFF}-4")
        headers = [ACCEPT_GZIP]
        status, answer, body = get("/", dict(h.split(": ", 1) for h in headers))
        if status != 200:
            raise RuntimeError(f"/ answered {status}")
        size = len(body)
        static_dir.chmod(0o755)
        static = static_dir / "dashboard-size.html"
        static.write_bytes(os.urandom(size))  # incompressible, like the gzipped page
        static.chmod(0o644)
        static_port = free_port()
        extra = f"server {{ listen {HOST}:{static_port}; location / {{ root {static_dir}; }} }}"
        nginx = Nginx(tempfile.mkdtemp(prefix="ccm-bench-nginx-"), PORT, extra=extra,
                      workers="auto").start()  # fmt: skip
        through = {"port": nginx.port, "headers": headers}
        wrk("/", seconds=2, headers=headers)  # warm every worker
        wrk("/", seconds=2, **through)  # and nginx's cache
        conditional = [*headers, f"If-None-Match: {answer['ETag']}"]
        runs = {}
        for label, args in [
            ("floor", {"path": "/healthz", "headers": headers}),
            ("304", {"path": "/", "headers": conditional}),
            ("nginx", {"path": "/", **through}),
            ("static", {"path": "/dashboard-size.html", "port": static_port}),
            ("floor again", {"path": "/healthz", "headers": headers}),
        ]:
            runs[label] = wrk(seconds=NGINX_SECONDS, **args)
            log(f"  nginx part, {label}: {runs[label]}")
        cache_status = _cache_status(nginx.port)
        writer = PacedWriter(cookies, commitments, 5, NGINX_SECONDS)
        writer.start()
        runs["nginx, 5 writes/s"] = wrk(seconds=NGINX_SECONDS, path="/", **through)
        writer.join()
        runs["nginx, 5 writes/s"].update(
            writes=writer.ok, writes_per_s=writer.ok / NGINX_SECONDS, write_errors=writer.errors
        )
        log(f"  nginx part, with writes: {runs['nginx, 5 writes/s']}")
    finally:
        if nginx:
            nginx.stop()
        server.stop()
        shutil.rmtree(static_dir, ignore_errors=True)
    return {"size": size, "runs": runs, "cache_status": cache_status}


def _cache_status(port):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", "/", headers={"Accept-Encoding": "gzip, deflate, br"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.getheader("X-Cache-Status")


def nginx_section(result):
    runs = result["runs"]
    floor = (runs["floor"]["rps"] + runs["floor again"]["rps"]) / 2
    static = runs["static"]["rps"]
    size = f"{result['size']:,} bytes"
    rows = [
        (
            "gunicorn floor: /healthz straight to gunicorn (mean of two runs)",
            floor,
            (runs["floor"]["p50"] + runs["floor again"]["p50"]) / 2,
            (runs["floor"]["p99"] + runs["floor again"]["p99"]) / 2,
        ),
        ("conditional GET of / (If-None-Match, 304) straight to gunicorn", *_r(runs["304"])),
        ("cached dashboard / through nginx", *_r(runs["nginx"])),
        (f"static file of the same size ({size}) from nginx", *_r(runs["static"])),
        ("cached dashboard / through nginx, 5 staff writes/s", *_r(runs["nginx, 5 writes/s"])),
    ]
    out = [
        "",
        "## HTTP caching: nginx in front",
        "",
        "Debian's nginx with the deployment guide's configuration (docs/nginx/ccmtracker.conf, "
        "plain HTTP, `worker_processes auto`) in front of the same gunicorn "
        f"({WORKERS} workers, 2,000 commitments); wrk -t2 -c8 for {NGINX_SECONDS} s a run, "
        "`Accept-Encoding: gzip`, wrk, nginx and gunicorn on the same machine. The static file is "
        "random bytes of the gzipped dashboard's size, served by the same nginx: the most this "
        "machine serves at that size. The writer records follow-ups through the staff page, "
        "straight to gunicorn (HTTP_CACHE_MAX_AGE at its default: nginx refreshes the page "
        f"once a minute). X-Cache-Status of / after the runs: {result['cache_status']}.",
        "",
        "| run | req/s | p50 ms | p99 ms | vs gunicorn floor | vs static file |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, rps, p50, p99 in rows:
        out.append(
            f"| {label} | {_f(rps)} | {_f(p50, 2)} | {_f(p99, 2)} | {rps / floor:.2f}× "
            f"| {rps / static:.2f}× |"
        )
    written = runs["nginx, 5 writes/s"]
    checks = [
        (runs["nginx"]["rps"] / floor >= 10, "dashboard through nginx ≥ 10× the gunicorn floor",
         f"{runs['nginx']['rps'] / floor:.1f}×"),
        (runs["nginx"]["rps"] / static >= 0.5, "dashboard through nginx ≥ 0.5× the static file",
         f"{runs['nginx']['rps'] / static:.2f}×"),
        (written["rps"] / floor >= 10 and written["rps"] / static >= 0.5,
         "the same with 5 staff writes/s going on",
         f"{written['rps'] / floor:.1f}× floor, {written['rps'] / static:.2f}× static; "
         f"{written['writes']} follow-ups stored, {written['write_errors']} errors"),
        (runs["304"]["rps"] / floor >= 0.9, "conditional GET (304) to gunicorn ≥ 0.9× the floor",
         f"{runs['304']['rps'] / floor:.2f}×"),
    ]  # fmt: skip
    bad = [label for label, r in runs.items() if r["non_2xx"] or r["socket_errors"]]
    out += ["", "Targets:"]
    out += [f"- {'met' if ok else 'MISSED'}: {text} (measured {got})" for ok, text, got in checks]
    if bad:
        out.append(f"- errors (non-2xx/3xx or socket errors) in: {', '.join(bad)}")
    return out


def _r(result):
    return result["rps"], result["p50"], result["p99"]


# --- report ----------------------------------------------------------------------------------


def _f(value, digits=1):
    return "—" if value is None else f"{value:,.{digits}f}"


def page_table(cached_rows, uncached_rows):
    lines = [
        "| page | cached req/s | p50 ms | p99 ms | ratio | uncached req/s | p50 ms | p99 ms "
        "| ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (label, c), (_, u) in zip(cached_rows, uncached_rows, strict=True):
        flags = "" if not (c["non_2xx"] or u["non_2xx"]) else " (non-2xx!)"
        lines.append(
            f"| {label}{flags} | {_f(c['rps'])} | {_f(c['p50'], 2)} | {_f(c['p99'], 2)} "
            f"| {c['rps'] / c['floor']:.2f}× | {_f(u['rps'])} | {_f(u['p50'], 2)} "
            f"| {_f(u['p99'], 2)} | {u['rps'] / u['floor']:.2f}× |"
        )
    return "\n".join(lines)


def targets(cached_rows, uncached_rows):
    cached = dict(cached_rows)
    uncached = dict(uncached_rows)
    public = ["dashboard /", "dashboard, filtered", "dashboard ?as_of=", "commitment page"]
    public += ["statement page", "Atom feed"]
    checks = [
        (f"cached {name} ≥ 0.9× floor", cached[name]["rps"] / cached[name]["floor"], 0.9)
        for name in public
    ]
    for name, label, goal in [
        ("dashboard /", "uncached dashboard ≥ 0.15× floor", 0.15),
        ("commitment page", "uncached commitment page ≥ 0.3× floor", 0.3),
    ]:
        checks.append((label, uncached[name]["rps"] / uncached[name]["floor"], goal))
    return [
        f"- {'met' if ratio >= goal else 'MISSED'}: {name} (measured {ratio:.2f}×)"
        for name, ratio, goal in checks
    ]


def prepare(url, name, scale, built):
    """The bench database at url, built once per bench run (or reused with BENCH_REUSE=1
    when it exists: not for the "writes" part, whose writers start from the built versions)."""
    if url in built:
        return bench_env(url)
    path = ROOT / url.removeprefix("sqlite:///")
    if REUSE and "writes" not in ONLY and url.startswith("sqlite:///") and path.exists():
        log(f"Reusing the {name} tracker ({url}), as it is…")
    else:
        log(f"Building the {name} tracker ({url})…")
        log(f"  built in {build(url, scale):.0f} s")
    env = bench_env(url)
    run([PY, "manage.py", "collectstatic", "--no-input", "-v0"], env)
    built.add(url)
    return env


def main():
    started = time.monotonic()
    unknown = set(ONLY) - set(PARTS)
    if unknown:
        sys.exit(f"BENCH_ONLY: unknown part(s) {sorted(unknown)}; the parts are {PARTS}")
    ensure_wrk()
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "gunicorn.log").write_text("")
    sections, built = [], set()
    sqlite_large = "sqlite:///var/bench/large.sqlite3"
    sizes = {"large": SIZES[0], "small": SIZES[1]}
    wanted = os.environ.get("BENCH_SIZES", "large,small").split(",")
    for name, scale in [sizes[w.strip()] for w in wanted if w.strip()] if "pages" in ONLY else []:
        url = sqlite_large if scale >= 1 else "sqlite:///var/bench/small.sqlite3"
        env = prepare(url, name, scale, built)
        log(f"  {name}: measuring pages, cache on then off…")
        cached = measure_pages(env, scale, cached=True)
        uncached = measure_pages(bench_env(url, cached=False), scale, cached=False)
        sections.append((name, scale, cached, uncached))

    memory = None
    if "memory" in ONLY:
        prepare(sqlite_large, SIZES[0][0], 1.0, built)
        log("Measuring the worker's memory while it streams 50,000 follow-ups as CSV…")
        memory = measure_csv_memory(bench_env(sqlite_large, cached=False))

    writes = []
    if "writes" in ONLY:
        prepare(sqlite_large, SIZES[0][0], 1.0, built)
        log(f"Writes under load on SQLite (WAL): {WRITERS} writers for {WRITE_SECONDS} s…")
        writes.append(("SQLite (WAL)", measure_writes(bench_env(sqlite_large), 1.0)))
        if postgres_answers():
            log("Building the 2,000-commitment tracker in PostgreSQL…")
            build(PG_URL, 1.0)
            log(f"Writes under load on PostgreSQL: {WRITERS} writers for {WRITE_SECONDS} s…")
            writes.append(("PostgreSQL", measure_writes(bench_env(PG_URL), 1.0)))
        else:
            writes.append(("PostgreSQL", None))

    reads_writing = None
    if "reads-while-writing" in ONLY:
        env = prepare(sqlite_large, SIZES[0][0], 1.0, built)
        log(f"Public reads while staff write: {len(RW_RUNS)} wrk runs of {RW_SECONDS} s on /…")
        reads_writing = measure_reads_while_writing(env)

    behind_nginx = None
    if "nginx" in ONLY:
        env = prepare(sqlite_large, SIZES[0][0], 1.0, built)
        log(f"HTTP caching: nginx in front, wrk runs of {NGINX_SECONDS} s…")
        behind_nginx = measure_nginx(env)

    report = render(
        sections, memory, writes, reads_writing, behind_nginx, time.monotonic() - started
    )
    print(report)
    partial = set(ONLY) != set(PARTS) or wanted != ["large", "small"]
    target = VAR / "benchmarks-partial.md" if partial else ROOT / "docs" / "benchmarks.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    # The meeting report's figures come from `make bench-report` (bench/report.py): kept.
    marker = "<!-- meeting report: bench/report.py -->"
    if target.exists() and marker in (previous := target.read_text()):
        report = report.rstrip("\n") + "\n\n" + marker + previous.split(marker, 1)[1]
    target.write_text(report)
    (VAR / ("results-partial.json" if partial else "results.json")).write_text(
        json.dumps(
            {
                "sections": sections,
                "memory": memory,
                "writes": writes,
                "reads_while_writing": reads_writing,
                "nginx": behind_nginx,
            },
            indent=1,
            default=str,
        )
    )
    log(f"Written to {target.relative_to(ROOT)} in {time.monotonic() - started:.0f} s.")


def render(sections, memory, writes, reads_writing, behind_nginx, took):
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks",
        "",
        f"Measured {now} by `make bench` ({took / 60:.1f} min) on {os.cpu_count()} cores, "
        f"gunicorn with the production gunicorn.conf.py (JSON access log) and {WORKERS} sync "
        "workers, DEBUG off, SQLite (WAL), the page cache in a "
        f"file cache shared by the workers; wrk -t2 -c8 for {SECONDS} s a page (the CSV export "
        "and /staff/: 2 connections, one longer run). The floor is /healthz (a short text "
        "through the whole middleware stack) on the same server, run in alternation with each "
        "page (floor, page, floor, page, half the time each) so that both meet the same load; "
        "a page's ratio is to its own paired floor (the slow pages': to the mean floor). "
        "Every request says "
        "`Accept-Encoding: gzip` as browsers do: **compare the ratios**, absolute numbers "
        "depend on the machine and on what "
        'else runs on it. "Uncached" is the same server with PAGE_CACHE_SECONDS=0, i.e. what '
        "the first request after any change costs.",
        "",
        "Reproduce: `make bench` (or `.venv/bin/python bench/run.py`; BENCH_SECONDS, "
        "BENCH_WORKERS, BENCH_PORT, BENCH_PG_URL to change the defaults). It builds its own "
        "databases under var/bench/ and ccm_perf_bench in PostgreSQL, never the development one.",
    ]
    if set(ONLY) != set(PARTS):
        out += ["", f"**A partial run** (BENCH_ONLY={','.join(ONLY)})."]
    for name, scale, cached, uncached in sections:
        statements = max(1, round(20 * scale))
        out += [
            "",
            f"## {name}",
            "",
            f"{statements} statements, {statements * 100:,} commitments, "
            f"{statements * 2500:,} follow-ups.",
            "",
            page_table(cached, uncached),
            "",
            "Targets:",
            *targets(cached, uncached),
        ]
    if memory is not None:
        out += [
            "",
            "## Streaming CSV: worker memory",
            "",
            f"One gunicorn worker streaming /data/follow-ups.csv ({memory['csv_rows']:,} rows, "
            f"{memory['csv_mb']:.1f} MB in {memory['seconds']:.1f} s, "
            f"streamed: {memory['streamed']}): idle RSS "
            f"{memory['idle_mb']:.1f} MB, peak {memory['peak_mb']:.1f} MB, "
            f"**{memory['delta_mb']:.1f} MB above idle** (target < 100 MB).",
        ]
    if writes:
        out += writes_section(writes)
    if reads_writing:
        out += [
            "",
            "## Public reads while staff write",
            "",
            f"wrk -t2 -c8 on the cached dashboard / (gzip) for {RW_SECONDS} s a run, on one "
            f"server ({WORKERS} workers, 2,000 commitments): with no writes, then while one staff "
            "member records 1, then 5 follow-ups a second through the staff page (session, CSRF, "
            "htmx, the version the form was based on; each write outdates every cached page), "
            "then with no writes again. Each run is compared with the mean of the two no-write "
            "runs. The page cache serves the outdated page for at most PAGE_CACHE_STALE_SECONDS "
            f"({os.environ.get('PAGE_CACHE_STALE_SECONDS', '5, the default')} s) while one worker "
            "rebuilds it (ccmtracker/pagecache.py). On a shared 2-core machine these figures are "
            "noisy: read them as ratios, run to run.",
            "",
            *reads_while_writing_table(reads_writing),
        ]
    if behind_nginx:
        out += nginx_section(behind_nginx)
    return "\n".join(out) + "\n"


def writes_section(writes):
    out = [
        "",
        "## Writes under load",
        "",
        f"{WRITERS} staff writers POST follow-ups through /staff/ (session, CSRF, htmx) for "
        f"{WRITE_SECONDS} s while wrk loads / and a commitment page (4 connections each); "
        "2,000 commitments.",
        "",
        '| database | writes | writes/s | errors | "database is locked" | stored | counts match '
        "| stored copies = recompute (`verify`) | public reads/s meanwhile | read errors |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    samples = []
    for database, result in writes:
        if result is None:
            out.append(
                f"| {database} | not measured: no server on 127.0.0.1:5432 | | | | | | | | |"
            )
            continue
        out.append(
            f"| {database} | {result['writes']:,} | {result['writes_per_s']:.1f} "
            f"| {result['errors']} | {result['locked']} | {result['stored']:,} "
            f"| {'yes' if result['counts_match'] else 'NO'} "
            f"| {'yes' if result['history_in_step'] else 'NO'} | {result['reads_per_s']:.1f} "
            f"| {result['read_errors']} |"
        )
        if result["samples"]:
            samples.append(f"First errors ({database}): {result['samples']}")
    out += ["", "Targets:"]
    for database, result in writes:
        if result is not None:
            met = (
                result["writes"] > 0
                and result["errors"] == 0
                and result["locked"] == 0
                and result["counts_match"]
                and result["history_in_step"]
                and result["read_errors"] == 0
            )
            out.append(
                f"- {'met' if met else 'MISSED'}: {database}: writes stored, zero errors, "
                "every follow-up stored, stored copies equal to a recompute (`manage.py verify`)"
            )
    out += ["", *samples] if samples else []
    return out


if __name__ == "__main__":
    main()
