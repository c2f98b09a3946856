import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from commitments.management.commands.seed import (
    NORWAY_2012,
    NORWAY_2012_COMMITMENTS,
    SEED_DIR,
)
from commitments.models import Article, Commitment, FollowUp, Kind, Statement, Status, Theme

pytestmark = pytest.mark.django_db

SHARED = "Norway continues to promote the Convention on Cluster Munitions"

# The statement's canonical text lives in shared/statements/, beside the repository (CI puts
# a copy of shared/ at ../shared). The seed reads the copy committed in commitments/seed/, so a
# fresh clone works on its own; these pin that copy to the canonical file.
CANONICAL = Path(__file__).resolve().parents[2] / "shared" / "statements" / NORWAY_2012["file"]
COMMITTED = SEED_DIR / NORWAY_2012["file"]
# SHA-256 of the canonical file when the copy was last checked equal to it. A laptop without
# ../shared still checks the copy against it; when shared/ changes, copy the file and update this.
CANONICAL_SHA256 = "62cc3cd3ec66e1a331377fd773918184e900e0e96d8cb484acbf38291d40d5b7"


def snapshot():
    return {
        "statements": list(Statement.objects.order_by("pk").values()),
        "themes": list(Theme.objects.order_by("pk").values()),
        "articles": list(Article.objects.order_by("pk").values()),
        "commitments": list(Commitment.objects.order_by("pk").values()),
        "links": list(Commitment.articles.through.objects.order_by("pk").values()),
    }


def test_seed_statement_file_is_the_canonical_text_from_shared():
    committed = COMMITTED.read_bytes()
    assert hashlib.sha256(committed).hexdigest() == CANONICAL_SHA256, (
        f"{COMMITTED} differs from the canonical statement it was checked against: copy it "
        f"again from shared/statements/ and update CANONICAL_SHA256 with it"
    )
    if CANONICAL.exists():
        assert committed == CANONICAL.read_bytes(), (
            f"{COMMITTED} differs from {CANONICAL}: copy the canonical file over it and update "
            f"CANONICAL_SHA256"
        )
    else:
        # CI always has shared/ beside the clone: there, a missing file is a failure, not a pass.
        assert not os.environ.get("CI"), f"CI runs with shared/ beside the clone: {CANONICAL}"


def test_every_seed_quote_is_verbatim_in_the_statement_file():
    text = COMMITTED.read_text(encoding="utf-8")  # equal to the canonical file (test above)
    for reference, *_fields, quote in NORWAY_2012_COMMITMENTS:
        assert quote in text, f"{reference}: its quote is not word for word in the statement"


def test_seeded_statement_text_is_the_whole_speech_from_the_file(seeded):
    raw = COMMITTED.read_text(encoding="utf-8")
    text = Statement.objects.get().text
    assert text in raw  # not reworded
    assert text.startswith("Thank you, Chair.")  # the heading lines became fields
    assert raw.rstrip().endswith(text)  # nothing cut from the end
    assert "**" not in text


def test_seed_loads_the_2012_norwegian_statement_and_ten_commitments(seeded):
    statement = Statement.objects.get()
    assert statement.delegation == "Norway"
    assert statement.date.isoformat() == "2012-04-16"
    assert statement.place == "Geneva"
    assert SHARED in statement.text
    assert Commitment.objects.count() == len(NORWAY_2012_COMMITMENTS) == 10
    assert {c.status for c in Commitment.objects.as_of()} == {Status.NOT_ASSESSED}
    assert not Commitment.objects.filter(theme__isnull=True).exists()


def test_every_seeded_quote_is_found_verbatim_in_the_statement(seeded):
    statement = Statement.objects.get()
    for commitment in Commitment.objects.all():
        assert commitment.quote in statement.text, commitment.reference
        commitment.full_clean()


def test_seed_is_idempotent(seeded):
    before = snapshot()
    out = io.StringIO()
    call_command("seed", stdout=out)
    assert snapshot() == before
    assert "0 new record" in out.getvalue()
    assert FollowUp.objects.count() == 0


def test_seeding_again_keeps_every_staff_edit_and_adds_nothing(seeded):
    """`make run` seeds on every start: a seed that updated what it finds (update_or_create)
    would silently undo the staff's work each time."""
    norm = Theme.objects.get(slug="norm")
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    commitment.title = "Edited by staff"
    commitment.theme = norm
    commitment.weight = 3
    commitment.kind = Kind.ONE_OFF  # seeded as continuous
    commitment.published = False
    commitment.save()
    commitment.articles.set([Article.objects.get(number=6)])
    theme = Theme.objects.get(slug="universalisation")
    theme.name = "Joining the Convention"
    theme.description = "Renamed by staff."
    theme.position = 9
    theme.save()
    article = Article.objects.get(number=21)
    article.title = "Retitled by staff"
    article.save()
    statement = Statement.objects.get()
    statement.title = "Statement retitled by staff"
    statement.meeting = "Intersessional meetings"
    statement.save()
    edited = snapshot()
    out = io.StringIO()
    call_command("seed", stdout=out)
    assert snapshot() == edited
    assert "0 new record" in out.getvalue()
    commitment.refresh_from_db()
    assert (commitment.title, commitment.theme, commitment.weight) == ("Edited by staff", norm, 3)
    assert Theme.objects.get(slug="universalisation").name == "Joining the Convention"


def test_seeding_again_after_staff_renamed_and_deleted_seeded_records_changes_nothing(seeded):
    """Staff own what the seed loaded: renaming a slug or a reference, or deleting a
    commitment, must neither come back nor stop `make run` (which seeds) from starting."""
    Theme.objects.filter(slug="universalisation").update(slug="joining")
    Commitment.objects.filter(reference="NOR-2012-02").update(reference="NOR-2012-02-A")
    Commitment.objects.get(reference="NOR-2012-10").delete()
    Statement.objects.update(slug="norway-2012")
    edited = snapshot()
    out = io.StringIO()
    call_command("seed", stdout=out)
    assert snapshot() == edited
    assert "0 new record" in out.getvalue()


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
