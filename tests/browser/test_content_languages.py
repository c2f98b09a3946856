"""Issue 13, as a staff member and readers do it: a French title and note entered side by
side, shown on /fr/; an English-only title marked as English there; the Spanish feed."""

import feedparser
import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment, FollowUp, Status

from ..factories import UserFactory
from .test_staff_flow import log_in, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFERENCE = "NOR-2012-10"
UNTRANSLATED = "NOR-2012-07"


def test_staff_enter_french_and_spanish_and_readers_see_them(
    second_review_off, page: Page, live_server
):
    call_command("seed", verbosity=0)
    # One seeded commitment has no French or Spanish title, as new content starts.
    Commitment.objects.filter(reference=UNTRANSLATED).update(title_fr="", title_es="")
    english_title = Commitment.objects.get(reference=UNTRANSLATED).title_en
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, user.username)

    # The admin shows the title's versions side by side; staff type the French one.
    commitment = Commitment.objects.get(reference=REFERENCE)
    page.goto(f"{live_server.url}/admin/commitments/commitment/{commitment.pk}/change/")
    page.locator("#id_title_fr").fill("La présidence norvégienne fait de l’universalisation")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # The staff page: a follow-up with its note in English, French and Spanish.
    page.goto(f"{live_server.url}/staff/?show=all")
    row = page.locator(f"#c-{REFERENCE}")
    row.locator("summary").click()
    form = row.locator(".follow-up-form")
    form.locator("select[name$='-status']").select_option(Status.IN_PROGRESS.value)
    form.get_by_label("Date it happened").fill("2012-09-14")
    form.get_by_label("What happened (public)", exact=True).fill("Priorities published")
    form.get_by_label("What happened (public), in French").fill("Priorités publiées")
    form.get_by_label("What happened (public), in Spanish").fill("Prioridades publicadas")
    form.locator("button[type=submit]").click()
    expect(row.locator(".message-success")).to_contain_text(REFERENCE)
    follow_up = FollowUp.objects.get()
    assert (follow_up.public_note_en, follow_up.public_note_fr) == (
        "Priorities published",
        "Priorités publiées",
    )

    # /fr/: the French title and note, unmarked.
    page.goto(f"{live_server.url}/fr/commitments/{REFERENCE}/")
    expect(page.locator("h1")).to_contain_text(
        "La présidence norvégienne fait de l’universalisation"
    )
    expect(page.locator(".timeline")).to_contain_text("Priorités publiées")
    expect(page.locator(".timeline")).not_to_contain_text("Priorities published")
    expect(page.locator("h1 .fallback")).to_have_count(0)
    no_axe_violations(page, "French commitment page")

    # /fr/: the commitment with no French title shows the English one, marked as English.
    page.goto(f"{live_server.url}/fr/commitments/{UNTRANSLATED}/")
    fallback = page.locator("h1 span[lang=en]")
    expect(fallback).to_contain_text(english_title)
    expect(fallback.locator(".fallback")).to_have_text("(English)")
    no_axe_violations(page, "French page with an English fallback")
    page.goto(f"{live_server.url}/fr/")
    expect(page.locator(f"#row-{UNTRANSLATED} span[lang=en]")).to_contain_text(english_title)
    no_axe_violations(page, "French dashboard with an English fallback")

    # The Spanish feed carries the Spanish note, as a feed reader reads it.
    response = page.request.get(f"{live_server.url}/es/commitments/{REFERENCE}/feed/")
    feed = feedparser.parse(response.body())
    assert "Prioridades publicadas" in feed.entries[0].summary
    assert "Priorities published" not in feed.entries[0].summary
