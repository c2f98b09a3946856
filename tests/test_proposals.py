import pytest

from commitments.management.commands.seed import NORWAY_2012_COMMITMENTS
from commitments.models import Commitment, Statement, Theme
from commitments.proposals import propose, sentences

from .factories import StatementFactory

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
            "delegation_en": "Testland",
            "code": "TST",
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
