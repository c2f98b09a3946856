"""The treaty record in the admin: staff record states' events one by one (append-only,
corrections) and import the depositary's participant table (preview, row errors, all or
nothing, idempotent, never overwriting)."""

import base64
import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commitments import depositary
from commitments.models import StaffPreference, State, TreatyEvent, Viewpoint
from commitments.reach import standings
from commitments.treaty import NEITHER, SIGNATORY, STATE_PARTY, Standing

from .factories import TreatyEventFactory, UserFactory
from .html_forms import untouched

pytestmark = pytest.mark.django_db

D = datetime.date
Kind = TreatyEvent.Kind
EXCERPT = Path(__file__).parent / "data" / "untc-ccm-participants-excerpt.tsv"
IMPORT_URL = "/admin/commitments/treatyevent/import-depositary/"
ADD_URL = "/admin/commitments/treatyevent/add/"
LIST_URL = "/admin/commitments/treatyevent/"
SOURCE = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"
HEADER = "participant\tsignature\tprovisional_application\tdeposit\n"


def state(code):
    return State.objects.get(country=code)


def excerpt():
    return EXCERPT.read_bytes()


def upload(client, data, name="participants.tsv", **fields):
    return client.post(
        IMPORT_URL,
        {
            "table": SimpleUploadedFile(name, data, content_type="text/tab-separated-values"),
            "source_url": SOURCE,
            "notification": "",
            **fields,
        },
    )


def confirm(client, preview):
    """Post the preview's confirmation form back, as the browser would."""
    form = preview.context["confirm"]
    assert form is not None, "the preview offers no confirmation"
    return client.post(IMPORT_URL, {**form.initial, "confirm": "1"})


def import_excerpt(client):
    preview = upload(client, excerpt())
    assert preview.status_code == 200
    return confirm(client, preview)


def snapshot():
    return list(TreatyEvent.objects.order_by("pk").values())


# --- The import -------------------------------------------------------------------------


def test_the_excerpt_is_previewed_then_recorded_with_its_source_and_who_imported_it(
    staff_client, staff_user
):
    preview = upload(staff_client, excerpt(), notification="C.N.1.2026.TREATIES-XXVI.6")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert TreatyEvent.objects.count() == 0  # the preview writes nothing
    assert "Preview: nothing has been recorded yet" in html
    assert "37 rows: 67 new events, 0 already recorded." in html
    assert "State Party since 1 October 2013" in html  # Andorra, as it will stand today
    response = confirm(staff_client, preview)
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    events = TreatyEvent.objects.all()
    assert events.count() == 67
    assert {(e.source_url, e.notification, e.recorded_by) for e in events} == {
        (SOURCE, "C.N.1.2026.TREATIES-XXVI.6", staff_user)
    }
    assert len({e.recorded_at for e in events}) == 1  # one import, one moment
    andorra = list(state("AD").treaty_events.values_list("kind", "date"))
    assert andorra == [(Kind.ACCESSION, D(2013, 4, 9))]
    belize = set(state("BZ").treaty_events.values_list("kind", "date"))
    assert belize == {
        (Kind.PROVISIONAL_APPLICATION, D(2014, 9, 2)),
        (Kind.ACCESSION, D(2014, 9, 2)),
    }
    assert set(state("BO").treaty_events.values_list("kind", "date")) == {
        (Kind.SIGNATURE, D(2008, 12, 3)),
        (Kind.RATIFICATION, D(2013, 4, 30)),
    }
    listing = staff_client.get(LIST_URL)
    assert "Recorded 67 treaty events for 37 states" in listing.content.decode()


