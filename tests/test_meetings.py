"""The Convention's meetings are records staff maintain (issue 14): the data the migration
and the seed add, the "as at the close of a meeting" menus that read them, the admin."""

import datetime
import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from commitments.data import MEETINGS, add_missing_meetings
from commitments.models import Commitment, Meeting, Statement

from .factories import MeetingFactory

pytestmark = pytest.mark.django_db

DATA = json.loads(MEETINGS.read_text(encoding="utf-8"))["meetings"]


def migration():
    """The data migration, whatever number it ends up with."""
    (path,) = Path(apps.get_app_config("commitments").path, "migrations").glob("*_meetings.py")
    return importlib.import_module(f"commitments.migrations.{path.stem}")


def rows():
    return list(Meeting.objects.order_by("code").values())


# --- The data -------------------------------------------------------------------------------


def test_the_migration_added_every_meeting_of_the_list_with_its_names_and_source(db):
    assert sorted(Meeting.objects.values_list("code", flat=True)) == sorted(
        row["code"] for row in DATA
    )
    oslo = Meeting.objects.get(code="3MSP")
    assert (oslo.start, oslo.end) == (datetime.date(2012, 9, 11), datetime.date(2012, 9, 14))
    assert oslo.name_en == "Third Meeting of States Parties"
    assert oslo.name_fr == "Troisième Assemblée des États parties"
    assert oslo.name_es == "Tercera Reunión de los Estados Partes"
    intersessional = Meeting.objects.get(kind=Meeting.Kind.INTERSESSIONAL)
    # Where the 2012 statement was made: Geneva, 16-19 April 2012.
    assert (intersessional.start, intersessional.end) == (
        datetime.date(2012, 4, 16),
        datetime.date(2012, 4, 19),
    )
    assert (intersessional.place_en, intersessional.place_fr) == ("Geneva", "Genève")
    for meeting in Meeting.objects.all():
        assert meeting.source_url.startswith(("https://", "http://")), meeting.code
        assert all(getattr(meeting, f"name_{code}") for code in ("en", "fr", "es")), meeting.code
        meeting.full_clean()


def test_the_migration_adds_only_what_is_missing_and_keeps_staff_edits(db):
    oslo = Meeting.objects.get(code="3MSP")
    oslo.name_fr = "Corrigé par l’équipe"
    oslo.source_url = "https://example.org/corrected"
    oslo.save()
    Meeting.objects.filter(code="4MSP").delete()
    later = MeetingFactory(
        code="10MSP", start=datetime.date(2022, 8, 30), end=datetime.date(2022, 9, 2)
    )
    before = [row for row in rows() if row["code"] != "4MSP"]

    migration().add_meetings(apps, None)

    after = rows()
    assert [row for row in after if row["code"] != "4MSP"] == before  # nothing changed
    assert Meeting.objects.get(code="4MSP").place_en == "Lusaka"  # the missing one is back
    assert Meeting.objects.filter(pk=later.pk).exists()
    migration().add_meetings(apps, None)  # idempotent
    assert rows() == after
    assert add_missing_meetings(Meeting) == 0


def test_the_seed_puts_back_meetings_an_emptied_database_lacks(db):
    Meeting.objects.all().delete()  # as a browser test's flush leaves it
    call_command("seed", verbosity=0)
    assert Meeting.objects.count() == len(DATA)


# --- The "as at the close of a meeting" menus ---------------------------------------------------


def menu(html):
    start = html.find('<ul class="meetings"')
    return html[start : html.find("</ul>", start)] if start >= 0 else ""


def test_a_meeting_staff_add_is_offered_on_every_page_and_one_not_yet_closed_is_not(client, seeded):
    today = timezone.localdate()
    MeetingFactory(
        code="10MSP",
        name_en="Tenth Meeting of States Parties",
        place_en="Geneva",
        start=datetime.date(2022, 8, 30),
        end=datetime.date(2022, 9, 2),
    )
    MeetingFactory(code="99MSP", start=today, end=today + datetime.timedelta(days=2))
    statement = Statement.objects.get()
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    for url, base in [
        ("/", "/"),
        (commitment.get_absolute_url(), commitment.get_absolute_url()),
        (statement.get_absolute_url(), statement.get_absolute_url()),
    ]:
        html = menu(client.get(url).content.decode())
        assert f'href="{base}?as_of=2022-09-02"' in html, url
        assert '<abbr title="Tenth Meeting of States Parties">10MSP</abbr>, Geneva' in html
        assert "99MSP" not in html, url  # not yet closed
        assert "2MSP" not in html  # closed before the statement
        assert ">IM2012</abbr>" in html  # where the statement was made


