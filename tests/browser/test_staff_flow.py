from urllib.parse import quote

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import FollowUp, Status

from ..factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, live_server, username, next_url="/staff/?show=all"):
    page.goto(f"{live_server.url}/admin/login/?next={quote(next_url)}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{next_url}")


def test_staff_records_follow_up_in_place_and_public_sees_it(page: Page, live_server):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, user.username)

    page.evaluate("window.noReloadMarker = 'still here'")
    row = page.locator("#c-NOR-2012-10")
    row.get_by_text("Record a follow-up").click()
    row.get_by_label("Status").select_option(Status.IN_PROGRESS.value)
    row.get_by_label("Date it happened").fill("2012-09-14")
    row.get_by_label("What happened (public)").fill(
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
    row.get_by_label("What happened (public)").fill("Keep me")
    row.get_by_role("button", name="Record follow-up").click()
    expect(page.locator("#c-NOR-2012-05 .errors").first).to_contain_text("Nothing was saved")
    expect(page.locator("#c-NOR-2012-05 .errors").first).to_be_focused()
    expect(page.locator("#c-NOR-2012-05").get_by_label("What happened (public)")).to_have_value(
        "Keep me"
    )
    assert FollowUp.objects.count() == 0
