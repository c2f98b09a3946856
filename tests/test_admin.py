import datetime

import pytest

from commitments.models import Commitment, FollowUp, Status

pytestmark = pytest.mark.django_db


def test_admin_commitment_list_has_filters_and_columns(staff_client, seeded):
    response = staff_client.get("/admin/commitments/commitment/?review=overdue")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Overdue for review" in html
    response = staff_client.get("/admin/commitments/commitment/?q=Article+6")
    assert "NOR-2012-08" in response.content.decode()


def inline_management(prefix, total, initial):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def commitment_form_data(commitment):
    data = {
        "statement": commitment.statement_id,
        "reference": commitment.reference,
        "title": commitment.title,
        "quote": commitment.quote,
        "theme": commitment.theme_id,
        "kind": commitment.kind,
        "articles": [a.pk for a in commitment.articles.all()],
        "weight": commitment.weight,
        "owner": "",
        "next_review": "",
        "published": "on",
    }
    return data


def test_admin_records_follow_up_with_logged_in_author(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    page = staff_client.get(f"/admin/commitments/commitment/{commitment.pk}/change/")
    assert page.status_code == 200
    prefixes = [
        p
        for p in ("follow_ups", "follow_ups-2")
        if f'name="{p}-TOTAL_FORMS"' in page.content.decode()
    ]
    assert len(prefixes) == 2
    new, past = prefixes
    data = commitment_form_data(commitment)
    data.update(inline_management(new, 1, 0))
    data.update(inline_management(past, 0, 0))
    data.update(
        {
            f"{new}-0-status": Status.IN_PROGRESS,
            f"{new}-0-happened_on": "2012-09-14",
            f"{new}-0-public_note": "Presidency priorities published",
        }
    )
    response = staff_client.post(f"/admin/commitments/commitment/{commitment.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    follow_up = FollowUp.objects.get()
    assert follow_up.author == staff_user
    assert follow_up.happened_on == datetime.date(2012, 9, 14)
    commitment.refresh_from_db()
    assert commitment.status == Status.IN_PROGRESS


def test_admin_shows_past_follow_ups_read_only(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    commitment.record_follow_up(status=Status.IN_PROGRESS, by=staff_user, public_note="First")
    html = staff_client.get(
        f"/admin/commitments/commitment/{commitment.pk}/change/"
    ).content.decode()
    assert "First" in html
    assert 'name="follow_ups-2-0-public_note"' not in html
    assert 'name="follow_ups-0-public_note"' in html  # the blank new one only


def test_admin_offers_no_follow_up_change_or_delete(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    follow_up = commitment.record_follow_up(status=Status.IN_PROGRESS, by=staff_user)
    assert staff_client.get("/admin/commitments/followup/").status_code == 200
    change = staff_client.post(
        f"/admin/commitments/followup/{follow_up.pk}/change/", {"public_note": "changed"}
    )
    assert change.status_code == 403
    delete = staff_client.post(
        f"/admin/commitments/followup/{follow_up.pk}/delete/", {"post": "yes"}
    )
    assert delete.status_code == 403
    assert staff_client.get("/admin/commitments/followup/add/").status_code == 403
    assert FollowUp.objects.get().public_note == ""