def test_the_imported_excerpt_gives_each_state_its_standing_by_the_articles(staff_client):
    import_excerpt(staff_client)
    ids = {code: state(code).pk for code in ["AD", "AO", "AF", "CY", "CA", "BZ", "FR"]}

    def on(day):
        return standings(Viewpoint(as_at=day))

    assert on(D(2013, 9, 30))[ids["AD"]] == Standing(NEITHER, None, pending=D(2013, 10, 1))
    assert on(D(2013, 10, 1))[ids["AD"]] == Standing(STATE_PARTY, D(2013, 10, 1))
    assert on(D(2026, 1, 1))[ids["AO"]] == Standing(SIGNATORY, D(2008, 12, 3))
    assert on(D(2026, 1, 1))[ids["CY"]] == Standing(SIGNATORY, D(2009, 9, 23))
    assert on(D(2012, 2, 29))[ids["AF"]] == Standing(
        SIGNATORY, D(2008, 12, 3), pending=D(2012, 3, 1)
    )
    assert on(D(2012, 3, 1))[ids["AF"]] == Standing(STATE_PARTY, D(2012, 3, 1))
    assert on(D(2015, 9, 1))[ids["CA"]] == Standing(STATE_PARTY, D(2015, 9, 1))  # 16 Mar 2015
    assert on(D(2015, 3, 1))[ids["BZ"]] == Standing(STATE_PARTY, D(2015, 3, 1))
    assert on(D(2026, 1, 1))[ids["FR"]] == Standing(NEITHER, None)  # not in the excerpt
    everyone = on(D(2026, 1, 1))
    assert sum(s.status == STATE_PARTY for s in everyone.values()) == 32
    assert sum(s.status == SIGNATORY for s in everyone.values()) == 5


def test_importing_the_same_table_again_records_nothing(staff_client):
    import_excerpt(staff_client)
    before = snapshot()
    preview = upload(staff_client, excerpt())
    html = preview.content.decode()
    assert "37 rows: 0 new events, 67 already recorded." in html
    assert "Nothing new: every action in this table is already recorded." in html
    assert 'name="confirm"' not in html
    # Posted anyway, it adds nothing.
    again = confirm(staff_client, preview)
    assert again.status_code == 302
    assert snapshot() == before


def test_a_table_adds_only_what_is_not_yet_recorded(staff_client):
    TreatyEventFactory(state=state("AO"), kind=Kind.SIGNATURE, date=D(2008, 12, 3))
    preview = upload(staff_client, excerpt())
    assert "37 rows: 66 new events, 1 already recorded." in preview.content.decode()
    confirm(staff_client, preview)
    assert state("AO").treaty_events.count() == 1


def test_one_bad_row_shows_its_error_on_its_line_and_nothing_is_recorded(staff_client):
    table = excerpt().replace(b"Andorra\t\t\t9 Apr 2013 a", b"Andorra\t\t\t9 Apr 2013 x")
    preview = upload(staff_client, table)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Nothing can be recorded: 1 row has an error." in html
    assert "Deposit: “x” after a deposit&#x27;s date is none of the depositary&#x27;s" in html
    assert preview.context["confirm"] is None
    assert 'name="confirm"' not in html
    (bad,) = preview.context["preview"].errors
    assert (bad.line, bad.participant) == (4, "Andorra")
    assert TreatyEvent.objects.count() == 0


