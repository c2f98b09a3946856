import datetime
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from commitments.models import Commitment, FollowUp, Status
from commitments.records import record_follow_up

from ..factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, live_server, username, next_url="/staff/?show=all"):
    page.goto(f"{live_server.url}/admin/login/?next={quote(next_url)}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{next_url}")


def test_staff_records_follow_up_in_place_and_public_sees_it(
    second_review_off, page: Page, live_server
):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, user.username)

    page.evaluate("window.noReloadMarker = 'still here'")
    row = page.locator("#c-NOR-2012-10")
    row.get_by_text("Record a follow-up").click()
    row.get_by_label("Status").select_option(Status.IN_PROGRESS.value)
    row.get_by_label("Date it happened").fill("2012-09-14")
    row.get_by_label("What happened (public)", exact=True).fill(
        "Presidency priorities include universalisation"
    )
    row.get_by_label("Internal note (staff only)").fill("Call the desk officer")
    row.get_by_role("button", name="Record follow-up").click()

    expect(page.locator("#c-NOR-2012-10 .message-success")).to_contain_text("In progress")
    # The button that had focus is gone with the old row: focus is on what happened.
    expect(page.locator("#c-NOR-2012-10 .message-success")).to_be_focused()
    expect(page.locator("#c-NOR-2012-10 .row-state")).to_contain_text("In progress")
    assert page.evaluate("window.noReloadMarker") == "still here"
    follow_up = FollowUp.objects.get()
    assert follow_up.author == user

    page.goto(f"{live_server.url}/")
    expect(page.locator("#row-NOR-2012-10")).to_contain_text("In progress")
    expect(page.locator("body")).not_to_contain_text("Call the desk officer")


def test_invalid_follow_up_shows_error_in_the_row_and_keeps_input(page: Page, live_server):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, user.username)
    row = page.locator("#c-NOR-2012-05")
    row.get_by_text("Record a follow-up").click()
    row.get_by_label("Date it happened").fill("")
    row.get_by_label("What happened (public)", exact=True).fill("Keep me")
    row.get_by_role("button", name="Record follow-up").click()
    expect(page.locator("#c-NOR-2012-05 .errors").first).to_contain_text("Nothing was saved")
    expect(page.locator("#c-NOR-2012-05 .errors").first).to_be_focused()
    expect(
        page.locator("#c-NOR-2012-05").get_by_label("What happened (public)", exact=True)
    ).to_have_value("Keep me")
    assert FollowUp.objects.count() == 0


def no_axe_violations(page: Page, name):
    results = Axe().run(page)
    assert not results.violations_count, f"{name}:\n{results.generate_report()}"


def test_confirm_no_change_by_keyboard_in_the_row_and_in_the_admin(page: Page, live_server):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    for reference in ("NOR-2012-01", "NOR-2012-02"):
        record_follow_up(
            Commitment.objects.get(reference=reference),
            status=Status.ON_TRACK,
            by=user,
            happened_on=datetime.date(2013, 3, 1),
        )
    log_in(page, live_server, user.username)
    page.evaluate("window.noReloadMarker = 'still here'")
    row = page.locator("#c-NOR-2012-01")
    expect(row.locator(".row-state")).to_contain_text("latest evidence 1 Mar 2013")
    expect(page.locator("#c-NOR-2012-10 .confirm-form")).to_have_count(0)  # not yet assessed
    no_axe_violations(page, "staff page with confirm forms")

    # Nothing said about what was checked: refused in the row, focus on why.
    button = row.get_by_role("button", name="Confirm, no change on NOR-2012-01")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#c-NOR-2012-01 .errors").first).to_contain_text("Not confirmed.")
    expect(page.locator("#c-NOR-2012-01 .errors").first).to_be_focused()
    no_axe_violations(page, "refused confirmation")

    # By keyboard alone: type the note, tab past the link to the button, press Enter.
    confirm = row.locator(".confirm-form")
    confirm.get_by_label("What you checked (public)").focus()
    page.keyboard.type("Raised again in the First Committee")
    page.keyboard.press("Tab")
    expect(confirm.get_by_label("Evidence link")).to_be_focused()
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Confirm, no change on NOR-2012-01")).to_be_focused()
    page.keyboard.press("Enter")
    message = page.locator("#c-NOR-2012-01 .message-success")
    expect(message).to_contain_text("Confirmed “On track” on NOR-2012-01")
    expect(message).to_be_focused()
    today = timezone.localdate()
    expect(row.locator(".row-state")).to_contain_text(f"latest evidence {today.day} {today:%b %Y}")
    assert page.evaluate("window.noReloadMarker") == "still here"
    confirmation = FollowUp.objects.filter(commitment__reference="NOR-2012-01").first()
    assert (confirmation.status, confirmation.happened_on) == (Status.ON_TRACK, today)

    # The admin: from the commitment's page, the same step.
    commitment = Commitment.objects.get(reference="NOR-2012-02")
    page.goto(f"{live_server.url}/admin/commitments/commitment/{commitment.pk}/change/")
    page.get_by_role("link", name="Confirm, no change").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("NOR-2012-02")
    no_axe_violations(page, "admin confirm page")
    page.get_by_label("Evidence link").fill("https://example.org/first-committee")
    page.get_by_label("Evidence link").press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("Confirmed “On track” on NOR-2012-02")
    assert commitment.follow_ups.first().happened_on == today
