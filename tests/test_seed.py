import hashlib
import io
import os
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from commitments.management.commands.seed import (
    NORWAY_2012,
    NORWAY_2012_COMMITMENTS,
    SEED_DIR,
)
from commitments.models import (
    STATUSES_BY_KIND,
    Article,
    Commitment,
    FollowUp,
    Kind,
    Statement,
    Status,
    Theme,
)

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
    # Norway is the state's delegation: its name from its country code, NOR in references.
    assert (statement.delegation.kind, statement.delegation.code) == ("state", "NOR")
    assert statement.delegation.state.country.code == "NO"
    assert str(statement.delegation) == "Norway"
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


# What the seeded commitments say, and how they are judged


def seeded_commitment(reference):
    return Commitment.objects.get(reference=reference)


def test_seeded_titles_say_no_more_than_their_quotes(seeded):
    # An expressed interest, not a promise to support.
    title = seeded_commitment("NOR-2012-07").title
    assert title.startswith("Interest in looking at how to support")
    # The quote's last sentence is in the title too.
    assert "actual users should face the consequences" in seeded_commitment("NOR-2012-03").title
    # Observations are titled as observations, not as promises.
    assert "is proving most effective" in seeded_commitment("NOR-2012-05").title
    assert "needed" in seeded_commitment("NOR-2012-01").title


def test_commitments_phrased_as_observations_say_how_they_are_read(seeded, client):
    for reference, words in [("NOR-2012-01", "is necessary"), ("NOR-2012-05", "most effective")]:
        commitment = seeded_commitment(reference)
        assert words in commitment.quote
        assert words in commitment.reading
        assert "not as a promise" in commitment.reading
        html = client.get(commitment.get_absolute_url()).content.decode()
        assert "How this is read" in html
        assert commitment.reading.replace("'", "&#x27;") in html
    assert "weaker than a promise" in seeded_commitment("NOR-2012-07").reading


def test_every_seeded_commitment_has_criteria_for_every_status_of_its_kind(seeded):
    for commitment in Commitment.objects.all():
        commitment.full_clean()  # the lines are well formed and fit the kind
        statuses = [c.status for c in commitment.assessment_criteria()]
        expected = [s for s in STATUSES_BY_KIND[Kind(commitment.kind)] if s != Status.NOT_ASSESSED]
        assert statuses == expected, commitment.reference
        for criterion in commitment.assessment_criteria():
            assert criterion.evidence.endswith("."), commitment.reference
            assert criterion.evidence.replace("e.g. ", "").count(". ") == 0, "one sentence"


# Trackers seeded before the criteria existed: migration 0009


LANGUAGES = ("en", "fr", "es")
MIGRATION = import_module("commitments.migrations.0009_commitment_criteria")


def as_seeded_before():
    """Put the seeded commitments back as the seed left them before migration 0009 (and
    before 0010 gave them French and Spanish versions)."""
    empty = {f"{field}_{code}": "" for field in ("criteria", "reading") for code in LANGUAGES}
    for reference, seeded in MIGRATION.SEEDED.items():
        for rows in (Commitment.objects, Commitment.history):
            rows.filter(reference=reference).update(
                title_en=seeded["old_title"], title_fr=None, title_es=None, **empty
            )


def assessment():
    """What 0009 fills: the English versions (0010 made the columns per language)."""
    return {
        c.reference: (c.title_en, c.reading_en, c.criteria_en)
        for c in Commitment.objects.order_by("pk")
    }


def test_migration_gives_a_tracker_seeded_before_what_the_seed_gives_now(seeded):
    now = assessment()
    as_seeded_before()
    assert assessment() != now
    MIGRATION.fill_seeded(django_apps, None)
    assert assessment() == now  # the migration's copy of the seed's words is the seed's


def test_migration_records_its_change_as_an_edit_with_history(seeded):
    as_seeded_before()
    commitment = seeded_commitment("NOR-2012-07")
    history = commitment.history.count()
    MIGRATION.fill_seeded(django_apps, None)
    commitment.refresh_from_db()
    assert commitment.version == 2  # a form opened before is refused, not silently undone
    assert commitment.history.count() == history + 1
    latest, before = commitment.history.all()[:2]
    assert latest.history_change_reason == MIGRATION.REASON
    delta = latest.diff_against(before)
    # The English versions (issue 13: a column per language); articles kept.
    assert sorted(delta.changed_fields) == ["criteria_en", "reading_en", "title_en"]


def test_migration_never_overwrites_what_staff_wrote(seeded):
    as_seeded_before()
    Commitment.objects.filter(reference="NOR-2012-01").update(title="Edited by staff")
    Commitment.objects.filter(reference="NOR-2012-02").update(criteria="On track: Staff's rule.")
    Commitment.objects.filter(reference="NOR-2012-05").update(reading="Staff's reading.")
    # Kind changed by staff: the seeded criteria (for a one-off) would not fit it.
    Commitment.objects.filter(reference="NOR-2012-07").update(kind=Kind.CONTINUOUS)
    MIGRATION.fill_seeded(django_apps, None)
    assert seeded_commitment("NOR-2012-01").title == "Edited by staff"
    assert seeded_commitment("NOR-2012-01").criteria  # filled: it was empty
    assert seeded_commitment("NOR-2012-02").criteria == "On track: Staff's rule."
    assert seeded_commitment("NOR-2012-05").reading == "Staff's reading."
    assert seeded_commitment("NOR-2012-07").criteria_en == ""
    assert seeded_commitment("NOR-2012-07").title.startswith("Interest in looking at")


def test_migration_then_seed_then_migration_again_changes_nothing(seeded):
    as_seeded_before()
    Commitment.objects.filter(reference="NOR-2012-03").update(title="Edited by staff")
    MIGRATION.fill_seeded(django_apps, None)
    after = snapshot()
    call_command("seed", stdout=io.StringIO())
    MIGRATION.fill_seeded(django_apps, None)
    assert snapshot() == after
    assert seeded_commitment("NOR-2012-03").title == "Edited by staff"


def test_migration_leaves_a_commitment_staff_renamed_alone(seeded):
    as_seeded_before()
    Commitment.objects.filter(reference="NOR-2012-04").update(reference="NOR-2012-04-A")
    MIGRATION.fill_seeded(django_apps, None)
    renamed = seeded_commitment("NOR-2012-04-A")
    assert (renamed.criteria_en, renamed.reading_en) == ("", "")
