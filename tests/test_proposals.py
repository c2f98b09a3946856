from pathlib import Path

import pytest

from commitments.management.commands.seed import NORWAY_2012_COMMITMENTS
from commitments.models import Commitment, Statement, Theme
from commitments.proposals import propose, sentences

from .factories import DelegationFactory, StatementFactory

pytestmark = pytest.mark.django_db


def test_proposals_cover_every_seeded_commitment_of_the_2012_statement(seeded):
    statement = Statement.objects.get()
    proposed = {p.sentence for p in propose(statement.text)}
    all_sentences = [s for _start, s in sentences(statement.text)]
    assert len(proposed) < len(all_sentences)  # it selects, it does not list everything
    for reference, *_rest, quote in NORWAY_2012_COMMITMENTS:
        containing = [s for s in all_sentences if quote in s]
        if containing:
            assert containing[0] in proposed, reference
        else:  # a quote spanning several sentences: each of them is proposed
            spanned = [s for s in all_sentences if s in quote]
            assert spanned, reference
            assert all(s in proposed for s in spanned), reference


def test_sentences_without_commitment_language_are_not_proposed(db):
    text = "Thank you, Chair.\n\nThe weather is fine. We will ratify next year.\n\nThank you."
    assert [p.sentence for p in propose(text)] == ["We will ratify next year."]


def test_sentences_already_quoted_are_not_proposed_again(seeded):
    statement = Statement.objects.get()
    quotes = statement.commitments.values_list("quote", flat=True)
    remaining = propose(statement.text, already_quoted=quotes)
    assert all("high priority by the incoming" not in p.sentence for p in remaining)
    assert remaining  # e.g. "all states should be in a position to promote…"


def propose_url(statement):
    return f"/admin/commitments/statement/{statement.pk}/propose/"


def test_adding_a_statement_leads_to_its_proposals(client, administrator, db):
    client.force_login(administrator)
    response = client.post(
        "/admin/commitments/statement/add/",
        {
            "title_en": "Statement",
            "slug": "testland-2013",
            "delegation": DelegationFactory().pk,
            "meeting_en": "Meeting",
            "place_en": "Oslo",
            "date": "2013-09-10",
            "language": "en",
            "source_url": "",
            "text": "Thank you.\n\nWe will ratify the Convention. The sky is blue.",
            "commitments-TOTAL_FORMS": "0",
            "commitments-INITIAL_FORMS": "0",
        },
    )
    statement = Statement.objects.get(slug="testland-2013")
    assert response.status_code == 302
    assert response.url == propose_url(statement)
    html = client.get(response.url).content.decode()
    assert "We will ratify the Convention." in html
    assert "The sky is blue" not in html
    assert 'value="TST-2013-01"' in html
    assert statement.history.get().history_user == administrator


def proposal_data(forms, publish="0"):
    data = {
        "p-TOTAL_FORMS": str(len(forms)),
        "p-INITIAL_FORMS": str(len(forms)),
        "p-MIN_NUM_FORMS": "0",
        "p-MAX_NUM_FORMS": "1000",
        "publish": publish,
    }
    for i, form in enumerate(forms):
        data.update({f"p-{i}-{k}": v for k, v in form.items()})
    return data


def test_accepted_proposals_become_unpublished_commitments_discarded_ones_do_not(
    client, administrator, seeded
):
    statement = StatementFactory(text="We will ratify. We will also clear mines. Nice day.")
    theme = Theme.objects.first()
    client.force_login(administrator)
    data = proposal_data(
        [
            {
                "decision": "accept",
                "quote": "We will ratify.",
                "title": "Ratify",
                "reference": "TST-2013-01",
                "theme": theme.pk,
                "kind": "one_off",
            },
            {"decision": "discard", "quote": "We will also clear mines.", "kind": "one_off"},
        ]
    )
    response = client.post(propose_url(statement), data)
    assert response.status_code == 302
    created = Commitment.objects.get(reference="TST-2013-01")
    assert created.published is False
    assert created.statement == statement
    assert {r.history_user for r in created.history.all()} == {administrator}
    assert statement.commitments.count() == 1
    assert client.get("/commitments/TST-2013-01/").status_code == 404


