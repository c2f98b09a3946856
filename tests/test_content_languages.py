"""Issue 13: content in the reader's language, with honest fallbacks, everywhere it goes."""

import re

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from commitments.content import localized
from commitments.models import Commitment, FollowUp, Status
from commitments.records import TranslationTaken, add_translation, record_follow_up
from commitments.translation import TRANSLATED, missing_q

from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ENGLISH_ONLY = "Zebra crossing pledge"  # a title with no French or Spanish version


def public_pages(commitment, prefix):
    statement = commitment.statement
    return [
        f"{prefix}/",
        f"{prefix}/?q=Zebra",
        f"{prefix}/commitments/{commitment.reference}/",
        f"{prefix}/statements/",
        f"{prefix}/statements/{statement.slug}/",
    ]


def body_and_title(html):
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    return html[html.index("<body") :], title


@pytest.mark.parametrize("prefix", ["/fr", "/es"])
def test_an_english_only_title_is_marked_as_english_on_every_page(client, prefix):
    commitment = CommitmentFactory(title=ENGLISH_ONLY)
    for url in public_pages(commitment, prefix):
        html = client.get(url).content.decode()
        body, _title = body_and_title(html)
        shown = body.count(ENGLISH_ONLY)
        assert shown or "/statements/" in url, url  # the statement pages list no titles
        marked = body.count(f'<span lang="en">{ENGLISH_ONLY} <small class="fallback">(English)')
        # Where no element can mark it (the citation's text box), the words say it.
        said = body.count(f"{ENGLISH_ONLY} (English)")
        assert marked + said == shown, f"{url}: {shown - marked - said} unmarked"
    _body, title = body_and_title(client.get(public_pages(commitment, prefix)[2]).content.decode())
    assert f"{ENGLISH_ONLY} (English)" in title  # plain text where no element can mark it


def test_a_french_version_is_shown_as_is_and_english_stays_english(client):
    commitment = CommitmentFactory(title=ENGLISH_ONLY)
    Commitment.objects.filter(pk=commitment.pk).update(title_fr="Engagement du passage zébré")
    french = client.get(f"/fr/commitments/{commitment.reference}/").content.decode()
    assert '<h1><span class="ref">' in french
    assert "Engagement du passage zébré</h1>" in french
    assert "(English)" not in french.split("<footer")[0].split("<h1>")[1].split("</h1>")[0]
    english = client.get(f"/commitments/{commitment.reference}/").content.decode()
    assert f"{ENGLISH_ONLY}</h1>" in english
    assert "zébré" not in english


def test_a_version_only_in_french_is_marked_french_on_the_english_page(client):
    commitment = CommitmentFactory(title=ENGLISH_ONLY)
    Commitment.objects.filter(pk=commitment.pk).update(
        title_en="", title_fr="Seulement en français"
    )
    html = client.get(f"/commitments/{commitment.reference}/").content.decode()
    assert '<span lang="fr">Seulement en français <small class="fallback">(français)' in html


def test_localized_prefers_the_language_then_english_then_the_others():
    commitment = CommitmentFactory(title="English")
    commitment.title_es = "Español"
    assert localized(commitment, "title", "es").text == "Español"
    assert (
        localized(commitment, "title", "fr").text,
        localized(commitment, "title", "fr").lang,
    ) == (
        "English",
        "en",
    )
    commitment.title_en = "  "
    assert localized(commitment, "title", "fr").lang == "es"  # blank is no version
    assert localized(commitment, "title", "fr").fallback
    assert not localized(commitment, "title", "es").fallback


def test_search_matches_the_page_language_and_the_original(client):
    commitment = CommitmentFactory(title="Landmine survey")
    Commitment.objects.filter(pk=commitment.pk).update(
        title_fr="Relevé des mines", title_es="Estudio de minas"
    )
    listed = re.compile(rf"/commitments/{commitment.reference}/")
    assert listed.search(client.get("/fr/?q=Relevé").content.decode())
    assert listed.search(client.get("/fr/?q=Landmine").content.decode())  # the original
    assert not listed.search(client.get("/fr/?q=Estudio").content.decode())  # another's
    assert listed.search(client.get("/es/?q=Estudio").content.decode())