def test_a_forged_confirmation_of_a_bad_table_records_nothing(staff_client):
    good = upload(staff_client, excerpt())
    form = good.context["confirm"]
    bad = excerpt() + b"Atlantis\t3 Dec 2008\t\t\n"
    data = {**form.initial, "table": base64.b64encode(bad).decode(), "confirm": "1"}
    response = staff_client.post(IMPORT_URL, data)
    assert response.status_code == 422
    assert "“Atlantis” is no state the tracker knows" in response.content.decode()
    assert TreatyEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Atlantis\t3 Dec 2008\t\t", "“Atlantis” is no state the tracker knows"),
        ("\t3 Dec 2008\t\t", "The participant's name is missing."),
        ("France\t31 Feb 2009\t\t", "Signature: “31 Feb 2009” is not a real date."),
        ("France\t3 Dec 2008 a\t\t", "Signature: A signature's date carries no “a”."),
        ("France\t\t3 Dec 2009\t", "Provisional application: A provisional application's"),
        ("France\t\t\t3 December 2009", "Deposit: “3 December 2009” is not a date such as"),
        ("France\t\t\t3 Dec 2099", "Ratification: This date is in the future."),
        ("France\t3 Dec 2007\t\t", "Signature: The Convention was opened for signature"),
        ("Angola\t\t\t3 Dec 2009", "Angola is also on line 5 of the table."),
    ],
)
def test_each_kind_of_bad_row_is_refused_saying_why(row, message):
    table = depositary.read_table(excerpt() + f"{row}\n".encode())
    result = depositary.plan(table, SOURCE)
    assert len(result.errors) in (1, 2)
    assert any(message in error.message for r in result.errors for error in r.errors), [
        e.message for r in result.errors for e in r.errors
    ]
    assert result.errors[-1].line == 39


def test_a_preview_takes_the_same_few_queries_whatever_the_table_s_length(
    django_assert_max_num_queries,
):
    import_excerpt_directly = depositary.apply(
        depositary.read_table(excerpt()), SOURCE, "", by=UserFactory()
    )
    assert len(import_excerpt_directly.new_events) == 67
    for table in (HEADER + "Andorra\t\t\t9 Apr 2013 a\n", excerpt().decode()):
        rows = depositary.read_table(table.encode())
        with django_assert_max_num_queries(2):
            depositary.plan(rows, SOURCE)


def test_a_duplicated_participant_is_an_error_on_both_its_lines():
    table = depositary.read_table(
        (
            HEADER + "Angola\t3 Dec 2008\t\t\nFrance\t3 Dec 2008\t\t\nAngola\t\t\t2 Dec 2009\n"
        ).encode()
    )
    result = depositary.plan(table, SOURCE)
    assert [(r.line, [e.message for e in r.errors]) for r in result.errors] == [
        (2, ["Angola is also on line 4 of the table."]),
        (4, ["Angola is also on line 2 of the table."]),
    ]
    applied = depositary.apply(table, SOURCE, "", by=None)
    assert applied.errors
    assert TreatyEvent.objects.count() == 0


def test_a_table_contradicting_the_record_is_refused_and_the_record_kept(staff_client):
    recorded = TreatyEventFactory(
        state=state("AL"), kind=Kind.RATIFICATION, date=D(2009, 6, 17), notification="C.N.1"
    )
    before = snapshot()
    preview = upload(staff_client, excerpt())
    html = preview.content.decode()
    assert preview.context["confirm"] is None
    (row,) = preview.context["preview"].errors
    assert row.participant == "Albania"
    (error,) = row.errors
    assert error.message.startswith(
        "The table gives ratification on 16 June 2009; the tracker records ratification on "
        "17 June 2009"
    )
    assert "record a correction of that entry in the admin" in error.message
    assert error.url == f"/admin/commitments/treatyevent/{recorded.pk}/change/"
    assert error.url in html
    # Confirmed regardless (the form as it would be), nothing is overwritten or added.
    data = {
        "table": preview.context["upload"].encoded,
        "source_url": SOURCE,
        "notification": "",
        "confirm": "1",
    }
    assert staff_client.post(IMPORT_URL, data).status_code == 422
    assert snapshot() == before


def test_another_instrument_on_the_same_day_is_a_contradiction_too():
    TreatyEventFactory(state=state("AD"), kind=Kind.RATIFICATION, date=D(2013, 4, 9))
    result = depositary.plan(depositary.read_table(excerpt()), SOURCE)
    (row,) = result.errors
    assert "gives accession on 9 April 2013; the tracker records ratification on 9 April 2013" in (
        row.errors[0].message
    )


