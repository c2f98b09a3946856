"""Time the meeting report (/reports/<meeting>/ and its PDF) on the synthetic tracker.

    .venv/bin/python bench/report.py            # or: make bench-report

Builds bench/build.py's tracker (scale 1: 2,000 commitments, 50,000 follow-ups) in a
SQLite database of its own, var/bench/report.sqlite3 (BENCH_REPORT_DATABASE_URL for
another, e.g. PostgreSQL; BENCH_REUSE=1 keeps one already built), adds a meeting of States
Parties each September from 2012 and the treaty events of 120 states, collects the static
files as production does, and renders the latest closed meeting's report in process (DEBUG
off, page cache off: every request builds the page), HTML and PDF, BENCH_RUNS times each
(default 2), the HTML after one warm-up. Prints the figures and writes them into
docs/benchmarks.md, between the "meeting report" markers (`make bench` keeps that part).
"""

import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
DATABASE = os.environ.get("BENCH_REPORT_DATABASE_URL", "sqlite:///var/bench/report.sqlite3")
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
REUSE = os.environ.get("BENCH_REUSE", "") not in ("", "0")
STATES_WITH_EVENTS = 120
START, END = "<!-- meeting report: bench/report.py -->", "<!-- /meeting report -->"

os.environ.update(
    DATABASE_URL=DATABASE,
    DJANGO_SECRET_KEY="bench-only-not-a-secret",  # noqa: S106 - a throwaway bench database
    DJANGO_ALLOWED_HOSTS="testserver",
    DJANGO_SECURE_SSL_REDIRECT="0",
    PAGE_CACHE_SECONDS="0",
    CACHE_DIR=str(VAR / "report-cache"),
)
os.environ.pop("DJANGO_DEBUG", None)
os.environ.pop("REDIS_URL", None)
os.environ.pop("CACHE_URL", None)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmtracker.settings")


def database_file():
    if DATABASE.startswith("sqlite:///"):
        return ROOT / DATABASE.removeprefix("sqlite:///")
    return None


def build_tracker():
    path = database_file()
    if path is not None and path.exists() and REUSE:
        return "reused"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    import build

    started = time.perf_counter()
    counts = build.build(1.0)
    add_meetings_and_treaty_events()
    return f"built in {time.perf_counter() - started:.0f} s: {counts}"


def add_meetings_and_treaty_events(seed=2008):
    from commitments.models import Meeting, State, TreatyEvent

    rng = random.Random(seed)  # noqa: S311 - synthetic data
    today = datetime.date.today()
    meetings = []
    for n, year in enumerate(range(2012, today.year + 1), start=3):
        end = datetime.date(year, 9, 14)
        if end <= today:
            meetings.append(
                Meeting(
                    code=f"{n}MSP",
                    kind=Meeting.Kind.MEETING_OF_STATES_PARTIES,
                    name=f"Meeting of States Parties {n}",
                    place="Geneva",
                    start=end - datetime.timedelta(days=3),
                    end=end,
                    source_url="https://www.clusterconvention.org/",
                )
            )
    # The meetings the migrations load (2MSP-9MSP, 2012-2019) stay as they are; the synthetic
    # ones carry on after them, a meeting each September.
    Meeting.objects.bulk_create(meetings, ignore_conflicts=True)
    source = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-6"
    events = []
    states = list(State.objects.order_by("id")[:STATES_WITH_EVENTS])
    for n, state in enumerate(states):
        signed = datetime.date(2008, 12, 3) + datetime.timedelta(days=rng.randint(0, 400))
        events.append(TreatyEvent(state=state, kind="signature", date=signed, source_url=source))
        if n % 4:
            deposit = signed + datetime.timedelta(days=rng.randint(100, 5000))
            if deposit < today:
                events.append(
                    TreatyEvent(
                        state=state,
                        kind="ratification",
                        date=deposit,
                        notification=f"C.N.{n}.{deposit.year}.TREATIES-XXVI.6",
                    )
                )
                if n % 23 == 0:
                    received = deposit + datetime.timedelta(days=rng.randint(400, 2000))
                    if received < today:
                        events.append(
                            TreatyEvent(
                                state=state, kind="withdrawal", date=received, source_url=source
                            )
                        )
    TreatyEvent.objects.bulk_create(events)