def test_a_note_recorded_in_a_french_session_is_stored_as_english():
    """The bare field name means the active language's column: the write path names columns."""
    commitment = CommitmentFactory()
    with translation.override("fr"):
        follow_up = record_follow_up(
            commitment,
            status=Status.IN_PROGRESS,
            by=UserFactory(),
            public_note="Met the ministry",
            versions={"public_note_fr": "Rencontré le ministère"},
        )
    follow_up.refresh_from_db()
    assert (follow_up.public_note_en, follow_up.public_note_fr) == (
        "Met the ministry",
        "Rencontré le ministère",
    )
    assert not follow_up.public_note_es


def test_a_follow_up_takes_a_missing_version_once_and_never_loses_one():
    commitment = CommitmentFactory()
    user = UserFactory()
    follow_up = record_follow_up(
        commitment, status=Status.IN_PROGRESS, by=user, public_note="Met the ministry"
    )
    assert FollowUp.objects.filter(missing_q(FollowUp, "fr")).count() == 1
    add_translation(follow_up, "fr", public_note="Rencontré le ministère", by=user)
    assert FollowUp.objects.filter(missing_q(FollowUp, "fr")).count() == 0
    assert FollowUp.objects.filter(missing_q(FollowUp, "es")).count() == 1
    with pytest.raises(TranslationTaken):
        add_translation(follow_up, "fr", public_note="Autre chose", by=user)
    with pytest.raises(ValueError, match="not a follow-up translation"):
        add_translation(follow_up, "en", public_note="Rewritten", by=user)
    follow_up.refresh_from_db()
    assert (follow_up.public_note_en, follow_up.public_note_fr) == (
        "Met the ministry",
        "Rencontré le ministère",
    )


def test_staff_enter_the_note_side_by_side_on_the_staff_page(second_review_off, client, seeded):
    from .test_staff import follow_up_data, record_url  # the staff page's own form data

    editor = UserFactory(is_staff=True)
    editor.groups.add(Group.objects.get(name="editors"))
    client.force_login(editor)
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = follow_up_data(commitment, public_note="Workshop held")
    prefix = f"c{commitment.pk}"
    data[f"{prefix}-public_note_fr"] = "Atelier organisé"
    data[f"{prefix}-public_note_es"] = "Taller celebrado"
    assert client.post(record_url("NOR-2012-07"), data).status_code == 302
    follow_up = FollowUp.objects.get()
    assert (follow_up.public_note_en, follow_up.public_note_fr, follow_up.public_note_es) == (
        "Workshop held",
        "Atelier organisé",
        "Taller celebrado",
    )
    spanish = client.get("/es/commitments/NOR-2012-07/").content.decode()
    assert "Taller celebrado" in spanish
    assert "Workshop held" not in spanish


def test_the_translation_queue_takes_a_follow_up_s_version_and_refuses_a_second(client, seeded):
    editor = UserFactory(is_staff=True)
    editor.groups.add(Group.objects.get(name="editors"))
    client.force_login(editor)
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    follow_up = record_follow_up(
        commitment, status=Status.IN_PROGRESS, by=editor, public_note="Met the ministry"
    )
    queue = client.get("/staff/translations/?language=es").content.decode()
    assert "Met the ministry" in queue
    assert f'name="t{follow_up.pk}-es-public_note"' in queue
    url = f"/staff/follow-ups/{follow_up.pk}/translation/es/"
    response = client.post(url, {f"t{follow_up.pk}-es-public_note": "Reunión con el ministerio"})
    assert response.status_code == 302
    assert "Met the ministry" not in client.get("/staff/translations/?language=es").content.decode()
    # A second editor's version, typed on a page opened before: refused, kept, not written.
    response = client.post(url, {f"t{follow_up.pk}-es-public_note": "Otra versión"})
    assert response.status_code == 409
    assert "Otra versión" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.public_note_es == "Reunión con el ministerio"
    # An empty form is refused with a message.
    response = client.post(f"/staff/follow-ups/{follow_up.pk}/translation/fr/", {})
    assert response.status_code == 422
    assert "Give the translation." in response.content.decode()


def test_seeded_content_is_in_french_and_spanish_with_criteria_read_in_them(client, seeded):
    french = client.get("/fr/commitments/NOR-2012-07/").content.decode()
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    assert commitment.title_fr in french
    assert "(English)" not in french
    with translation.override("fr"):
        assert len(commitment.assessment_criteria()) == 4  # French status labels parse
    assert "Norvège" in french
    spanish = client.get("/es/statements/").content.decode()
    assert "Noruega" in spanish