def test_a_corrected_entry_no_longer_stands_in_the_way():
    wrong = TreatyEventFactory(state=state("AL"), kind=Kind.RATIFICATION, date=D(2009, 6, 17))
    TreatyEventFactory(
        state=state("AL"), kind=Kind.RATIFICATION, date=D(2009, 6, 16), corrects=wrong
    )
    result = depositary.plan(depositary.read_table(excerpt()), SOURCE)
    assert not result.errors
    albania = next(r for r in result.rows if r.participant == "Albania")
    assert [(e.kind, e.date) for e in albania.unchanged] == [(Kind.RATIFICATION, D(2009, 6, 16))]
    assert [(e.kind, e.date) for e in albania.new] == [(Kind.SIGNATURE, D(2008, 12, 3))]


def test_a_state_that_withdrew_and_joined_again_is_no_contradiction():
    TreatyEventFactory(state=state("LT"), kind=Kind.RATIFICATION, date=D(2011, 3, 24))
    TreatyEventFactory(state=state("LT"), kind=Kind.WITHDRAWAL, date=D(2024, 9, 6))
    table = depositary.read_table((HEADER + "Lithuania\t\t\t2 Feb 2026 a\n").encode())
    result = depositary.plan(table, SOURCE)
    assert not result.errors
    (row,) = result.rows
    assert [(e.kind, e.date) for e in row.new] == [(Kind.ACCESSION, D(2026, 2, 2))]


def test_names_are_read_as_the_depositary_prints_them():
    table = depositary.read_table(
        (
            HEADER
            + "Côte d’Ivoire\t4 Dec 2008\t\t\n"  # a typographic apostrophe
            + "Denmark 2\t3 Dec 2008\t\t\n"  # a footnote mark
            + "Netherlands (Kingdom of the)3, 4\t3 Dec 2008\t\t\n"
            + "United Kingdom of Great Britain and Northern Ireland¹\t3 Dec 2008\t\t\n"
            + "czechia\t3 Dec 2008\t\t\n"
            + "Czech Republic\t\t\t22 Sep 2011\n"
        ).encode()
    )
    result = depositary.plan(table, SOURCE)
    assert [r.state.country.code for r in result.rows] == ["CI", "DK", "NL", "GB", "CZ", "CZ"]


def test_every_state_and_every_alias_is_known_by_name():
    codes = set(State.objects.values_list("country", flat=True))
    by_name = depositary.codes_by_name(codes)
    assert set(by_name.values()) == codes
    assert set(depositary.ALIASES.values()) <= codes
    for name in [
        "Bolivia (Plurinational State of)",
        "Côte d'Ivoire",
        "Congo",
        "Democratic Republic of the Congo",
        "Holy See",
        "State of Palestine",
        "Cook Islands",
        "Iran (Islamic Republic of)",
        "Lao People's Democratic Republic",
        "Republic of Moldova",
        "United Kingdom of Great Britain and Northern Ireland",
        "Türkiye",
        "Micronesia (Federated States of)",
        "Venezuela (Bolivarian Republic of)",
        "Viet Nam",
    ]:
        assert depositary.normalise(name) in by_name, name
    assert by_name[depositary.normalise("Congo")] == "CG"
    assert by_name[depositary.normalise("Democratic Republic of the Congo")] == "CD"


def test_a_comma_separated_table_is_read_too(staff_client):
    csv = b'participant,signature,provisional_application,deposit\n"Andorra",,,9 Apr 2013 a\n'
    preview = upload(staff_client, csv, name="participants.csv")
    assert "1 rows: 1 new events" in preview.content.decode()
    confirm(staff_client, preview)
    assert state("AD").treaty_events.get().kind == Kind.ACCESSION


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name\tsignature\n", "The first line names no column participant"),
        (b"", "The submitted file is empty."),
        ("participant\tsignature\tprovisional_application\tdeposit\n".encode("utf-16"), "UTF-8"),
    ],
)
def test_a_file_that_is_no_table_is_refused_on_the_form(staff_client, data, message):
    response = upload(staff_client, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert TreatyEvent.objects.count() == 0


def test_the_import_needs_a_source(staff_client):
    response = upload(staff_client, excerpt(), source_url="", notification=" ")
    assert response.status_code == 422
    assert "Give the source" in response.content.decode()
    assert response.context["preview"] is None


def test_the_import_is_for_staff_who_may_record_events(client, viewer):
    for method in (client.get, client.post):
        assert method(IMPORT_URL).status_code == 302  # anonymous: to the login page
        assert "/admin/login/" in method(IMPORT_URL)["Location"]
    client.force_login(UserFactory(is_staff=False))
    assert client.get(IMPORT_URL).status_code == 302
    assert upload(client, excerpt()).status_code == 302
    client.force_login(viewer)  # staff, without the right to record treaty events
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, excerpt()).status_code == 403
    assert TreatyEvent.objects.count() == 0


