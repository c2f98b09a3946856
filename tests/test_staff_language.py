"""Issue 13: each staff member works in the language they chose; public pages keep theirs."""

import pytest
from django.test import Client

from commitments.models import StaffPreference

from .factories import UserFactory

pytestmark = pytest.mark.django_db

LANGUAGE_URL = "/staff/language/"


def choose(client, language, **extra):
    return client.post(LANGUAGE_URL, {"language": language, **extra})


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_staff_member_who_picks_french_gets_the_staff_page_and_admin_in_french(
    staff_client, staff_user, seeded
):
    response = choose(staff_client, "fr", next="/staff/?show=all")
    assert response.status_code == 302
    assert response.url == "/staff/?show=all"
    assert StaffPreference.objects.get(user=staff_user).language == "fr"

    page = staff_client.get("/staff/?show=all")
    html = page.content.decode()
    assert '<html lang="fr">' in html
    assert page["Content-Language"] == "fr"
    assert "dernière preuve" in html
    assert "Aller au contenu" in html
    assert "latest evidence" not in html
    # The seed's theme names, in the row and in the filter, as on the public pages.
    assert "· Défense de la norme ·" in html
    assert ">Défense de la norme</option>" in html
    # The picker shows the language in use.
    assert '<option value="fr" lang="fr" selected>Français</option>' in html

    admin = staff_client.get("/admin/")
    admin_html = admin.content.decode()
    assert '<html lang="fr"' in admin_html
    assert admin["Content-Language"] == "fr"
    assert "Site d’administration" in admin_html  # Django’s own catalogue
    assert "Page du personnel" in admin_html  # ours, in the user tools


def test_the_change_is_confirmed_in_the_new_language(staff_client, seeded):
    page = choose(staff_client, "es", next="/staff/?show=all")
    assert page.status_code == 302
    html = staff_client.get(page.url).content.decode()
    assert "última evidencia" in html
    assert '<html lang="es">' in html


def test_another_staff_member_at_the_same_time_still_sees_english(staff_client, seeded):
    other = signed_in(UserFactory(is_staff=True, is_superuser=True))
    choose(staff_client, "fr")
    french = staff_client.get("/staff/?show=all")
    english = other.get("/staff/?show=all")
    assert '<html lang="fr">' in french.content.decode()
    html = english.content.decode()
    assert '<html lang="en">' in html
    assert english["Content-Language"] == "en"
    assert "latest evidence" in html
    assert "Site d’administration" not in other.get("/admin/").content.decode()


def test_without_a_choice_the_staff_side_stays_in_english_as_before(staff_client, seeded):
    # Addresses without a language prefix are English whatever the browser asks.
    html = staff_client.get("/staff/?show=all", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in html
    # A choice is what changes it.
    choose(staff_client, "fr")
    html = staff_client.get("/staff/?show=all", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="fr">' in html


def test_public_pages_keep_the_language_of_their_address(staff_client, seeded):
    choose(staff_client, "fr")
    english = staff_client.get("/")
    assert '<html lang="en">' in english.content.decode()
    assert english["Content-Language"] == "en"
    spanish = staff_client.get("/es/statements/")
    assert '<html lang="es">' in spanish.content.decode()
    assert spanish["Content-Language"] == "es"


def test_staff_pages_in_a_chosen_language_are_still_never_stored(staff_client, seeded):
    choose(staff_client, "fr")
    for url in ["/staff/?show=all", "/admin/", LANGUAGE_URL]:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        control = response["Cache-Control"]
        assert "private" in control, url
        assert "no-store" in control, url


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_cannot_set_a_language(client, db, method):
    response = getattr(client, method)(LANGUAGE_URL, {"language": "fr"})
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert not StaffPreference.objects.exists()


def test_signed_in_non_staff_cannot_set_a_language(member_client):
    assert choose(member_client, "fr").status_code == 403
    assert member_client.get(LANGUAGE_URL).status_code == 403
    assert not StaffPreference.objects.exists()


def test_staff_without_a_role_may_choose_and_go_back_to_the_admin(db):
    client = signed_in(UserFactory(is_staff=True))
    response = choose(client, "es")
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert '<html lang="es"' in client.get("/admin/").content.decode()


def test_a_language_the_site_does_not_offer_is_refused_and_changes_nothing(
    staff_client, staff_user
):
    choose(staff_client, "fr")
    response = choose(staff_client, "de")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html
    assert '<html lang="fr">' in html  # still in the language chosen before
    assert StaffPreference.objects.get(user=staff_user).language == "fr"


def test_choosing_again_changes_the_one_preference(staff_client, staff_user):
    choose(staff_client, "fr")
    choose(staff_client, "es")
    assert StaffPreference.objects.get(user=staff_user).language == "es"
    assert StaffPreference.objects.count() == 1


def test_an_outside_address_to_go_back_to_is_ignored(staff_client):
    response = choose(staff_client, "fr", next="https://evil.example/")
    assert response.status_code == 302
    assert response.url == "/staff/"


def test_the_pickers_are_plain_forms_that_post_with_a_token(staff_client, seeded):
    for url, picker_id in [("/staff/?show=all", "staff-language"), ("/admin/", "admin-language")]:
        html = staff_client.get(url).content.decode()
        start = html.index('<form method="post" action="/staff/language/"')
        form = html[start : html.index("</form>", start)]
        assert 'name="csrfmiddlewaretoken"' in form, url
        assert f'<label for="{picker_id}">' in form, url
        assert f'<select name="language" id="{picker_id}">' in form, url
        assert f'name="next" value="{url}"' in form.replace("&amp;", "&"), url


def test_a_page_answering_a_post_sends_the_picker_back_to_the_staff_page(staff_client, seeded):
    # A refused follow-up shows the whole page at an address that only takes POST.
    html = staff_client.post("/staff/commitments/NOR-2012-03/follow-ups/", {}).content.decode()
    start = html.index('<form method="post" action="/staff/language/"')
    assert 'name="next" value=""' in html[start : html.index("</form>", start)]