def timed(client, url, runs, warm=True):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if warm:
        started = time.perf_counter()
        client.get(url)  # warm-up: templates, the first queries
        print(f"{url}: warm-up {time.perf_counter() - started:.2f} s", flush=True)
    seconds = []
    for _run in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - started)
        print(f"{url}: {seconds[-1]:.2f} s, {len(queries)} queries", flush=True)
        assert response.status_code == 200, (url, response.status_code)
    return response, seconds, len(queries)


def main():
    log = [build_tracker()]
    print(log[0], flush=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("collectstatic", interactive=False, verbosity=0)
    from commitments.models import Commitment, FollowUp
    from commitments.reports import closed_meetings, previous_meeting

    meeting = closed_meetings().first()
    previous = previous_meeting(meeting)
    client = Client()
    html_url = f"/reports/{meeting.code}/"
    pdf_url = f"/reports/{meeting.code}/report.pdf"
    html, html_s, html_q = timed(client, html_url, RUNS)
    # No warm-up of its own: the page's warmed the template and the queries.
    pdf, pdf_s, pdf_q = timed(client, pdf_url, RUNS, warm=False)
    import io

    from pypdf import PdfReader

    from commitments.reports import PDF_LISTED

    pages = len(PdfReader(io.BytesIO(pdf.content)).pages)
    listed = FollowUp.objects.filter(
        happened_on__gt=previous.end, happened_on__lte=meeting.end, commitment__published=True
    ).count()
    measured = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def row(name, seconds, queries, size):
        return (
            f"| {name} | {statistics.median(seconds):.2f} | {min(seconds):.2f} | "
            f"{max(seconds):.2f} | {queries} | {size} |"
        )

    section = [
        START,
        "## Meeting report",
        "",
        f"Measured {measured} by `make bench-report` (`bench/report.py`) on 2 cores shared with "
        f"other work, in process (Django's test client, DEBUG off, page cache off: every "
        f"request builds the report), SQLite. The tracker of `bench/build.py` at scale 1: "
        f"{Commitment.objects.count():,} commitments, {FollowUp.objects.count():,} follow-ups, "
        f"a meeting each September from 2012, {STATES_WITH_EVENTS} states with treaty events. "
        f"The report of {meeting.code} (closed {meeting.end}) against {previous.code} "
        f"({previous.end}): {listed:,} follow-ups listed. HTML: {RUNS} runs after a warm-up; "
        f"PDF: {RUNS} runs after the HTML's.",
        "",
        "| report | median s | fastest s | slowest s | queries | size |",
        "|---|---:|---:|---:|---:|---:|",
        row("HTML", html_s, html_q, f"{len(html.content) / 1e6:.1f} MB"),
        row("PDF", pdf_s, pdf_q, f"{len(pdf.content) / 1e6:.1f} MB, {pages} pages"),
        "",
        "A page is built once per change of the public data: the page cache "
        "(ccmtracker/pagecache.py) serves it, HTML and PDF, until then.",
        "",
        f"The PDF lists at most {PDF_LISTED} items in each list and says how many more there "
        "are, with the address of the web page that lists them all "
        "(`commitments/reports.PDF_LISTED`). Without that cap, at this size, it took 958 s "
        "and 369 pages (2026-12-02, on a busier machine): far beyond gunicorn's 30 s timeout.",
        END,
    ]
    text = "\n".join(section)
    print("\n".join(log))
    print(text)
    target = ROOT / "docs" / "benchmarks.md"
    current = target.read_text()
    if START in current:
        before, _old = current.split(START, 1)
        after = _old.split(END, 1)[1]
        target.write_text(before + text + after)
    else:
        target.write_text(current.rstrip("\n") + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
