"""Follow-ups name the states they concern (issue 14): set when recorded (staff page, admin),
never changed after; shown on the commitment page, in the export and the feed."""

import csv
import datetime
import io
import re

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.content import sort_key
from commitments.models import (
    AppendOnlyError,
    Commitment,
    FollowUp,
    StaffPreference,
    StaleVersion,
    State,
    Status,
)
from commitments.records import record_follow_up

from .test_admin import commitment_form_data, inline_management
from .test_staff import follow_up_data, record_url

pytestmark = pytest.mark.django_db


def state(code):
    return State.objects.get(country=code)


def recorded(by, reference="NOR-2012-07", codes=("NO", "SE"), **fields):
    fields.setdefault("happened_on", datetime.date(2013, 3, 1))
    return record_follow_up(
        Commitment.objects.get(reference=reference),
        status=Status.IN_PROGRESS,
        by=by,
        public_note=fields.pop("public_note", "Regional workshop"),
        states=[state(code) for code in codes],
        **fields,
    )


# --- Recording ------------------------------------------------------------------------------


def test_an_editor_names_the_states_on_the_staff_page(second_review_off, client, editor, seeded):
    client.force_login(editor)
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = follow_up_data(commitment)
    data[f"c{commitment.pk}-states"] = ["SE", "NO", "FI"]
    response = client.post(record_url(commitment.reference), data)
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert sorted(follow_up.states.values_list("country", flat=True)) == ["FI", "NO", "SE"]


def test_an_unknown_state_is_refused_in_place_and_nothing_is_recorded(client, editor, seeded):
    client.force_login(editor)
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = follow_up_data(commitment, public_note="Workshop typed")
    data[f"c{commitment.pk}-states"] = ["NO", "XX"]
    response = client.post(record_url(commitment.reference), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Select a valid choice. XX is not one of the available choices." in html
    assert "Workshop typed" in html  # what was typed is kept
    assert re.search(r'<option value="NO" selected>', html)
    assert not FollowUp.objects.exists()


def test_the_staff_list_of_states_is_sorted_by_name_in_the_staff_members_language(
    client, editor, seeded
):
    StaffPreference.objects.create(user=editor, language="fr")
    client.force_login(editor)
    html = client.get(reverse("staff_home"), {"show": "all"}).content.decode()
    select = re.search(r'<select name="c\d+-states"[^>]*>(.*?)</select>', html, re.S)
    assert select, "a <select multiple> of states in each follow-up form"
    assert "multiple" in re.search(r'<select name="c\d+-states"[^>]*>', html).group(0)
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))
    assert len(labels) == State.objects.count()
    assert labels == sorted(labels, key=sort_key)
    # French names, "É" among the E: Égypte before Espagne, both before Zimbabwe.
    assert labels.index("Égypte") < labels.index("Espagne") < labels.index("Zimbabwe")


