"""`make bench`: serve a synthetic tracker with gunicorn and measure it with wrk.

For two data sizes (2,000 commitments / 50,000 follow-ups, and ten times smaller) it builds
a database of its own under var/bench/, serves it with gunicorn on 127.0.0.1 with DEBUG off,
and drives each page with wrk in bounded runs, page cache on and off, beside a trivial view
(/healthz, the floor) measured on the same server in the same run. Then it measures the
gunicorn worker's memory while it streams the 50,000-row CSV, and "writes under load": four
staff writers recording follow-ups over HTTP for 20 s while wrk loads the public pages, on
SQLite and, when it answers on 127.0.0.1:5432, PostgreSQL. Prints the tables and writes
docs/benchmarks.md. Absolute figures depend on the machine; compare the ratios to the floor.

Environment: BENCH_SECONDS (per wrk run, default 4), BENCH_PORT (default 8401),
BENCH_WORKERS (gunicorn workers, default 3), BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/ccm_perf_bench), BENCH_WRITE_SECONDS (default 20).
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
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/ccm_perf_bench")
WRITERS = 4
ACCEPT_GZIP = "Accept-Encoding: gzip, deflate, br"

sys.path.insert(0, str(ROOT / "bench"))
from build import BENCH_PASSWORD, BENCH_STAFF, VERSION_AFTER_BUILD  # noqa: E402

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


def wrk(path, seconds=SECONDS, connections=8, headers=()):
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
        [*args, f"http://{HOST}:{PORT}{path}"], capture_output=True, text=True, check=True
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
    """`manage.py rebuild_progress --check`: the stored progress history still equals a
    rebuild from the follow-ups after the concurrent writes."""
    result = subprocess.run(  # noqa: S603
        [PY, "manage.py", "rebuild_progress", "--check"], env=env, cwd=ROOT, capture_output=True
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


def main():
    started = time.monotonic()
    ensure_wrk()
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "gunicorn.log").write_text("")
    sections = []
    sqlite_large = "sqlite:///var/bench/large.sqlite3"
    for name, scale in SIZES:
        url = sqlite_large if scale >= 1 else "sqlite:///var/bench/small.sqlite3"
        log(f"Building the {name} tracker ({url})…")
        took = build(url, scale)
        env = bench_env(url)
        run([PY, "manage.py", "collectstatic", "--no-input", "-v0"], env)
        log(f"  built in {took:.0f} s; measuring pages, cache on then off…")
        cached = measure_pages(env, scale, cached=True)
        uncached = measure_pages(bench_env(url, cached=False), scale, cached=False)
        sections.append((name, scale, cached, uncached))

    log("Measuring the worker's memory while it streams 50,000 follow-ups as CSV…")
    memory = measure_csv_memory(bench_env(sqlite_large, cached=False))

    writes = []
    log(f"Writes under load on SQLite (WAL): {WRITERS} writers for {WRITE_SECONDS} s…")
    writes.append(("SQLite (WAL)", measure_writes(bench_env(sqlite_large), 1.0)))
    if postgres_answers():
        log("Building the 2,000-commitment tracker in PostgreSQL…")
        build(PG_URL, 1.0)
        log(f"Writes under load on PostgreSQL: {WRITERS} writers for {WRITE_SECONDS} s…")
        writes.append(("PostgreSQL", measure_writes(bench_env(PG_URL), 1.0)))
    else:
        writes.append(("PostgreSQL", None))

    report = render(sections, memory, writes, time.monotonic() - started)
    print(report)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    (VAR / "results.json").write_text(
        json.dumps(
            {"sections": sections, "memory": memory, "writes": writes}, indent=1, default=str
        )
    )
    log(f"Written to docs/benchmarks.md in {time.monotonic() - started:.0f} s.")


def render(sections, memory, writes, took):
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
    out += [
        "",
        "## Streaming CSV: worker memory",
        "",
        f"One gunicorn worker streaming /data/follow-ups.csv ({memory['csv_rows']:,} rows, "
        f"{memory['csv_mb']:.1f} MB in {memory['seconds']:.1f} s, streamed: {memory['streamed']}): "
        "idle RSS "
        f"{memory['idle_mb']:.1f} MB, peak {memory['peak_mb']:.1f} MB, "
        f"**{memory['delta_mb']:.1f} MB above idle** (target < 100 MB).",
        "",
        "## Writes under load",
        "",
        f"{WRITERS} staff writers POST follow-ups through /staff/ (session, CSRF, htmx) for "
        f"{WRITE_SECONDS} s while wrk loads / and a commitment page (4 connections each); "
        "2,000 commitments.",
        "",
        '| database | writes | writes/s | errors | "database is locked" | stored | counts match '
        "| progress history in step | public reads/s meanwhile | read errors |",
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
                "every follow-up stored, progress history in step"
            )
    out += ["", *samples] if samples else []
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