def test_accepting_with_publish_chosen_publishes(client, administrator, seeded):
    statement = StatementFactory(text="We will ratify.")
    client.force_login(administrator)
    accept = {
        "decision": "accept",
        "quote": "We will ratify.",
        "title": "Ratify",
        "reference": "TST-2013-01",
        "theme": Theme.objects.first().pk,
        "kind": "one_off",
    }
    client.post(propose_url(statement), proposal_data([accept], publish="1"))
    assert Commitment.objects.get(reference="TST-2013-01").published is True


def test_proposals_are_all_or_nothing_with_errors_on_the_right_proposal(
    client, administrator, seeded
):
    statement = StatementFactory(text="We will ratify. We must clear.")
    theme = Theme.objects.first()
    client.force_login(administrator)
    good = {
        "decision": "accept",
        "quote": "We will ratify.",
        "title": "Ratify",
        "reference": "TST-2013-01",
        "theme": theme.pk,
        "kind": "one_off",
    }
    edited_wrong = {**good, "quote": "We must clear everything.", "reference": "TST-2013-02"}
    response = client.post(propose_url(statement), proposal_data([good, edited_wrong]))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was created" in html
    assert "does not occur word for word" in html
    assert 'value="Ratify"' in html  # kept
    assert not Commitment.objects.filter(statement=statement).exists()

    missing_theme = {**good, "theme": ""}
    response = client.post(propose_url(statement), proposal_data([missing_theme]))
    assert "Needed to accept this commitment." in response.content.decode()
    assert not Commitment.objects.filter(statement=statement).exists()


def test_editors_and_viewers_cannot_create_commitments_from_proposals(
    client, editor, viewer, seeded
):
    statement = Statement.objects.get()
    for user in (editor, viewer):
        client.force_login(user)
        assert client.get(propose_url(statement)).status_code == 403


STATEMENTS = Path(__file__).parent / "statements"
FRENCH = (STATEMENTS / "2012-04-coordinators-universalisation-fr.txt").read_text()
SPANISH = (STATEMENTS / "2012-04-coordinators-universalisation-es.txt").read_text()


def test_the_french_statement_is_typed_as_french_is_printed():
    assert "hésitent encore\u00a0? «\u00a0Par" in FRENCH
    assert "s’engage" in FRENCH
    assert "s'engage" not in FRENCH


def test_french_sentences_end_before_accented_capitals_and_guillemets_not_after_titles():
    found = [s for _start, s in sentences(FRENCH, "fr")]
    assert "Élargir la Convention exige un effort collectif." in found
    assert found[found.index("Élargir la Convention exige un effort collectif.") - 1] == (
        "Nous encourageons les États qui n’ont pas encore adhéré à la Convention à le faire "
        "sans tarder."
    )
    assert any(s.startswith("À Vientiane, les États parties") for s in found)
    assert "Comment convaincre les États qui hésitent encore\u00a0?" in found
    assert any(s.startswith("«\u00a0Par le dialogue\u00a0», répondait") for s in found)
    # "S.E. M. Laurent Fabre": titles, not the ends of sentences.
    assert any(s.startswith("Comme l’a rappelé ce matin S.E. M. Laurent Fabre,") for s in found)


def test_spanish_sentences_start_at_inverted_marks_and_accented_capitals_not_after_titles():
    found = [s for _start, s in sentences(SPANISH, "es")]
    assert "Gracias, Sr. Presidente." in found
    assert "Ésta es una cifra notable para un tratado tan joven." in found
    assert "¿Cómo convencer a los Estados que todavía dudan?" in found
    assert "¡Con diálogo y paciencia!" in found
    assert any(s.startswith("Como recordó esta mañana el Excmo. Sr. Luis Ortega,") for s in found)


def test_titles_and_initials_do_not_end_a_sentence():
    text = "Thank you, Mr. President. As Ms. Jane K. Smith said, we will ratify. Fine."
    assert [s for _start, s in sentences(text)] == [
        "Thank you, Mr. President.",
        "As Ms. Jane K. Smith said, we will ratify.",
        "Fine.",
    ]
    assert len(list(sentences("See Art. 4 and No. 5. The answer is no. We will ratify."))) == 3


