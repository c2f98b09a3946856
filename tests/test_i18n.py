import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from commitments.models import Commitment, Status
from commitments.records import record_follow_up

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[1] / "locale"
STATEMENT_URL = "/statements/norway-2012-04-16-universalisation/"


def record(reference, status, on):
    user = get_user_model().objects.get_or_create(username="author")[0]
    record_follow_up(
        Commitment.objects.get(reference=reference), status=status, happened_on=on, by=user
    )


@pytest.mark.parametrize(
    ("prefix", "lang", "heading"),
    [
        ("", "en", "Progress on the commitments"),
        ("/fr", "fr", "Avancement des engagements"),
        ("/es", "es", "Avance de los compromisos"),
    ],
)
def test_language_is_taken_from_the_url(client, seeded, prefix, lang, heading):
    response = client.get(f"{prefix}/")
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{heading}</h1>" in html
    assert response["Content-Language"] == lang


def test_english_is_served_unprefixed_whatever_the_browser_asks(client, seeded):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in html


def test_dates_and_numbers_are_localised(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, datetime.date(2013, 2, 3))
    record("NOR-2012-10", Status.ACHIEVED, datetime.date(2013, 2, 3))
    english = client.get("/commitments/NOR-2012-07/").content.decode()
    french = client.get("/fr/commitments/NOR-2012-07/").content.decode()
    spanish = client.get("/es/commitments/NOR-2012-07/").content.decode()
    assert "3 February 2013" in english
    assert "3 février 2013" in french
    assert "3 de febrero de 2013" in spanish
    # Fresh evidence: the 2013 "in progress" has lapsed (not confirmed) and would not count.
    record("NOR-2012-07", Status.IN_PROGRESS, timezone.localdate())
    assert "75.0&nbsp;%" in client.get("/").content.decode()
    assert "75,0&nbsp;%" in client.get("/fr/").content.decode()
    assert "75,0&nbsp;%" in client.get("/es/").content.decode()


def test_status_labels_are_translated(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, datetime.date(2013, 2, 3))
    assert "En cours" in client.get("/fr/commitments/NOR-2012-07/").content.decode()
    assert "En curso" in client.get("/es/commitments/NOR-2012-07/").content.decode()


def test_quotes_keep_their_original_language(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-09")
    html = client.get("/fr/commitments/NOR-2012-09/").content.decode()
    assert '<html lang="fr">' in html
    # The quote in its language; its source line ("16 avril 2012") in the page's.
    assert f'<blockquote class="quote">\n  <p lang="en">“{commitment.quote}”</p>' in html
    statement = client.get("/es" + STATEMENT_URL).content.decode()
    assert '<article class="statement-text" lang="en">' in statement


def test_switcher_is_plain_links_to_the_same_page_in_each_language(client, seeded):
    html = client.get("/fr/commitments/NOR-2012-09/", {"as_of": "2013-01-01"}).content.decode()
    switcher = re.search(r'<nav class="languages".*?</nav>', html, re.S).group(0)
    assert 'href="/commitments/NOR-2012-09/?as_of=2013-01-01" lang="en"' in switcher
    assert 'href="/fr/commitments/NOR-2012-09/?as_of=2013-01-01" lang="fr"' in switcher
    assert 'href="/es/commitments/NOR-2012-09/?as_of=2013-01-01" lang="es"' in switcher
    assert 'lang="fr" hreflang="fr" aria-current="true">Français' in switcher
    assert "<form" not in switcher


def test_pages_name_their_other_languages_for_search_engines(client, seeded):
    html = client.get("/es/").content.decode()
    assert '<link rel="canonical" href="http://testserver/es/">' in html
    assert '<link rel="alternate" hreflang="en" href="http://testserver/">' in html
    assert '<link rel="alternate" hreflang="fr" href="http://testserver/fr/">' in html
    assert '<meta property="og:locale" content="es_ES">' in html


def test_links_inside_a_page_stay_in_its_language(client, seeded):
    html = client.get("/fr/").content.decode()
    assert 'href="/fr/commitments/NOR-2012-01/"' in html
    statement = client.get("/fr" + STATEMENT_URL).content.decode()
    assert 'href="/fr/commitments/NOR-2012-01/"' in statement


def test_staff_admin_and_data_addresses_have_no_language_prefix(client, staff_client, seeded):
    for url in ["/fr/staff/", "/es/admin/", "/fr/data/commitments.csv"]:
        assert client.get(url).status_code == 404, url
    assert staff_client.get("/staff/").status_code == 200


def test_language_switch_sets_no_cookie_and_needs_no_session(client, seeded):
    for url in ["/fr/", "/es/commitments/NOR-2012-01/", "/"]:
        response = client.get(url)
        assert not response.cookies, url
    assert not client.cookies


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_catalogue_is_complete_and_compiled_copy_is_current(lang, tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is needed (apt-get install gettext)"
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    committed = (LOCALE / lang / "LC_MESSAGES" / "django.mo").read_bytes()
    assert committed == (tmp_path / "django.mo").read_bytes(), "run `make messages`"


def po_msgids(po_text):
    """msgids of a .po file, with gettext's wrapped lines joined."""
    blocks = re.findall(r'^msgid ((?:"(?:[^"\\]|\\.)*"\n)+)', po_text, re.M)
    return {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)) for block in blocks}


# The public pages are the ones served in three languages; staff pages and the admin are
# outside i18n_patterns.
PUBLIC_TEMPLATES = [
    "base.html",
    "public_base.html",
    "commitments/dashboard.html",
    "commitments/commitment_detail.html",
    "commitments/statement_detail.html",
    "commitments/_chart.html",
]


def test_every_public_template_string_is_in_the_catalogue():
    msgids = po_msgids((LOCALE / "fr" / "LC_MESSAGES" / "django.po").read_text("utf-8"))
    templates = Path(__file__).resolve().parents[1] / "templates"
    found = 0
    for template in (templates / name for name in PUBLIC_TEMPLATES):
        for msgid in re.findall(r'{% translate "([^"]+)" %}', template.read_text("utf-8")):
            found += 1
            assert msgid in msgids, (template.name, msgid)
    assert found > 50


def test_french_plural_treats_zero_as_singular(client, seeded):
    # French plural rule: n > 1, so 0 takes the singular form (Spanish, n != 1: the plural).
    published = Commitment.objects.filter(published=True).count()
    french = client.get("/fr/", {"q": "no such words"}).content.decode()
    covers = re.search(r'<p class="covers">(.*?)</p>', french, re.S).group(1)
    assert f"portent sur 0 engagement, sur {published} publiés, correspondant à" in covers
    assert "0 engagements" not in covers
    spanish = client.get("/es/", {"q": "no such words"}).content.decode()
    assert f"abarcan 0 compromisos, de {published} publicados, que coinciden" in spanish


def test_seed_theme_names_and_article_titles_are_translated(client, seeded):
    french = client.get("/fr/commitments/NOR-2012-03/").content.decode()
    assert "Défense de la norme" in french
    assert "Art. 8 — Facilitation et clarification concernant le respect des dispositions" in french
    spanish = client.get("/es/").content.decode()
    assert "<h3>Defensa de la norma</h3>" in spanish
    assert ">Estados afectados y con existencias</option>" in spanish
