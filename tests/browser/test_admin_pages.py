"""The admin pages staff use, as a browser shows them: no accessibility violation (axe) and
nothing blocked by the strict Content-Security-Policy (no inline script, style or handler)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, Statement, Status
from commitments.records import propose_follow_up, record_follow_up, send_back
from tests.conftest import member_of

from .test_csp import WATCH_VIOLATIONS
from .test_staff_workflow import upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checked(page: Page):
    """check(name): axe on the page as it is now, and the CSP violations so far."""
    page.add_init_script(WATCH_VIOLATIONS)
    axe = Axe()
    found = {}

    def check(name):
        results = axe.run(page)
        if results.violations_count:
            found[name] = results.generate_report()
        violations = page.evaluate("window.__cspViolations || []")
        if violations:
            found[f"{name} (CSP)"] = "\n".join(violations)

    yield check
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())


def test_admin_pages_staff_use_have_no_axe_or_csp_violation(page: Page, live_server, checked):
    call_command("seed", verbosity=0)
    administrator = member_of("administrators")
    commitment = Commitment.objects.get(reference="NOR-2012-04")
    record_follow_up(commitment, status=Status.ON_TRACK, by=administrator, public_note="Begun")
    admin = f"{live_server.url}/admin/commitments"

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    checked("login")
    page.get_by_label("Username").fill(administrator.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    checked("index")

    page.goto(f"{live_server.url}/staff/?show=all")
    page.locator("#c-NOR-2012-03").get_by_text("Record a follow-up").click()
    checked("staff page")

    page.goto(f"{admin}/commitment/")
    checked("commitment list")
    page.goto(f"{admin}/commitment/{commitment.pk}/change/")
    expect(page.locator("#id_articles_from")).to_be_visible()  # filter_horizontal, built by JS
    checked("commitment change form")
    page.goto(f"{admin}/commitment/{commitment.pk}/history/")
    checked("history")
    page.locator("#change-history a").first.click()  # one version, read only
    expect(page).to_have_url(re.compile(r"/history/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("NOR-2012-04")
    checked("history version")

    page.goto(f"{admin}/commitment/")
    for reference in ("NOR-2012-01", "NOR-2012-02"):
        page.get_by_role("checkbox", name=f"Select this object for an action - {reference}").check()
    page.locator("select[name=action]").select_option("bulk_follow_up")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", name="2 commitments selected")).to_be_visible()
    checked("bulk follow-up")
    page.get_by_label("Date it happened").fill("")
    page.get_by_role("button", name="Record on all selected").click()  # no date: refused
    expect(page.locator(".errornote")).to_be_visible()
    checked("bulk follow-up with errors")

    page.goto(f"{admin}/commitment/export/")
    checked("export")
    # "Select all" works under the policy: untick every field, then tick them all again.
    select_all = page.get_by_role("checkbox", name=re.compile("select all", re.IGNORECASE))
    fields = page.locator("input[type=checkbox][name^=commitmentresource_]")
    select_all.uncheck()
    expect(fields.first).not_to_be_checked()
    select_all.check()
    expect(fields.last).to_be_checked()

    page.goto(f"{admin}/commitment/import/")
    checked("import")
    csv = CommitmentCsv.with_one_new_and_one_changed()
    upload(page, live_server, csv)
    expect(page.get_by_role("button", name="Confirm import")).to_be_visible()
    # The changed title shows its difference in colour, from our stylesheet.
    inserted = page.locator("table ins").first
    expect(inserted).to_be_visible()
    assert inserted.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    checked("import preview")

    statement = Statement.objects.get()
    page.goto(f"{admin}/statement/{statement.pk}/change/")  # its commitments, a tabular inline
    checked("statement change form")
    page.goto(f"{admin}/statement/{statement.pk}/propose/")
    checked("propose")

    # Issue 15: follow-ups proposed for a second review and the decisions, read only.
    proposal = propose_follow_up(commitment, status=Status.OFF_TRACK, by=member_of("editors"))
    review = send_back(proposal, by=administrator, note="Give the source")
    for name, pk in (("proposedfollowup", proposal.pk), ("review", review.pk)):
        page.goto(f"{admin}/{name}/")
        checked(f"{name} list")
        page.goto(f"{admin}/{name}/{pk}/change/")
        checked(f"{name} page")


class CommitmentCsv:
    @staticmethod
    def with_one_new_and_one_changed():
        from commitments.resources import CommitmentResource
        from tests.test_import_export import bad_and_good_rows

        _bad, good = bad_and_good_rows()
        new_row = good.splitlines(keepends=True)[1]
        exported = CommitmentResource().export().csv
        changed = exported.replace(
            "Continuous work needed for more ratifications",
            "Steady work needed for more ratifications",
            1,
        )
        assert changed != exported
        return changed + new_row
