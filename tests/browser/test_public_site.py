import csv
import datetime
import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, Status
from commitments.records import record_follow_up

from ..conftest import CANARY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
STATEMENT = "/statements/norway-2012-04-16-universalisation/"


@pytest.fixture
def tracker(db):
    """The seed statement with a public history, an internal note and an overdue review."""
    call_command("seed", verbosity=0)
    user = get_user_model().objects.create(username="author", is_staff=True)

    def record(reference, status, on, **kwargs):
        record_follow_up(
            Commitment.objects.get(reference=reference),
            status=status,
            happened_on=on,
            by=user,
            **kwargs,
        )

    record("NOR-2012-10", Status.IN_PROGRESS, D(2012, 9, 11), public_note="3MSP agenda set",
           internal_note=CANARY)  # fmt: skip
    record("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9), public_note="Presidency report",
           evidence_url="https://example.org/report", evidence_label="Report")  # fmt: skip
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1), public_note="Raised at the UNGA",
           internal_note=CANARY)  # fmt: skip
    record("NOR-2012-07", Status.IN_PROGRESS, D(2014, 3, 1), public_note="Regional workshop")
    Commitment.objects.filter(reference="NOR-2012-05").update(next_review=D(2013, 1, 1))


def public_pages():
    return [
        "/",
        "/?as_of=2013-09-13",
        "/?theme=norm&status=achieved",  # empty results
        "/?as_of=not-a-date&theme=nope",  # errors shown
        "/commitments/NOR-2012-10/",
        "/commitments/NOR-2012-10/?as_of=2013-01-01",
        "/commitments/NOR-2012-05/",  # overdue, no follow-up
        STATEMENT,
        f"{STATEMENT}?as_of=2013-01-01",
        "/statements/",
        "/?delegation=Norway",
    ]


def test_visitor_filters_opens_switches_language_goes_back_in_time_and_downloads(
    page: Page, live_server, tracker
):
    page.goto(f"{live_server.url}/")
    page.evaluate("window.noReloadMarker = 'still here'")

    # Filter by theme: the list changes in place and the address can be shared.
    page.get_by_label("Theme", exact=True).select_option("promotion")
    expect(page).to_have_url(f"{live_server.url}/?theme=promotion")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#results-status")).to_have_text(
        "2 commitments match; figures, chart and list updated."
    )
    assert page.evaluate("window.noReloadMarker") == "still here"

    # Open a commitment.
    page.get_by_role("link", name="NOR-2012-10").click()
    expect(page).to_have_url(f"{live_server.url}/commitments/NOR-2012-10/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Norwegian presidency")
    expect(page.locator(".timeline")).to_contain_text("Presidency report")

    # Switch to French.
    page.get_by_role("link", name="Français").click()
    expect(page).to_have_url(f"{live_server.url}/fr/commitments/NOR-2012-10/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("blockquote.quote > p")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Ce qui a été fait")).to_be_visible()

    # Pick an earlier date: the close of the Third Meeting of States Parties, in Oslo.
    page.get_by_role("link", name=re.compile(r"^3MSP, Oslo")).click()
    expect(page).to_have_url(f"{live_server.url}/fr/commitments/NOR-2012-10/?as_of=2012-09-14")
    expect(page.locator(".past-notice")).to_contain_text("Ceci est le passé.")
    expect(page.locator(".timeline")).to_contain_text("3MSP agenda set")
    expect(page.locator(".timeline")).not_to_contain_text("Presidency report")
    expect(page.locator(".facts")).to_contain_text("En cours")

    # Back to the dashboard at that date, and download the CSV of what it shows.
    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/fr/?as_of=2012-09-14")
    expect(page.locator(".past-notice")).to_be_visible()
    with page.expect_download() as download_info:
        page.locator(".downloads").get_by_role("link", name="CSV").first.click()
    download = download_info.value
    assert download.suggested_filename == "ccmtracker-commitments-20120914.csv"
    with open(download.path(), encoding="utf-8-sig") as handle:
        text = handle.read()
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["NOR-2012-10"]["status"] == "in_progress"
    assert rows["NOR-2012-09"]["status"] == "not_assessed"
    assert CANARY not in text

    # The JSON of the same selection, and the follow-ups in both formats, hold no internal note.
    for name in ["commitments", "follow-ups"]:
        for fmt in ["csv", "json"]:
            for query in ["", "?as_of=2012-09-14"]:
                body = page.request.get(f"{live_server.url}/data/{name}.{fmt}{query}").text()
                assert CANARY not in body, (name, fmt, query)
    json_data = page.request.get(f"{live_server.url}/data/follow-ups.json").json()
    assert {f["public_note"] for f in json_data["follow_ups"]} == {
        "3MSP agenda set",
        "Presidency report",
        "Raised at the UNGA",
        "Regional workshop",
    }


@pytest.mark.parametrize("language", ["", "/fr", "/es"])
def test_every_public_page_has_no_accessibility_violation(
    page: Page, live_server, tracker, language
):
    axe = Axe()
    for path in public_pages():
        page.goto(f"{live_server.url}{language}{path}")
        # Open every disclosure so that the status scale and the chart's table are checked too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        results = axe.run(page)
        assert results.violations_count == 0, f"{language}{path}\n{results.generate_report()}"