def test_the_import_page_is_linked_from_the_treaty_events_list(staff_client):
    assert IMPORT_URL in staff_client.get(LIST_URL).content.decode()
    page = staff_client.get(IMPORT_URL)
    assert page.status_code == 200
    assert depositary.SOURCE_URL in page.content.decode()  # the default source


# --- Recording by hand: append-only, with corrections ------------------------------------


def add(client, **fields):
    data = {
        "state": state("AD").pk,
        "kind": Kind.ACCESSION,
        "date": "2013-04-09",
        "armed_conflict_ends": "",
        "notification": "C.N.200.2013.TREATIES-XXVI.6",
        "source_url": "",
        "corrects": "",
        **fields,
    }
    return client.post(ADD_URL, data)


def test_staff_record_an_event_and_are_its_recorder(staff_client, staff_user):
    response = add(staff_client)
    assert response.status_code == 302
    event = TreatyEvent.objects.get()
    assert (event.state.country.code, event.kind, event.date) == ("AD", "accession", D(2013, 4, 9))
    assert event.recorded_by == staff_user
    assert event.notification == "C.N.200.2013.TREATIES-XXVI.6"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"notification": "", "source_url": ""}, "notification", "Give the source"),
        ({"armed_conflict_ends": "2014-01-01"}, "armed_conflict_ends", "Only a withdrawal"),
        ({"date": "2099-01-01"}, "date", "This date is in the future."),
        ({"source_url": "javascript:alert(1)"}, "source_url", "Enter a valid URL."),
    ],
)
def test_a_bad_event_is_refused_on_the_form(staff_client, fields, field, message):
    response = add(staff_client, **fields)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in e for e in errors[field]), errors
    assert message in response.content.decode()
    assert TreatyEvent.objects.count() == 0


def test_a_recorded_event_can_be_read_but_not_changed_or_deleted(staff_client):
    event = TreatyEventFactory(state=state("AD"), kind=Kind.ACCESSION, date=D(2013, 4, 9))
    before = snapshot()
    url = f"/admin/commitments/treatyevent/{event.pk}/change/"
    page = staff_client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="date"' not in html  # read-only
    assert f"{ADD_URL}?corrects={event.pk}" in html
    assert "Record a correction" in html
    changed = staff_client.post(url, {"state": event.state_id, "kind": "ratification"})
    assert changed.status_code == 403
    delete_url = f"/admin/commitments/treatyevent/{event.pk}/delete/"
    assert staff_client.get(delete_url).status_code == 403
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        LIST_URL, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code == 200  # no such action: the list again
    assert snapshot() == before
    assert 'class="deletelink"' not in html


