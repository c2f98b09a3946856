"""The strict Content-Security-Policy holds in a real browser: nothing the pages need is
blocked, on the public dashboard, the htmx staff page and the admin."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, FollowUp, Status

from ..factories import UserFactory
from .test_staff_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium dispatches this event for every blocked load, inline script, style or eval.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def csp_watch(page: Page):
    """Collects CSP violations, console errors and uncaught errors while the test runs."""
    problems = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} for {response.url}")
            if response.status >= 400
            else None
        ),
    )

    def check():
        violations = page.evaluate("window.__cspViolations || []")
        assert not violations, violations
        assert not problems, problems

    return check


def test_dashboard_loads_under_the_policy_without_violations(page: Page, live_server, csp_watch):
    call_command("seed", verbosity=0)
    response = page.goto(f"{live_server.url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Progress on the commitments")).to_be_visible()
    page.get_by_text("The status scale").click()  # <details> works without script
    # The stylesheet applied: the skip link is moved off-screen by site.css.
    assert page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position") in {
        "absolute",
        "fixed",
    }
    page.goto(f"{live_server.url}/commitments/NOR-2012-01/")
    page.goto(f"{live_server.url}/statements/norway-2012-04-16-universalisation/")
    csp_watch()


def test_staff_page_records_a_follow_up_through_htmx_without_violations(
    second_review_off, page: Page, live_server, csp_watch
):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, user.username)
    page.evaluate("window.noReloadMarker = 'still here'")
    row = page.locator("#c-NOR-2012-03")
    row.get_by_text("Record a follow-up").click()
    row.get_by_label("Status").select_option(Status.OFF_TRACK.value)
    row.get_by_label("Date it happened").fill("2012-10-01")
    row.get_by_role("button", name="Record follow-up").click()
    expect(page.locator("#c-NOR-2012-03 .message-success")).to_contain_text("Off track")
    assert page.evaluate("window.noReloadMarker") == "still here"  # swapped by htmx
    assert FollowUp.objects.get().author == user
    csp_watch()


def test_admin_change_page_works_under_the_policy(
    second_review_off, page: Page, live_server, csp_watch
):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    commitment = Commitment.objects.get(reference="NOR-2012-04")
    log_in(page, live_server, user.username)
    page.goto(f"{live_server.url}/admin/commitments/commitment/{commitment.pk}/change/")
    expect(page.get_by_role("heading", name="Change commitment")).to_be_visible()
    # filter_horizontal's widget is built by the admin's JavaScript.
    expect(page.locator("#id_articles_from")).to_be_visible()
    # The owner autocomplete (select2) opens and searches.
    page.locator(".field-owner .select2-selection").click()
    page.locator(".select2-search__field").fill(user.username[:4])
    expect(page.locator(".select2-results__option").first).to_contain_text(user.username)
    page.keyboard.press("Escape")
    # Record a follow-up through the admin's inline and save.
    page.locator("#id_follow_ups-0-status").select_option(Status.OFF_TRACK.value)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert FollowUp.objects.get().author == user
    page.goto(f"{live_server.url}/admin/commitments/commitment/")
    page.goto(f"{live_server.url}/admin/")
    csp_watch()
