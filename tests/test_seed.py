import io

import pytest
from django.core.management import call_command

from commitments.models import Article, Commitment, FollowUp, Statement, Status, Theme

pytestmark = pytest.mark.django_db

SHARED = "Norway continues to promote the Convention on Cluster Munitions"


def snapshot():
    return {
        "statements": list(Statement.objects.values()),
        "themes": list(Theme.objects.values()),
        "articles": list(Article.objects.values()),
        "commitments": list(Commitment.objects.values()),
        "links": list(Commitment.articles.through.objects.values()),
    }


def test_seed_loads_the_2012_norwegian_statement_and_ten_commitments(seeded):
    statement = Statement.objects.get()
    assert statement.delegation == "Norway"
    assert statement.date.isoformat() == "2012-04-16"
    assert statement.place == "Geneva"
    assert statement.text.startswith("Thank you, Chair.")
    assert SHARED in statement.text
    assert Commitment.objects.count() >= 10
    assert set(Commitment.objects.values_list("status", flat=True)) == {Status.NOT_ASSESSED}
    assert not Commitment.objects.filter(theme__isnull=True).exists()


def test_every_seeded_quote_is_found_verbatim_in_the_statement(seeded):
    statement = Statement.objects.get()
    for commitment in Commitment.objects.all():
        assert commitment.quote in statement.text, commitment.reference
        commitment.full_clean()


def test_seed_text_is_the_shared_statement_body():
    from commitments.management.commands.seed import SEED_DIR, statement_text

    raw = (SEED_DIR / "2012-04-16-norway-ccm-universalisation.txt").read_text()
    assert statement_text("2012-04-16-norway-ccm-universalisation.txt") in raw


def test_seed_is_idempotent(seeded):
    before = snapshot()
    out = io.StringIO()
    call_command("seed", stdout=out)
    assert snapshot() == before
    assert "0 new record" in out.getvalue()
    assert FollowUp.objects.count() == 0


def test_seed_keeps_staff_edits(seeded):
    Commitment.objects.filter(reference="NOR-2012-01").update(title="Edited by staff")
    call_command("seed", stdout=io.StringIO())
    assert Commitment.objects.get(reference="NOR-2012-01").title == "Edited by staff"


def test_create_local_staff_prints_a_password_once(db):
    from django.contrib.auth import get_user_model

    first = io.StringIO()
    call_command("create_local_staff", stdout=first)
    assert "password:" in first.getvalue()
    user = get_user_model().objects.get(username="admin")
    assert user.is_staff
    assert user.is_superuser
    second = io.StringIO()
    call_command("create_local_staff", stdout=second)
    assert "password:" not in second.getvalue()
    assert get_user_model().objects.count() == 1


def test_create_local_staff_prints_the_address_make_run_serves(db, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    first, second = io.StringIO(), io.StringIO()
    call_command("create_local_staff", stdout=first)
    call_command("create_local_staff", stdout=second)
    for output in (first.getvalue(), second.getvalue()):
        assert "http://127.0.0.1:8123/admin/" in output
        assert "http://127.0.0.1:8123/staff/" in output
        assert ":8000" not in output
