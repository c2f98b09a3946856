import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from commitments.models import Commitment, FollowUp, Status
from tests.conftest import member_of

from .test_staff_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_row(page: Page, reference):
    row = page.locator(f"#c-{reference}")
    row.get_by_text("Record a follow-up").click()
    return row


@pytest.mark.parametrize("second_has_js", [True, False], ids=["htmx", "no-js"])
def test_two_sessions_stale_follow_up_is_refused_with_what_changed(
    second_review_off, browser: Browser, live_server, second_has_js
):
    call_command("seed", verbosity=0)
    alice = member_of("editors", username="alice")
    bob = member_of("editors", username="bob")
    first = browser.new_context().new_page()
    second = browser.new_context(java_script_enabled=second_has_js).new_page()
    log_in(first, live_server, alice.username)
    log_in(second, live_server, bob.username)

    # Both open the same commitment's form; Alice records first.
    bob_row = open_row(second, "NOR-2012-07")
    bob_row.get_by_label("Status").select_option(Status.NOT_STARTED.value)
    bob_row.get_by_label("What happened (public)", exact=True).fill("Bob's words")
    bob_row.get_by_label("Internal note (staff only)").fill("Bob's private note")
    alice_row = open_row(first, "NOR-2012-07")
    alice_row.get_by_label("Status").select_option(Status.IN_PROGRESS.value)
    alice_row.get_by_label("What happened (public)", exact=True).fill(
        "Alice met the regional group"
    )
    alice_row.get_by_role("button", name="Record follow-up").click()
    expect(first.locator("#c-NOR-2012-07 .message-success")).to_contain_text("In progress")

    # Bob's form is out of date: refused, told what changed, his words kept.
    second.locator("#c-NOR-2012-07").get_by_role("button", name="Record follow-up").click()
    conflict = second.locator("#c-NOR-2012-07 .conflict")
    expect(conflict).to_contain_text("Not saved: NOR-2012-07 was changed by someone else")
    expect(conflict).to_contain_text("Alice met the regional group")
    expect(conflict).to_contain_text("alice")
    row = second.locator("#c-NOR-2012-07")
    expect(row.get_by_label("What happened (public)", exact=True)).to_have_value("Bob's words")
    expect(row.get_by_label("Internal note (staff only)")).to_have_value("Bob's private note")
    expect(row.get_by_label("Status")).to_have_value(Status.NOT_STARTED.value)
    assert list(FollowUp.objects.values_list("author__username", flat=True)) == ["alice"]
    if second_has_js:  # axe runs as a script in the page
        assert Axe().run(second).violations_count == 0

    # Having seen it, Bob records his on top: a deliberate second submission.
    row.get_by_role("button", name="Record follow-up").click()
    if second_has_js:
        expect(second.locator("#c-NOR-2012-07 .message-success")).to_contain_text("Not started")
    else:
        expect(second.locator(".messages")).to_contain_text("Not started")
    assert FollowUp.objects.count() == 2


def test_staff_page_filters_work_without_javascript_for_a_viewer(browser: Browser, live_server):
    call_command("seed", verbosity=0)
    viewer = member_of("viewers")
    page = browser.new_context(java_script_enabled=False).new_page()
    log_in(page, live_server, viewer.username, next_url="/staff/")
    page.get_by_role("link", name="All 10").click()
    page.get_by_role("group", name="Filter").get_by_label("Theme").select_option("norm")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(f"{live_server.url}/staff/?show=all&theme=norm&status=&owner=")
    expect(page.locator(".staff-row")).to_have_count(2)
    assert page.locator(".follow-up-form").count() == 0  # viewers change nothing


def test_staff_page_has_no_axe_violations(page: Page, live_server):
    call_command("seed", verbosity=0)
    editor = member_of("editors")
    Commitment.objects.filter(reference="NOR-2012-03").update(owner=editor)
    log_in(page, live_server, editor.username, next_url="/staff/")
    open_row(page, "NOR-2012-03")
    assert Axe().run(page).violations_count == 0
    # With htmx: filtering swaps the results in place and pushes a shareable URL.
    page.get_by_role("link", name="All 10").click()
    expect(page).to_have_url(f"{live_server.url}/staff/?show=all")
    expect(page.locator(".staff-row")).to_have_count(10)
    page.get_by_role("group", name="Filter").get_by_label("Status").select_option("not_assessed")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(f"{live_server.url}/staff/?show=all&theme=&status=not_assessed&owner=")
    open_row(page, "NOR-2012-09").get_by_label("Date it happened").fill("")
    page.locator("#c-NOR-2012-09").get_by_role("button", name="Record follow-up").click()
    expect(page.locator("#c-NOR-2012-09 .errors").first).to_contain_text("Nothing was saved")
    assert Axe().run(page).violations_count == 0


def test_bulk_follow_up_from_the_admin_list(second_review_off, page: Page, live_server):
    call_command("seed", verbosity=0)
    editor = member_of("editors")
    log_in(page, live_server, editor.username, next_url="/admin/commitments/commitment/")
    for reference in ("NOR-2012-01", "NOR-2012-02"):
        page.get_by_role("checkbox", name=f"Select this object for an action - {reference}").check()
    page.locator("select[name=action]").select_option("bulk_follow_up")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", name="2 commitments selected")).to_be_visible()
    page.get_by_label("Status").select_option(Status.ON_TRACK.value)
    page.get_by_label("Date it happened").fill("2013-05-02")
    page.get_by_label("What happened (public)", exact=True).fill(
        "Raised at the UN General Assembly"
    )
    page.get_by_role("button", name="Record on all selected").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Recorded the follow-up on each of 2 commitments"
    )
    assert sorted(FollowUp.objects.values_list("commitment__reference", flat=True)) == [
        "NOR-2012-01",
        "NOR-2012-02",
    ]


def upload(page: Page, live_server, csv_text):
    page.goto(f"{live_server.url}/admin/commitments/commitment/import/")
    page.get_by_label("File to import").set_input_files(
        {"name": "commitments.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    # CSV is the only format: the form carries it as a hidden field.
    page.get_by_role("button", name="Submit").click()


def test_import_with_a_bad_row_is_refused_then_a_good_import_applies(page: Page, live_server):
    from tests.test_import_export import bad_and_good_rows

    call_command("seed", verbosity=0)
    administrator = member_of("administrators")
    log_in(page, live_server, administrator.username, next_url="/admin/")
    with_bad, good = bad_and_good_rows()

    upload(page, live_server, with_bad)
    expect(page.locator("body")).to_contain_text("word for word")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    assert Commitment.objects.count() == 10

    upload(page, live_server, good)
    expect(page.get_by_role("button", name="Confirm import")).to_be_visible()
    assert Commitment.objects.count() == 10  # the preview is a dry run
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_contain_text("new")
    assert Commitment.objects.get(reference="NOR-2012-11").published is False