def test_a_meeting_removed_by_staff_is_no_longer_offered(client, seeded):
    Meeting.objects.filter(code="3MSP").delete()
    assert "3MSP" not in menu(client.get("/").content.decode())


def test_the_menus_name_meetings_in_the_page_language_or_say_which_they_use(client, seeded):
    MeetingFactory(
        code="10MSP",
        name_en="Tenth Meeting of States Parties",
        place_en="Geneva",
        start=datetime.date(2022, 8, 30),
        end=datetime.date(2022, 9, 2),
    )
    html = menu(client.get("/fr/").content.decode())
    assert '<abbr title="Troisième Assemblée des États parties">3MSP</abbr>, Oslo' in html
    assert ">6MSP</abbr>, Genève" in html
    # No French version: the English one, marked as such.
    assert '<abbr title="Tenth Meeting of States Parties (English)">10MSP</abbr>' in html
    assert '<span lang="en">Geneva <small class="fallback">(English)</small></span>' in html
    html = menu(client.get("/es/").content.decode())
    assert '<abbr title="Tercera Reunión de los Estados Partes">3MSP</abbr>, Oslo' in html
    assert ">6MSP</abbr>, Ginebra" in html


# --- The admin ------------------------------------------------------------------------------


def meeting_post(**changes):
    data = {
        "code": "10MSP",
        "kind": Meeting.Kind.MEETING_OF_STATES_PARTIES,
        "name_en": "Tenth Meeting of States Parties",
        "name_fr": "Dixième Assemblée des États parties",
        "name_es": "Décima Reunión de los Estados Partes",
        "place_en": "Geneva",
        "place_fr": "Genève",
        "place_es": "Ginebra",
        "start": "2022-08-30",
        "end": "2022-09-02",
        "source_url": "https://www.clusterconvention.org/10msp/",
    }
    data.update(changes)
    return data


def test_an_administrator_adds_a_later_meeting_and_corrects_it_with_its_history(
    client, administrator, seeded
):
    client.force_login(administrator)
    assert client.get(reverse("admin:commitments_meeting_changelist")).status_code == 200
    response = client.post(reverse("admin:commitments_meeting_add"), meeting_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting = Meeting.objects.get(code="10MSP")
    assert (meeting.name_fr, meeting.end) == (
        "Dixième Assemblée des États parties",
        datetime.date(2022, 9, 2),
    )
    assert "?as_of=2022-09-02" in client.get("/").content.decode()

    change = reverse("admin:commitments_meeting_change", args=[meeting.pk])
    response = client.post(change, meeting_post(place_es="Ginebra (Suiza)"))
    assert response.status_code == 302
    history = client.get(reverse("admin:commitments_meeting_history", args=[meeting.pk]))
    assert history.status_code == 200
    assert "Ginebra (Suiza)" in history.content.decode()
    assert administrator.username in history.content.decode()

    listing = client.get(reverse("admin:commitments_meeting_changelist"), {"q": "Dixième"})
    assert "10MSP" in listing.content.decode()


def test_the_admin_refuses_a_meeting_that_ends_before_it_starts(client, administrator, db):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:commitments_meeting_add"), meeting_post(start="2022-09-03")
    )
    assert response.status_code == 200
    assert "The last day is before the first." in response.content.decode()
    assert not Meeting.objects.filter(code="10MSP").exists()


def test_only_administrators_change_meetings_and_others_are_refused(
    client, viewer, editor, member_client, db
):
    add = reverse("admin:commitments_meeting_add")
    oslo = Meeting.objects.get(code="3MSP")
    change = reverse("admin:commitments_meeting_change", args=[oslo.pk])
    for staff in (viewer, editor):
        client.force_login(staff)
        assert client.get(change).status_code == 200  # to read
        assert client.post(add, meeting_post()).status_code == 403
        client.post(change, meeting_post(code="3MSP", name_en="Changed"))
        assert Meeting.objects.get(pk=oslo.pk).name_en == "Third Meeting of States Parties"
    client.logout()
    assert client.get(add).status_code == 302  # to the login page
    assert member_client.get(add).status_code == 302  # not staff: the admin's login page
    assert member_client.post(add, meeting_post()).status_code == 302
    assert not Meeting.objects.filter(code="10MSP").exists()


def test_a_meeting_without_its_french_name_is_in_the_staff_translations_queue(staff_client, db):
    meeting = MeetingFactory(code="10MSP", name_en="Tenth Meeting of States Parties")
    html = staff_client.get(reverse("staff_translations"), {"language": "fr"}).content.decode()
    assert reverse("admin:commitments_meeting_change", args=[meeting.pk]) in html
    oslo = Meeting.objects.get(code="3MSP")  # has its French name
    assert reverse("admin:commitments_meeting_change", args=[oslo.pk]) not in html
