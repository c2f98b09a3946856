"""A statement in French or Spanish is read, quoted and checked as well as an English one."""

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError

from commitments.models import Commitment, Statement

from .factories import CommitmentFactory, DelegationFactory, StatementFactory
from .test_proposals import FRENCH, proposal_data, propose_url

pytestmark = pytest.mark.django_db

PROMISE = "Chaque État partie s’engage à condamner tout emploi de ces armes, par qui que ce soit."
QUESTION = "Comment convaincre les États qui hésitent encore\u00a0?"


class _Langs(HTMLParser):
    """The language each run of text is in: its nearest lang="…" attribute."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self):
        super().__init__()
        self.stack, self.runs = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(dict(attrs).get("lang"))

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.stack.pop()

    def handle_data(self, data):
        lang = next((lang for lang in reversed(self.stack) if lang is not None), None)
        self.runs.append((data, lang))


def lang_of(html, text):
    """The language of every element whose text contains `text` (one, or an error)."""
    parser = _Langs()
    parser.feed(html)
    (lang,) = {lang for data, lang in parser.runs if text in data}
    return lang


@pytest.fixture
def french(seeded):
    statement = StatementFactory(text=FRENCH, language="fr", slug="coordonnateurs-2012")
    commitment = CommitmentFactory(statement=statement, reference="COO-2012-01", quote=PROMISE)
    return statement, commitment


@pytest.mark.parametrize("prefix", ["", "/fr", "/es"])
def test_a_french_statement_and_its_marked_quote_are_read_as_french(client, french, prefix):
    statement, _commitment = french
    html = client.get(f"{prefix}/statements/{statement.slug}/").content.decode()
    assert f"<mark>{PROMISE}</mark>" in html
    assert lang_of(html, PROMISE) == "fr"
    assert lang_of(html, "Je vous remercie.") == "fr"  # the unmarked text too


@pytest.mark.parametrize("prefix", ["", "/fr", "/es"])
def test_a_quote_is_in_its_statement_s_language_and_its_source_in_the_page_s(
    client, french, prefix
):
    _statement, commitment = french
    html = client.get(f"{prefix}/commitments/{commitment.reference}/").content.decode()
    assert lang_of(html, PROMISE) == "fr"
    # The statement's title has only an English version here, so on /fr/ and /es/ it is
    # marked English (issue 13's honest fallback); the page around it is in its language.
    assert f'<html lang="{prefix.strip("/") or "en"}">' in html
    assert lang_of(html, commitment.statement.title) == "en"


def test_a_quote_copied_from_a_french_statement_validates(french):
    _statement, commitment = french
    commitment.full_clean()
    commitment.quote = QUESTION
    commitment.full_clean()


def quote_error(commitment, quote):
    commitment.quote = quote
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    return " ".join(error.value.message_dict["quote"])


def test_a_quote_that_misses_only_by_spaces_or_apostrophes_is_refused_saying_so(french):
    _statement, commitment = french
    message = quote_error(commitment, PROMISE.replace("’", "'"))
    assert "differs only in its spaces or apostrophes" in message
    assert "a curly apostrophe (’) where the quote has a straight apostrophe (')" in message
    assert f"“{PROMISE}”" in message

    message = quote_error(commitment, "Comment convaincre les États qui hésitent encore ?")
    assert "a non-breaking space where the quote has a space" in message
    message = quote_error(commitment, "Comment convaincre les États qui hésitent encore?")
    assert "a non-breaking space where the quote has nothing" in message
    assert f"“{QUESTION}”" in message


def test_a_quote_with_other_words_gets_the_plain_refusal(french):
    _statement, commitment = french
    message = quote_error(commitment, PROMISE.replace("condamner", "dénoncer"))
    assert message == "This quote does not occur word for word in the statement's text."


def test_a_near_miss_proposal_gets_the_helpful_message_and_creates_nothing(
    client, administrator, french
):
    statement, _commitment = french
    client.force_login(administrator)
    accept = {
        "decision": "accept",
        "quote": "Nous continuerons à promouvoir la ratification auprès de chaque État signataire.",
        "title": "Promouvoir la ratification",
        "reference": "COO-2012-02",
        "theme": _commitment.theme.pk,
        "kind": "continuous",
    }
    assert client.post(propose_url(statement), proposal_data([accept])).status_code == 302
    near_miss = {**accept, "quote": "L'universalisation est une haute priorité", "reference": "X"}
    response = client.post(propose_url(statement), proposal_data([near_miss]))
    assert response.status_code == 422
    assert "differs only in its spaces or apostrophes" in response.content.decode()
    assert not Commitment.objects.filter(reference="X").exists()


# The statement's language: a real language tag, for lang="…".


def test_a_statement_language_is_a_code_the_tracker_knows(db):
    statement = StatementFactory.build(language="French", delegation=DelegationFactory())
    with pytest.raises(ValidationError) as error:
        statement.full_clean()
    assert "“french” is not a language code this tracker knows" in str(error.value)
    for code, stored in (("fr", "fr"), (" FR ", "fr"), ("pt_BR", "pt-br"), ("zh-hans", "zh-hans")):
        statement.language = code
        statement.full_clean()
        assert statement.language == stored


def coordinators():
    """An organisation named in English and French (issue 14: delegations are records)."""
    return DelegationFactory(name="Coordinators", name_fr="Coordonnateurs", code="COO")


def statement_form(**changes):
    return {
        # Side by side: English (required) and French.
        "title_en": "Statement on universalisation",
        "title_fr": "Déclaration",
        "slug": "coordonnateurs-2013",
        "delegation": coordinators().pk,
        "meeting_en": "Intersessional meetings",
        "meeting_fr": "Réunions intersessionnelles",
        "place_en": "Geneva",
        "place_fr": "Genève",
        "date": "2013-04-16",
        "language": "fr",
        "source_url": "",
        "text": FRENCH,
        "commitments-TOTAL_FORMS": "0",
        "commitments-INITIAL_FORMS": "0",
        **changes,
    }


def test_the_admin_offers_the_tracker_s_languages_first_then_the_others(client, administrator):
    client.force_login(administrator)
    html = client.get("/admin/commitments/statement/add/").content.decode()
    ours = html.index('<optgroup label="Languages of this tracker">')
    others = html.index('<optgroup label="Other languages">')
    assert ours < html.index('<option value="fr">French (fr)</option>') < others
    assert others < html.index('<option value="ar">Arabic (ar)</option>')


def test_an_unknown_language_code_is_refused_and_the_statement_not_saved(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/commitments/statement/add/", statement_form(language="xx"))
    assert response.status_code == 200
    assert "is not a language code this tracker knows" in response.content.decode()
    assert not Statement.objects.filter(slug="coordonnateurs-2013").exists()
    client.post("/admin/commitments/statement/add/", statement_form())
    assert Statement.objects.get(slug="coordonnateurs-2013").language == "fr"


def test_a_stored_unknown_language_stays_shown_rather_than_silently_replaced(client, administrator):
    statement = StatementFactory(language="French")  # typed before the check existed
    client.force_login(administrator)
    html = client.get(f"/admin/commitments/statement/{statement.pk}/change/").content.decode()
    assert '<option value="French" selected>French</option>' in html
