"""The second review, as two editors do it (issue 15): a change of status stays off the public
pages until another editor confirms it; its author cannot confirm it."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from commitments.models import FollowUp, ProposedFollowUp, Status
from tests.conftest import member_of

from .test_staff_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Universalisation set as the presidency's first priority"


def test_a_status_change_is_public_only_once_another_editor_confirms_it(
    browser: Browser, live_server
):
    call_command("seed", verbosity=0)
    alice = member_of("editors", username="alice")
    bob = member_of("editors", username="bob")
    public = browser.new_context().new_page()
    commitment_url = f"{live_server.url}/commitments/NOR-2012-10/"

    # Alice records a change of status: it waits, and the form says so.
    first = browser.new_context().new_page()
    log_in(first, live_server, alice.username)
    row = first.locator("#c-NOR-2012-10")
    row.get_by_text("Record a follow-up").click()
    row.get_by_label("Status").select_option(Status.IN_PROGRESS.value)
    row.get_by_label("What happened (public)", exact=True).fill(NOTE)
    row.get_by_role("button", name="Record follow-up").click()
    expect(row.locator(".message-success")).to_contain_text(
        "sent for a second review: it will be public once another editor confirms it"
    )
    expect(row.locator(".pending")).to_contain_text("Waiting for a second review")
    public.goto(commitment_url)
    expect(public.locator("main")).not_to_contain_text(NOTE)
    expect(public.locator("main")).to_contain_text("not yet assessed")

    # Alice cannot confirm her own.
    first.goto(f"{live_server.url}/staff/review/")
    proposal = first.locator(".staff-row").filter(has_text="NOR-2012-10")
    expect(proposal).to_contain_text("You proposed this follow-up")
    expect(proposal.get_by_role("button", name="Confirm")).to_have_count(0)

    # Bob finds it from the staff page, sees what would change, and confirms it.
    second = browser.new_context().new_page()
    log_in(second, live_server, bob.username, next_url="/staff/")
    second.get_by_role("link", name="1 follow-up is waiting for a second review.").click()
    proposal = second.locator(".staff-row").filter(has_text="NOR-2012-10")
    expect(proposal).to_contain_text("Not yet assessed")
    expect(proposal).to_contain_text("In progress")
    expect(proposal).to_contain_text(NOTE)
    assert Axe().run(second).violations_count == 0
    proposal.get_by_role("button", name="Confirm").click()
    expect(second.locator("#review-queue .message-success")).to_contain_text(
        "Confirmed “In progress” on NOR-2012-10"
    )
    expect(second.locator("#review-queue")).to_contain_text("Nothing is waiting")
    follow_up = FollowUp.objects.get(commitment__reference="NOR-2012-10")
    assert (follow_up.author, follow_up.confirmed_by) == (alice, bob)
    assert not ProposedFollowUp.objects.pending().exists()

    # Now it is public, saying it was confirmed by a second reviewer.
    public.goto(commitment_url)
    timeline = public.locator(f"#follow-up-{follow_up.pk}")
    expect(timeline).to_contain_text(NOTE)
    expect(timeline).to_contain_text("Confirmed by a second reviewer on")
