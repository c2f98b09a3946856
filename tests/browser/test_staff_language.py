"""Issue 13: a staff member switches the staff pages to Spanish and works there."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import FollowUp, StaffPreference, Status

from ..factories import UserFactory
from .test_staff_flow import log_in, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_member_switches_to_spanish_and_records_a_follow_up(
    second_review_off, page: Page, live_server
):
    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, user.username)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # A plain form: choose, send, and the page comes back in Spanish at the same address.
    page.get_by_label("Language of the staff pages").select_option(label="Español")
    page.get_by_role("button", name="Change language").click()
    expect(page).to_have_url(f"{live_server.url}/staff/?show=all")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(".skip-link")).to_have_text("Ir al contenido")
    assert StaffPreference.objects.get(user=user).language == "es"
    no_axe_violations(page, "staff page in Spanish")

    row = page.locator("#c-NOR-2012-10")
    row.locator("summary").click()
    form = row.locator(".follow-up-form")
    form.locator("select[name$='-status']").select_option(Status.IN_PROGRESS.value)
    form.get_by_label("Fecha en que ocurrió").fill("2012-09-14")
    form.get_by_label("Qué ocurrió (público)", exact=True).fill("Prioridades de la presidencia")
    form.locator("button[type=submit]").click()

    message = page.locator("#c-NOR-2012-10 .message-success")
    expect(message).to_contain_text("Registrado «En curso» en NOR-2012-10")
    expect(page.locator("#c-NOR-2012-10 .row-state")).to_contain_text("En curso")
    follow_up = FollowUp.objects.get()
    assert (follow_up.author, follow_up.status) == (user, Status.IN_PROGRESS)
    no_axe_violations(page, "staff page in Spanish, after recording")

    # The admin follows the choice; the public dashboard keeps its address's language.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