def test_the_admin_new_follow_up_names_the_states(
    second_review_off, staff_client, staff_user, seeded
):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    page = staff_client.get(f"/admin/commitments/commitment/{commitment.pk}/change/")
    assert 'name="follow_ups-0-states"' in page.content.decode()
    data = commitment_form_data(commitment)
    data.update(inline_management("follow_ups", 1, 0))
    data.update(inline_management("follow_ups-2", 0, 0))
    data.update(
        {
            "follow_ups-0-status": Status.IN_PROGRESS,
            "follow_ups-0-happened_on": "2012-09-14",
            "follow_ups-0-public_note_en": "Workshop in Lusaka",
            "follow_ups-0-states": ["ZM", "MW"],
        }
    )
    response = staff_client.post(f"/admin/commitments/commitment/{commitment.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    follow_up = FollowUp.objects.get()
    assert sorted(follow_up.states.values_list("country", flat=True)) == ["MW", "ZM"]
    # The history shows them, read-only.
    html = staff_client.get(
        f"/admin/commitments/commitment/{commitment.pk}/change/"
    ).content.decode()
    assert "Malawi, Zambia" in html


def test_the_states_of_a_recorded_follow_up_never_change(staff_user, seeded):
    follow_up = recorded(staff_user)
    norway, denmark = state("NO"), state("DK")
    for change in [
        lambda: follow_up.states.add(denmark),
        lambda: follow_up.states.remove(norway),
        lambda: follow_up.states.clear(),
        lambda: follow_up.states.set([denmark]),
        lambda: denmark.follow_ups.add(follow_up),
        lambda: norway.follow_ups.clear(),
    ]:
        with pytest.raises(AppendOnlyError), transaction.atomic():
            change()
    assert sorted(follow_up.states.values_list("country", flat=True)) == ["NO", "SE"]


def test_a_failed_record_leaves_no_states_behind(staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    with pytest.raises(StaleVersion):
        record_follow_up(
            commitment,
            status=Status.IN_PROGRESS,
            by=staff_user,
            states=[state("NO")],
            based_on_version=commitment.version - 1,  # stale: refused
        )
    assert not FollowUp.states.through.objects.exists()


# --- Public ---------------------------------------------------------------------------------


def test_the_commitment_page_links_each_follow_up_to_the_states_it_concerns(
    client, staff_user, seeded
):
    recorded(staff_user, codes=("SE", "NO"))
    url = reverse("commitment_detail", args=["NOR-2012-07"])
    html = client.get(url).content.decode()
    listed = re.search(r'<p class="states-concerned">(.*?)</p>', html, re.S).group(1)
    assert listed.index(">Norway<") < listed.index(">Sweden<")  # by name
    assert f'<a href="{state("NO").get_absolute_url()}">Norway</a>' in listed
    html = client.get("/fr" + url).content.decode()
    listed = re.search(r'<p class="states-concerned">(.*?)</p>', html, re.S).group(1)
    assert '<a href="/fr/states/NO/">Norvège</a>' in listed
    assert listed.index("Norvège") < listed.index("Suède")


def test_the_commitment_page_takes_the_same_queries_however_many_states(client, staff_user, seeded):
    url = reverse("commitment_detail", args=["NOR-2012-07"])
    recorded(staff_user, codes=("NO",))
    client.get(url)  # warm: derived state synced
    cache.clear()  # counted as built, not as cached
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, {"page": 1}).status_code == 200
    for day in range(2, 8):
        recorded(
            staff_user,
            codes=("NO", "SE", "FI", "DK", "IS"),
            happened_on=datetime.date(2013, 3, day),
        )
    client.get(url)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        html = client.get(url, {"page": 1}).content.decode()
    assert html.count('class="states-concerned"') == 7
    assert len(many) == len(one)


def test_the_export_gives_each_follow_ups_states_as_iso_codes(client, staff_user, seeded):
    with_states = recorded(staff_user, codes=("SE", "NO"))
    without = recorded(staff_user, codes=(), happened_on=datetime.date(2013, 4, 1))
    response = client.get("/data/follow-ups.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows[str(with_states.pk)]["states"] == "NO;SE"
    assert rows[str(without.pk)]["states"] == ""
    data = client.get("/data/follow-ups.json").json()["follow_ups"]
    by_id = {row["id"]: row for row in data}
    assert by_id[with_states.pk]["states"] == ["NO", "SE"]
    assert by_id[without.pk]["states"] == []


def test_the_export_takes_the_same_queries_however_many_states(client, staff_user, seeded):
    recorded(staff_user, codes=("NO",))
    client.get("/data/follow-ups.json")
    cache.clear()
    with CaptureQueriesContext(connection) as one:
        client.get("/data/follow-ups.json", {"theme": "regional"})
    for day in range(2, 8):
        recorded(staff_user, codes=("NO", "SE", "FI"), happened_on=datetime.date(2013, 3, day))
    client.get("/data/follow-ups.json")
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get("/data/follow-ups.json", {"theme": "regional"})
    assert len(many) == len(one)


def test_the_feed_names_the_states_an_entry_concerns(client, staff_user, seeded):
    recorded(staff_user, codes=("SE", "NO"))
    xml = client.get("/feed/").content.decode()
    assert "States concerned:" in xml
    assert "/states/NO/" in xml
    assert "Norway" in xml


@pytest.mark.parametrize("value", [[], ["BJ"], ["AO", "BJ"]])
def test_the_states_select_writes_the_markup_django_s_widget_would(value):
    """StatesSelect draws its options in Python (speed); the markup is SelectMultiple's."""
    from django import forms
    from django.test.html import parse_html

    from commitments.forms import StatesSelect

    choices = [("AO", "Angola"), ("BJ", 'Benin <&> "x"'), ("CI", "Côte d’Ivoire")]
    attrs = {"id": "id_c1-states", "aria-describedby": "id_c1-states_helptext"}
    django_widget = forms.SelectMultiple(attrs={"size": 8})
    ours = StatesSelect(attrs={"size": 8})
    django_widget.choices = ours.choices = choices
    assert parse_html(ours.render("c1-states", value, attrs)) == parse_html(
        django_widget.render("c1-states", value, attrs)
    )