def test_htmx_updated_list_has_no_accessibility_violation(page: Page, live_server, tracker):
    page.goto(f"{live_server.url}/fr/")
    page.get_by_label("Thème", exact=True).select_option("norm")
    expect(page).to_have_url(re.compile(r"theme=norm"))
    page.get_by_label("Verdict", exact=True).select_option("achieved")
    expect(page.locator("#results .empty")).to_be_visible()
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_back_keeps_the_live_region_and_enter_in_search_sends_one_request(
    page: Page, live_server, tracker
):
    problems, htmx_requests = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda r: htmx_requests.append(r.url) if "hx-request" in r.headers else None)
    page.goto(f"{live_server.url}/")
    page.get_by_label("Theme", exact=True).select_option("promotion")
    expect(page).to_have_url(f"{live_server.url}/?theme=promotion")
    page.get_by_label("Verdict", exact=True).select_option("achieved")
    expect(page.locator("#results tbody tr")).to_have_count(1)

    # Back: htmx asks the server for the earlier page and swaps it in whole.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/?theme=promotion")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    expect(page.locator("#results-status")).to_have_count(1)
    # The live region is still there to announce the next change.
    page.get_by_label("Verdict", exact=True).select_option("not_confirmed")
    expect(page.locator("#results-status")).to_have_text(
        "1 commitment matches; figures, chart and list updated."
    )

    # Enter in the search box: one request (it fires submit, and change too).
    page.get_by_label("Verdict", exact=True).select_option("")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.get_by_role("searchbox", name="Search").fill("bilateral")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=bilateral"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    # Playwright may report a request after the page has already used its answer
    # (the verdict's, on a busy machine), so count the ones that carry the search
    # text, once the network has gone quiet so that a duplicate would be in.
    page.wait_for_load_state("networkidle")
    searches = [url for url in htmx_requests if "q=bilateral" in url]
    assert len(searches) == 1, htmx_requests
    assert problems == []


def test_keyboard_reaches_content_filters_and_results(page: Page, live_server, tracker):
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    search = page.get_by_role("searchbox", name="Search")
    for _ in range(80):
        if search.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(search).to_be_focused()
    page.keyboard.type("bilateral")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=bilateral"))
    expect(page.locator("#results tbody tr")).to_have_count(1)

    link = page.locator("#results").get_by_role("link", name="NOR-2012-09")
    for _ in range(20):
        if link.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/commitments/NOR-2012-09/")


def test_filters_work_without_javascript(browser, live_server, tracker):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/")
    page.get_by_label("Tema", exact=True).select_option("promotion")
    page.get_by_role("button", name="Aplicar filtros").click()
    expect(page).to_have_url(re.compile(r"/es/\?.*theme=promotion"))
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.get_by_label("Buscar").fill("no such words")
    page.get_by_role("button", name="Aplicar filtros").click()
    expect(page.locator("#results .empty")).to_contain_text(
        "Ningún compromiso coincide con estos filtros."
    )
    page.get_by_role("link", name="Quite los filtros para verlos todos.").click()
    expect(page.locator("#results tbody tr")).to_have_count(10)
    context.close()


@pytest.mark.parametrize("language", ["", "/fr", "/es"])
def test_layout_fits_a_360_pixel_wide_screen(browser, live_server, tracker, language):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    for path in public_pages():
        page.goto(f"{live_server.url}{language}{path}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{language}{path} is {width}px wide"
    context.close()


def test_print_shows_content_without_controls(page: Page, live_server, tracker):
    page.goto(f"{live_server.url}/commitments/NOR-2012-10/")
    page.emulate_media(media="print")
    expect(page.locator("blockquote.quote")).to_be_visible()
    expect(page.locator(".timeline")).to_be_visible()
    expect(page.locator("nav.languages")).to_be_hidden()
    expect(page.locator(".as-of-form")).to_be_hidden()
    expect(page.locator(".skip-link")).to_be_hidden()
    # The footer's links are controls: gone, and their separators with them.
    footer = page.locator(".site-footer")
    expect(footer).to_contain_text("Every status is backed by a dated follow-up")
    expect(footer).not_to_contain_text("Open data", use_inner_text=True)
    assert ", ," not in footer.inner_text()
    page.goto(f"{live_server.url}/")
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator(".chart-svg").first).to_be_visible()


def test_public_pages_fetch_nothing_from_another_host(page: Page, live_server, tracker):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for path in public_pages():
        page.goto(f"{live_server.url}/fr{path}")
        page.wait_for_load_state("networkidle")
    assert requested
    assert all(url.startswith(live_server.url) for url in requested), [
        url for url in requested if not url.startswith(live_server.url)
    ]


def test_browser_finds_the_feeds_and_reads_them(page: Page, live_server, tracker):
    page.goto(f"{live_server.url}/commitments/NOR-2012-09/")
    feeds = page.locator('link[rel="alternate"][type="application/atom+xml"]')
    hrefs = [feeds.nth(i).get_attribute("href") for i in range(feeds.count())]
    assert hrefs == ["/feed/", "/commitments/NOR-2012-09/feed/"]
    body = page.request.get(f"{live_server.url}/commitments/NOR-2012-09/feed/").text()
    assert "Raised at the UNGA" in body
    assert CANARY not in body
