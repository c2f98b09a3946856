"""A French statement, as staff add it and the public reads it: its candidate commitments are
found in French, a sentence with French spacing is accepted as it stands, and the public page
reads text and quote as French."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment
from tests.conftest import member_of

from ..test_proposals import FRENCH
from ..test_statement_language import coordinators
from .test_staff_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTINUING = "Nous continuerons à promouvoir la ratification auprès de chaque État signataire."
SPACED = (
    "Les allégations d’emploi récent doivent être examinées avec le plus grand sérieux"
    "\u00a0: aucune ne doit rester sans réponse."
)


def test_staff_add_a_french_statement_accept_its_commitments_and_the_public_reads_french(
    page: Page, live_server
):
    call_command("seed", verbosity=0)
    # The delegation is a record staff add once (the admin's Delegations), then choose.
    coordinators()
    administrator = member_of("administrators")
    log_in(page, live_server, administrator.username, "/admin/commitments/statement/add/")
    # Side by side: the English version (required) and the French one.
    for field, english, french in (
        ("title", "Coordinators' statement", "Déclaration des coordonnateurs"),
        ("meeting", "Intersessional meetings", "Réunions intersessionnelles"),
        ("place", "Geneva", "Genève"),
    ):
        page.locator(f"#id_{field}_en").fill(english)
        page.locator(f"#id_{field}_fr").fill(french)
    page.get_by_label("Slug").fill("coordonnateurs-2013")
    # Chosen by name or code in the delegation's search box (the admin's autocomplete).
    page.locator("#id_delegation + .select2").click()
    page.locator(".select2-search__field").fill("coord")
    page.get_by_role("option", name="Coordinators").click()
    page.locator("#id_date").fill("2013-04-16")
    page.locator("#id_language").select_option(label="French (fr)")
    page.get_by_label("Text").fill(FRENCH)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/commitments/statement/\d+/propose/$"))

    # Found in French, offered with the kind the words suggest.
    proposals = page.locator("fieldset.proposal")
    expect(proposals).to_have_count(6)
    continuing, spaced = proposals.nth(0), proposals.nth(3)
    expect(continuing.get_by_label("Quote")).to_have_value(CONTINUING)
    expect(continuing.get_by_label("Kind")).to_have_value("continuous")
    expect(spaced.get_by_label("Quote")).to_have_value(SPACED)
    expect(spaced.get_by_label("Kind")).to_have_value("one_off")
    for proposal, title in ((continuing, "Promouvoir la ratification"), (spaced, "Examiner")):
        proposal.get_by_label("Accept as a commitment").check()
        proposal.get_by_label("Title in English").fill(title)
        proposal.get_by_label("Theme").select_option(index=1)
    page.get_by_label("Publish them now on the public dashboard").check()
    page.get_by_role("button", name="Create the accepted commitments").click()
    expect(page).to_have_url(re.compile(r"/admin/commitments/statement/\d+/change/$"))
    # The sentence went through the browser and back with its non-breaking space.
    assert Commitment.objects.get(reference="COO-2013-04").quote == SPACED

    page.goto(f"{live_server.url}/es/statements/coordonnateurs-2013/")
    text = page.locator("article.statement-text")
    expect(text).to_have_attribute("lang", "fr")
    expect(text.locator("mark")).to_have_text([CONTINUING, SPACED])
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