def test_a_correction_starts_as_a_copy_and_replaces_the_entry_from_when_it_is_recorded(
    staff_client, staff_user
):
    recorded = timezone.now() - datetime.timedelta(days=3)
    wrong = TreatyEventFactory(
        state=state("AD"),
        kind=Kind.RATIFICATION,
        date=D(2013, 4, 9),
        notification="C.N.200",
        recorded_at=recorded,
    )
    page = staff_client.get(f"{ADD_URL}?corrects={wrong.pk}")
    assert f"You are recording a correction of “{wrong}”" in page.content.decode()
    assert 'id="add_id_state"' not in page.content.decode()  # states are reference data
    form = page.context["adminform"].form
    assert form.initial["corrects"] == wrong.pk
    assert form.initial["state"] == wrong.state_id
    assert (form.initial["kind"], form.initial["date"]) == ("ratification", D(2013, 4, 9))
    assert form.initial["notification"] == "C.N.200"
    response = add(staff_client, kind=Kind.ACCESSION, corrects=wrong.pk, notification="C.N.200")
    assert response.status_code == 302
    correction = TreatyEvent.objects.get(corrects=wrong)
    assert correction.recorded_by == staff_user
    andorra = state("AD").pk
    day = D(2014, 1, 1)
    known_before = Viewpoint(as_at=day, known_on=correction.recorded_at - datetime.timedelta(1))
    assert standings(known_before)[andorra] == Standing(STATE_PARTY, D(2013, 10, 1))
    from commitments.reach import actions_by_state

    assert [a.kind for a in actions_by_state(known_before)[andorra]] == ["ratification"]
    assert [a.kind for a in actions_by_state(Viewpoint(as_at=day))[andorra]] == ["accession"]
    # The mistaken entry now says so, and offers no second correction.
    page = staff_client.get(f"/admin/commitments/treatyevent/{wrong.pk}/change/").content.decode()
    assert "No: corrected by" in page
    assert f"?corrects={wrong.pk}" not in page


def test_an_entry_already_corrected_cannot_be_corrected_again(staff_client):
    wrong = TreatyEventFactory(state=state("AD"), kind=Kind.RATIFICATION, date=D(2013, 4, 9))
    TreatyEventFactory(state=state("AD"), kind=Kind.ACCESSION, date=D(2013, 4, 9), corrects=wrong)
    response = add(staff_client, corrects=wrong.pk)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["corrects"]
    assert errors == [errors[0]]
    assert "already corrected by" in errors[0]
    assert "correct that one instead" in response.content.decode()
    assert TreatyEvent.objects.count() == 2


def test_a_withdrawal_waits_for_the_end_of_an_armed_conflict(staff_client):
    TreatyEventFactory(state=state("LT"), kind=Kind.RATIFICATION, date=D(2011, 3, 24))
    response = add(
        staff_client,
        state=state("LT").pk,
        kind=Kind.WITHDRAWAL,
        date="2024-09-06",
        armed_conflict_ends="2025-06-30",
    )
    assert response.status_code == 302
    lithuania = state("LT").pk
    assert standings(Viewpoint(as_at=D(2025, 3, 6)))[lithuania] == Standing(
        STATE_PARTY, D(2011, 9, 1), pending=D(2025, 6, 30)
    )
    assert standings(Viewpoint(as_at=D(2025, 6, 30)))[lithuania] == Standing(
        NEITHER, D(2025, 6, 30)
    )


def test_the_list_shows_sources_as_links_and_filters_and_searches(staff_client):
    import_excerpt(staff_client)
    TreatyEventFactory(
        state=state("FR"),
        kind=Kind.RATIFICATION,
        date=D(2009, 9, 25),
        notification="C.N.777.2009.TREATIES-XXVI.6",
        source_url="",
    )

    def listed(query):
        response = staff_client.get(LIST_URL + query)
        assert response.status_code == 200
        return {str(e.state) for e in response.context["cl"].result_list}

    html = staff_client.get(LIST_URL).content.decode()
    assert f'<a href="{SOURCE}" rel="noopener noreferrer">' in html
    assert listed("?kind__exact=accession") == {"Andorra", "Belize", "Cuba"}
    assert listed("?region=europe&kind__exact=signature") == {
        "Albania",
        "Austria",
        "Belgium",
        "Bosnia and Herzegovina",
        "Bulgaria",
        "Croatia",
        "Cyprus",
        "Czechia",
        "Denmark",
    }
    assert listed(f"?state={state('AO').pk}") == {"Angola"}
    assert listed("?q=andorra") == {"Andorra"}
    assert listed("?q=Viet") == set()  # not in the excerpt
    assert listed("?q=bolivia") == {"Bolivia"}
    assert listed("?q=C.N.777") == {"France"}
    assert listed("?q=Allemagne") == set()  # a French name, for an English session
    assert listed("?counts=corrected") == set()


