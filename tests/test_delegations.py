"""Delegations (issue 14): a statement is made by a Delegation, a state (its name from its
country code, in every language) or an organisation (its name in each language). Migration
0015 turns the free text and code of the statements, and of their history, into Delegations
without changing a reference or an address."""

import datetime
import io
import re
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from commitments.content import localized
from commitments.delegations import country_code, find
from commitments.models import Commitment, Delegation, State, Statement
from commitments.resources import StatementResource

from .factories import CommitmentFactory, DelegationFactory, StatementFactory
from .test_import_export import edited, export_csv, import_csv

D = datetime.date
BEFORE = [("commitments", "0014_states")]
SPOKEN = D(2012, 4, 16)
STATES = import_module("commitments.migrations.0014_states")


def at_0014():
    """The models as migration 0014 left them, its states there (a transactional test's
    database is emptied after it, migrations' rows included)."""
    call_command("migrate", "commitments", "0014", verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    STATES.add_states(old, None)
    return old


# The migration


def old_tracker():
    """The tables as migration 0014 left them, with statements as they were typed: a state
    by its name, a state by its code only, an organisation, and a statement's history."""
    old = at_0014()
    Statement_ = old.get_model("commitments", "Statement")
    History_ = old.get_model("commitments", "HistoricalStatement")
    Theme_ = old.get_model("commitments", "Theme")
    Commitment_ = old.get_model("commitments", "Commitment")
    theme = Theme_.objects.create(name="Norm", name_en="Norm", slug="norm")

    def statement(slug, code, english, french=None, spanish=None, day=SPOKEN):
        row = Statement_.objects.create(
            title=f"Statement {slug}",
            title_en=f"Statement {slug}",
            slug=slug,
            delegation=english,
            delegation_en=english,
            delegation_fr=french,
            delegation_es=spanish,
            code=code,
            meeting="Intersessional meetings",
            meeting_en="Intersessional meetings",
            place="Geneva",
            place_en="Geneva",
            date=day,
            text="We will do it.",
        )
        Commitment_.objects.create(
            statement=row,
            theme=theme,
            reference=f"{code}-{day.year}-01",
            title="Do it",
            title_en="Do it",
            quote="We will do it.",
        )
        return row

    norway = statement("norway-2012", "NOR", "Norway", "Norvège", "Noruega")
    statement("kingdom-2013", "GBR", "The UK (as typed)", day=D(2013, 9, 10))
    statement(
        "icrc-2012",
        "ICR",
        "International Committee of the Red Cross",
        "Comité international de la Croix-Rouge",
    )
    # A change recorded before the migration: the history names it as it was then.
    History_.objects.create(
        id=norway.pk,
        title="Statement norway-2012",
        title_en="Statement norway-2012",
        slug="norway-2012",
        delegation="Norway",
        delegation_en="Norway",
        code="NOR",
        meeting="Intersessional meetings",
        place="Geneva",
        date=norway.date,
        language="en",
        text="We will do it.",
        history_date=datetime.datetime(2013, 1, 1, tzinfo=datetime.UTC),
        history_type="~",
    )


def addresses():
    return (
        sorted(Statement.objects.values_list("slug", flat=True)),
        sorted(Commitment.objects.values_list("reference", flat=True)),
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_each_statement_s_delegation_and_keeps_every_address():
    old_tracker()
    call_command("migrate", verbosity=0)
    assert addresses() == (
        ["icrc-2012", "kingdom-2013", "norway-2012"],
        ["GBR-2013-01", "ICR-2012-01", "NOR-2012-01"],
    )
    norway = Statement.objects.get(slug="norway-2012").delegation
    assert (norway.kind, norway.state.country.code, norway.code) == ("state", "NO", "NOR")
    # The code alone resolves a state whose name was typed otherwise (ISO alpha-3).
    kingdom = Statement.objects.get(slug="kingdom-2013").delegation
    assert (kingdom.kind, kingdom.state.country.code, kingdom.code) == ("state", "GB", "GBR")
    icrc = Statement.objects.get(slug="icrc-2012").delegation
    assert (icrc.kind, icrc.state, icrc.code) == ("organisation", None, "ICR")
    assert (icrc.name_en, icrc.name_fr, icrc.name_es) == (
        "International Committee of the Red Cross",
        "Comité international de la Croix-Rouge",
        None,
    )
    assert Delegation.objects.count() == 3  # one a code, the history's included
    # The history names the delegation too: "as known on" a past day still says who spoke.
    past = Statement.history.get(history_type="~")
    assert past.delegation_id == norway.pk
    # New references are made from the delegation's code, as before.
    assert Statement.objects.get(slug="icrc-2012").delegation.code == "ICR"


@pytest.mark.django_db(transaction=True)
def test_reversing_the_migration_gives_the_text_back():
    old_tracker()
    call_command("migrate", verbosity=0)
    call_command("migrate", "commitments", "0014", verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    rows = {
        row["slug"]: row
        for row in old.get_model("commitments", "Statement").objects.values(
            "slug", "delegation_en", "delegation_fr", "code"
        )
    }
    assert rows["norway-2012"] == {
        "slug": "norway-2012",
        "delegation_en": "Norway",
        "delegation_fr": "Norvège",
        "code": "NOR",
    }
    assert rows["icrc-2012"]["delegation_en"] == "International Committee of the Red Cross"
    assert rows["icrc-2012"]["code"] == "ICR"
    history = old.get_model("commitments", "HistoricalStatement").objects.get(history_type="~")
    assert (history.delegation_en, history.code) == ("Norway", "NOR")
    call_command("migrate", verbosity=0)
    assert addresses()[1] == ["GBR-2013-01", "ICR-2012-01", "NOR-2012-01"]


def snapshot():
    return (
        list(Statement.objects.order_by("pk").values()),
        list(Commitment.objects.order_by("pk").values()),
        list(Delegation.objects.order_by("pk").values()),
    )


@pytest.mark.django_db(transaction=True)
def test_seed_then_migration_then_seed_changes_nothing():
    """A tracker seeded before delegations were records: the migration makes Norway the
    state's delegation, and seeding again finds it all there."""
    from commitments.management.commands.seed import NORWAY_2012, NORWAY_2012_COMMITMENTS

    old = at_0014()
    theme = old.get_model("commitments", "Theme").objects.create(name_en="Norm", slug="norm")
    statement = old.get_model("commitments", "Statement").objects.create(
        # As the seed wrote it before issue 14.
        slug=NORWAY_2012["slug"],
        title_en=NORWAY_2012["title"],
        delegation_en="Norway",
        delegation_fr="Norvège",
        delegation_es="Noruega",
        code="NOR",
        meeting_en=NORWAY_2012["meeting"],
        place_en=NORWAY_2012["place"],
        date=NORWAY_2012["date"],
        text="Thank you, Chair.",
    )
    for reference, *_rest in NORWAY_2012_COMMITMENTS:
        old.get_model("commitments", "Commitment").objects.create(
            statement=statement, theme=theme, reference=reference, title_en=reference, quote="."
        )
    call_command("migrate", verbosity=0)
    after = snapshot()
    norway = Delegation.objects.get()
    assert (norway.kind, norway.state.country.code, norway.code) == ("state", "NO", "NOR")
    call_command("seed", stdout=io.StringIO())
    assert snapshot() == after


# Reading a delegation's name


def test_a_state_s_name_comes_from_its_country_in_each_language(db):
    norway = DelegationFactory(
        kind=Delegation.Kind.STATE, state=State.objects.get(country="NO"), name="", code="NOR"
    )
    assert [localized(norway, "name", code).plain for code in ("en", "fr", "es")] == [
        "Norway",
        "Norvège",
        "Noruega",
    ]
    assert not localized(norway, "name", "fr").fallback
    with translation.override("fr"):
        assert str(norway) == "Norvège"


def test_an_organisation_without_a_french_name_is_shown_in_english_and_says_so(db):
    icrc = DelegationFactory(name="International Committee of the Red Cross", code="ICRC")
    shown = localized(icrc, "name", "fr")
    assert shown.fallback
    assert shown.lang == "en"
    assert shown.html() == (
        '<span lang="en">International Committee of the Red Cross '
        '<small class="fallback">(English)</small></span>'
    )
    icrc.name_fr = "Comité international de la Croix-Rouge"
    assert localized(icrc, "name", "fr").plain == "Comité international de la Croix-Rouge"


def test_a_delegation_is_found_by_code_or_by_name_in_any_language(db):
    norway = DelegationFactory(
        kind=Delegation.Kind.STATE, state=State.objects.get(country="NO"), name="", code="NOR"
    )
    icrc = DelegationFactory(name="ICRC", name_fr="CICR", code="ICRC")
    assert [find(text) for text in ("nor", "Norway", "Norvège", "NO", "icrc", "CICR")] == [
        norway,
        norway,
        norway,
        norway,
        icrc,
        icrc,
    ]
    assert find("Atlantis") is None
    assert find("Sweden") is None  # a country, but no delegation of it yet
    assert (country_code("Noruega"), country_code("NOR"), country_code("ICRC")) == ("NO", "NO", "")


# Public pages


def test_the_statement_page_and_the_dashboard_name_the_delegation_in_the_reader_s_language(
    client, seeded
):
    page = client.get("/es/statements/norway-2012-04-16-universalisation/").content.decode()
    assert "Noruega ·" in page
    page = client.get("/fr/").content.decode()
    assert "<td>Norvège</td>" in page


def test_an_address_naming_the_delegation_the_old_way_still_works(client, seeded):
    by_code = client.get("/?delegation=NOR")
    by_name = client.get("/?delegation=Norway")
    assert by_code.context["form"].cleaned_data["delegation"] == "NOR"
    assert by_name.context["form"].cleaned_data["delegation"] == "NOR"
    assert by_name.context["summary"] == by_code.context["summary"]
    assert '<option value="NOR" selected>Norway</option>' in by_name.content.decode()


def test_an_organisation_s_commitments_export_its_code_and_no_country(client, db):
    icrc = DelegationFactory(name="International Committee of the Red Cross", code="ICRC")
    CommitmentFactory(statement=StatementFactory(delegation=icrc), reference="ICRC-2012-01")
    [record] = client.get("/data/commitments.json").json()["commitments"]
    assert (record["delegation"], record["delegation_fr"]) == (
        "International Committee of the Red Cross",
        None,
    )
    assert (record["delegation_code"], record["delegation_country"]) == ("ICRC", None)


# The statements import


def test_a_statement_import_names_its_delegation_by_code_or_name(seeded):
    csv = export_csv(StatementResource())
    icrc = DelegationFactory(name="ICRC", name_fr="CICR", code="ICRC")
    result = import_csv(
        StatementResource(), edited(csv, {(0, "delegation"): "CICR", (0, "code"): ""})
    )
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert Statement.objects.get().delegation == icrc
    result = import_csv(StatementResource(), edited(csv, {(0, "delegation"): ""}))  # code NOR
    assert not result.has_validation_errors()
    assert Statement.objects.get().delegation.code == "NOR"


@pytest.mark.parametrize(
    ("delegation", "code", "message"),
    [
        ("Atlantis", "", "No delegation “Atlantis”"),
        ("", "XYZ", "No delegation “XYZ”"),
        ("Norway", "ICRC", "are two different delegations"),
    ],
)
def test_an_unknown_or_contradictory_delegation_is_a_row_error_and_nothing_is_written(
    seeded, delegation, code, message
):
    DelegationFactory(name="ICRC", code="ICRC")
    csv = export_csv(StatementResource())
    before = snapshot()
    result = import_csv(
        StatementResource(),
        edited(csv, {(0, "delegation"): delegation, (0, "code"): code, (0, "place"): "Oslo"}),
    )
    assert result.has_validation_errors()
    errors = str([row.error_dict for row in result.invalid_rows])
    assert message in errors
    assert snapshot() == before


# The admin


def test_an_administrator_adds_an_organisation_and_a_state(client, administrator):
    client.force_login(administrator)
    response = client.post(
        "/admin/commitments/delegation/add/",
        {"kind": "organisation", "state": "", "name_en": "ICRC", "name_fr": "CICR", "code": "icrc"},
    )
    assert response.status_code == 302
    icrc = Delegation.objects.get(code="ICRC")  # codes are capitals, as in references
    assert (icrc.name_en, icrc.name_fr, icrc.state) == ("ICRC", "CICR", None)
    norway = State.objects.get(country="NO")
    response = client.post(
        "/admin/commitments/delegation/add/", {"kind": "state", "state": norway.pk, "code": "NOR"}
    )
    assert response.status_code == 302
    assert Delegation.objects.get(code="NOR").state == norway


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "state", "code": "NOR"}, "Choose the state this delegation speaks for."),
        ({"kind": "organisation", "code": "ICRC"}, "Give the organisation&#x27;s name in English."),
        (
            {"kind": "organisation", "code": "ICRC", "name_en": "ICRC", "state": "norway"},
            "An organisation is not a state: leave this empty.",
        ),
    ],
)
def test_a_delegation_that_is_neither_a_state_nor_a_named_organisation_is_refused(
    client, administrator, data, message
):
    client.force_login(administrator)
    if data.get("state") == "norway":
        data["state"] = State.objects.get(country="NO").pk
    response = client.post("/admin/commitments/delegation/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Delegation.objects.exists()


def test_the_admin_finds_a_state_s_delegation_by_its_name_in_any_language(staff_client, seeded):
    DelegationFactory(name="ICRC", code="ICRC")
    page = staff_client.get("/admin/commitments/delegation/", {"q": "Norvège"}).content.decode()
    assert "NOR" in page
    assert "ICRC" not in page


@pytest.mark.parametrize("term", ["Norway", "norvège", "Noruega", "orw"])
def test_the_admin_finds_statements_and_commitments_by_a_state_s_name(staff_client, seeded, term):
    """A state's name is not stored (django-countries gives it from the code): the statement
    and commitment lists find Norway's by its name in any language, or part of it."""
    icrc = DelegationFactory(name="ICRC", code="ICRC")
    StatementFactory(title="ICRC at 3MSP", delegation=icrc)
    statements = staff_client.get("/admin/commitments/statement/", {"q": term})
    assert list(statements.context["cl"].result_list) == [
        Statement.objects.get(delegation__code="NOR")
    ]
    commitments = staff_client.get("/admin/commitments/commitment/", {"q": term})
    norway = set(Commitment.objects.filter(statement__delegation__code="NOR"))
    assert norway
    assert set(commitments.context["cl"].result_list) == norway


def test_a_statement_s_delegation_is_chosen_by_search_in_the_statement_form(client, seeded):
    from .conftest import member_of

    client.force_login(member_of("administrators"))
    DelegationFactory(name="ICRC", code="ICRC")
    html = client.get("/admin/commitments/statement/add/").content.decode()
    assert re.search(r'<select name="delegation"[^>]*class="admin-autocomplete', html)
    answer = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "commitments",
            "model_name": "statement",
            "field_name": "delegation",
            "term": "nor",
        },
    ).json()
    assert [row["text"] for row in answer["results"]] == ["Norway"]