def test_the_delegation_filter_means_the_same_in_every_language(client, seeded):
    french = client.get("/fr/?delegation=Norway").content.decode()
    assert "NOR-2012-01" in french
    assert '<option value="NOR" selected>Norvège</option>' in french


def test_the_admin_history_shows_a_change_to_a_french_version(staff_client, seeded):
    from .html_forms import versions
    from .test_admin import change_url, edit_data

    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = edit_data(commitment)
    data.update(versions(commitment, "title"))
    data["title_fr"] = "Nouveau titre"
    assert staff_client.post(change_url(commitment), data).status_code == 302
    latest, before = commitment.history.all()[:2]
    assert latest.diff_against(before).changed_fields == ["title_fr"]


def test_every_translated_field_has_a_column_per_language():
    for model, fields in TRANSLATED.items():
        for field in fields:
            for code in ("en", "fr", "es"):
                model._meta.get_field(f"{field}_{code}")


@pytest.mark.parametrize(
    ("prefix", "delegation", "as_at"),
    [("/fr", "Norvège", "16 avril 2013"), ("/es", "Noruega", "16 de abril de 2013")],
)
def test_as_at_known_on_and_the_citation_work_in_each_language(
    client, seeded, prefix, delegation, as_at
):
    from .test_statements import citation

    commitment = Commitment.objects.get(reference="NOR-2012-03")
    title = getattr(commitment, f"title_{prefix[1:]}")
    url = f"{prefix}/commitments/NOR-2012-03/?as_of=2013-04-16&known_on=2026-01-01"
    html = client.get(url).content.decode()
    cited = citation(html)
    assert cited.startswith(f"{delegation}, ")
    assert title in cited
    assert as_at in cited
    assert f"http://testserver{prefix}/commitments/NOR-2012-03/?as_of=2013-04-16&known_on=" in cited
    assert f'<html lang="{prefix[1:]}">' in html
    # The statement page and the dashboard, from the same viewpoint, in the same language.
    statement = f"{prefix}/statements/norway-2012-04-16-universalisation/"
    for page in (statement, f"{prefix}/"):
        html = client.get(f"{page}?as_of=2013-04-16&known_on=2026-01-01").content.decode()
        assert f"http://testserver{page}?as_of=2013-04-16" in citation(html)
        assert as_at in citation(html)
    html = client.get(f"{statement}?as_of=2013-04-16").content.decode()
    assert citation(html).startswith(f"{delegation}, ")


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_seeded_commitment_has_its_criteria_in_french_and_spanish(seeded, language):
    for commitment in Commitment.objects.all():
        english = [c.status for c in commitment.assessment_criteria()]
        shown = localized(commitment, "criteria", language)
        assert not shown.fallback, commitment.reference
        with translation.override(language):
            assert [c.status for c in commitment.assessment_criteria()] == english
        assert localized(commitment, "title", language).lang == language


def test_a_menu_option_in_another_language_says_which(client):
    commitment = CommitmentFactory(title=ENGLISH_ONLY)
    theme = commitment.theme
    html = client.get("/fr/").content.decode()
    assert f'<option value="{theme.slug}" lang="en">{theme.name_en} (English)</option>' in html
    assert f'lang="en">{commitment.statement.delegation.name_en} (English)</option>' in html
    english = client.get("/").content.decode()
    assert f'<option value="{theme.slug}">{theme.name_en}</option>' in english


def test_the_admin_search_finds_any_language_s_version_in_a_french_session(client, seeded):
    from commitments.models import StaffPreference

    admin = UserFactory(is_staff=True, is_superuser=True)
    StaffPreference.objects.create(user=admin, language="fr")
    client.force_login(admin)
    english = Commitment.objects.get(reference="NOR-2012-08").title_en.split()[0:3]
    html = client.get("/admin/commitments/commitment/", {"q": " ".join(english)}).content.decode()
    assert "NOR-2012-08" in html
    statement = Commitment.objects.get(reference="NOR-2012-08").statement
    row = f'href="/admin/commitments/statement/{statement.pk}/change/'
    assert row in client.get("/admin/commitments/statement/", {"q": "Noruega"}).content.decode()
    assert (
        row not in client.get("/admin/commitments/statement/", {"q": "Ruritania"}).content.decode()
    )