def test_searching_in_the_staff_member_s_language_finds_states_by_that_name(
    staff_client, staff_user
):
    TreatyEventFactory(state=state("DE"), kind=Kind.RATIFICATION, date=D(2009, 7, 8))
    StaffPreference.objects.create(user=staff_user, language="fr")
    found = staff_client.get(LIST_URL + "?q=Allemagne").context["cl"].result_list
    assert [e.state.country.code for e in found] == ["DE"]
    response = staff_client.get("/admin/commitments/state/?q=Allemagne")
    assert [s.country.code for s in response.context["cl"].result_list] == ["DE"]


# --- States: reference data ---------------------------------------------------------------


def test_states_are_listed_with_their_region_and_searched_by_name(staff_client):
    response = staff_client.get("/admin/commitments/state/?region=oceania")
    codes = {s.country.code for s in response.context["cl"].result_list}
    assert {"AU", "CK", "NU", "FJ"} <= codes
    assert "NO" not in codes
    found = staff_client.get("/admin/commitments/state/?q=congo").context["cl"].result_list
    assert {s.country.code for s in found} == {"CG", "CD"}


def test_a_state_s_region_may_change_its_country_never(staff_client):
    norway = state("NO")
    TreatyEventFactory(state=norway, kind=Kind.SIGNATURE, date=D(2008, 12, 3))
    before = snapshot()
    url = f"/admin/commitments/state/{norway.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert 'name="country"' not in page
    data = {**untouched(page, form_id="state_form"), "country": "SE", "region": "asia"}
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    norway.refresh_from_db()
    assert (norway.country.code, norway.region) == ("NO", "asia")
    assert snapshot() == before  # its events, shown on the page, are untouched


def test_a_state_s_page_lists_its_events_and_links_to_record_one(staff_client):
    import_excerpt(staff_client)
    andorra = state("AD")
    html = staff_client.get(f"/admin/commitments/state/{andorra.pk}/change/").content.decode()
    assert "9 April 2013" in html
    assert f"{ADD_URL}?state={andorra.pk}" in html
    assert f"{LIST_URL}?state={andorra.pk}" in html
    form = staff_client.get(f"{ADD_URL}?state={andorra.pk}").context["adminform"].form
    assert str(form.initial["state"]) == str(andorra.pk)


def test_a_state_with_events_cannot_be_deleted(staff_client):
    TreatyEventFactory(state=state("AD"), kind=Kind.ACCESSION, date=D(2013, 4, 9))
    url = f"/admin/commitments/state/{state('AD').pk}/delete/"
    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        "/admin/commitments/state/",
        {"action": "delete_selected", "_selected_action": [state("AD").pk], "post": "yes"},
    )
    assert bulk.status_code == 200  # refused: the confirmation page names what protects it
    assert State.objects.filter(country="AD").exists()
    assert staff_client.get(f"/admin/commitments/state/{state('NO').pk}/delete/").status_code == 200


def test_the_state_and_event_admin_refuse_others(client, viewer, editor):
    for url in ["/admin/commitments/state/", LIST_URL, ADD_URL]:
        assert client.get(url).status_code == 302
    client.force_login(viewer)  # reads states and events, records none
    assert client.get(ADD_URL).status_code == 403
    assert client.get(IMPORT_URL).status_code == 403
    client.force_login(editor)  # records events
    assert client.get(ADD_URL).status_code == 200
    assert upload(client, excerpt()).status_code == 200