def test_a_sentence_ends_after_its_closing_quotation_mark():
    text = "La Présidence l’a dit : « Nous ratifierons. » Élargir est un devoir."
    assert [s for _start, s in sentences(text, "fr")] == [
        "La Présidence l’a dit : « Nous ratifierons. »",
        "Élargir est un devoir.",
    ]


def test_sentence_offsets_point_into_the_text():
    for text, language in ((FRENCH, "fr"), (SPANISH, "es")):
        for start, sentence in sentences(text, language):
            assert text[start : start + len(sentence)] == sentence


def kinds(proposals):
    return {p.sentence: "continuous" if p.looks_continuous else "one_off" for p in proposals}


def test_french_statement_proposes_its_commitments_and_only_them():
    assert kinds(propose(FRENCH, language="fr")) == {
        "Nous continuerons à promouvoir la ratification auprès de chaque État signataire.": (
            "continuous"
        ),
        "L’universalisation est une haute priorité pour les coordonnateurs.": "one_off",
        "Nous encourageons les États qui n’ont pas encore adhéré à la Convention à le faire "
        "sans tarder.": "one_off",
        "Les allégations d’emploi récent doivent être examinées avec le plus grand sérieux"
        "\u00a0: aucune ne doit rester sans réponse.": "one_off",
        "Chaque État partie s’engage à condamner tout emploi de ces armes, par qui que ce soit.": (
            "one_off"
        ),
        "Nous organiserons, avec le CICR et la Coalition contre les sous-munitions, un atelier "
        "régional pour l’Afrique de l’Ouest avant la prochaine Assemblée.": "one_off",
    }


def test_spanish_statement_proposes_its_commitments_and_only_them():
    assert kinds(propose(SPANISH, language="es")) == {
        "Seguiremos promoviendo la ratificación ante cada Estado signatario.": "continuous",
        "La universalización es una alta prioridad para los coordinadores.": "one_off",
        "Alentamos a los Estados que aún no se han adherido a la Convención a hacerlo sin "
        "demora.": "one_off",
        "Las denuncias de empleo reciente deben examinarse con la mayor seriedad.": "one_off",
        "Cada Estado Parte se compromete a condenar todo empleo de estas armas, por parte de "
        "cualquier actor.": "one_off",
        "Organizaremos, con el CICR y la Coalición contra las Municiones en Racimo, un taller "
        "regional para América Central antes de la próxima Reunión.": "one_off",
    }


def test_a_cue_may_match_any_form_of_its_words():
    assert propose("La Suisse s’est engagée à déminer.", language="fr")[0].cues == ("engagée à",)
    assert propose("Chile está decidido a ratificar.", language="es")[0].cues == ("decidido a",)


def test_both_apostrophes_and_french_spacing_match_a_cue():
    for sentence in ("La France s'engage à ratifier.", "La France s’engage à ratifier."):
        assert propose(sentence, language="fr")[0].cues == (sentence[10:18],)  # s'engage
    assert propose("Nous\u00a0encourageons les États.", language="fr")


def test_continuing_is_continuous_in_each_language():
    assert propose("Working in partnership is effective.")[0].looks_continuous
    assert propose("Nous travaillons en partenariat.", language="fr")[0].looks_continuous
    assert propose("La France continue de déminer.", language="fr")[0].looks_continuous
    assert propose("Chile sigue apoyando la Convención.", language="es")[0].looks_continuous
    assert not propose("La France déminera.", language="fr")[0].looks_continuous


def test_a_statement_is_read_with_the_cues_of_its_language():
    assert propose("Nous continuerons.", language="fr-CA")
    assert not propose("Nous continuerons.", language="en")
    assert not propose("We will ratify.", language="es")


def test_a_language_without_cues_of_its_own_is_read_with_the_english_ones():
    assert [p.sentence for p in propose("Intro. We will ratify.", language="de")] == [
        "We will ratify."
    ]
    assert propose("We will ratify.", language="")


def test_a_french_statement_in_the_admin_gets_french_proposals(client, administrator, db):
    statement = StatementFactory(text=FRENCH, language="fr")
    client.force_login(administrator)
    html = client.get(propose_url(statement)).content.decode()
    assert "Chaque État partie s’engage à condamner" in html
    assert "Élargir la Convention" not in html
