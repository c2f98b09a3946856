import datetime

import pytest

from commitments.models import Commitment, FollowUp, Statement, Status, Theme
from commitments.records import record_follow_up, save_edit

from .conftest import CANARY
from .factories import UserFactory

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
        # A browser sends a textarea's lines as CRLF.
        "reading": commitment.reading.replace("\n", "\r\n"),
        "criteria": commitment.criteria.replace("\n", "\r\n"),
        "based_on_version": commitment.version,
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
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=staff_user, public_note="First")
    html = staff_client.get(
        f"/admin/commitments/commitment/{commitment.pk}/change/"
    ).content.decode()
    assert "First" in html
    assert 'name="follow_ups-2-0-public_note"' not in html
    assert 'name="follow_ups-0-public_note"' in html  # the blank new one only


def test_admin_offers_no_follow_up_change_or_delete(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    follow_up = record_follow_up(commitment, status=Status.IN_PROGRESS, by=staff_user)
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


def change_url(commitment):
    return f"/admin/commitments/commitment/{commitment.pk}/change/"


def edit_data(commitment, **changes):
    data = commitment_form_data(commitment)
    data.update(inline_management("follow_ups", 0, 0))
    data.update(inline_management("follow_ups-2", 0, 0))
    data.update(changes)
    return data


# No lost updates in the admin


def test_admin_edit_bumps_version_and_records_who_changed_what(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    response = staff_client.post(
        change_url(commitment), edit_data(commitment, title="Presidency priority")
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.title == "Presidency priority"
    assert commitment.version == 2
    latest, first = commitment.history.all()[:2]
    assert latest.history_user == staff_user
    delta = latest.diff_against(first)
    assert delta.changed_fields == ["title"]


def test_stale_admin_edit_is_refused_keeps_input_and_writes_nothing(
    staff_client, staff_user, seeded
):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    stale = edit_data(commitment, title="My new title", weight=3)
    # Meanwhile, someone else edits the commitment and records a follow-up.
    other = UserFactory(username="colleague")
    commitment.title = "Their title"
    save_edit(commitment, based_on_version=commitment.version, by=other)
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=other, public_note="Meanwhile")
    history_count = commitment.history.count()

    response = staff_client.post(change_url(commitment), stale)
    html = response.content.decode()
    assert response.status_code == 409  # the form again, with what changed
    assert "Not saved: NOR-2012-10 was changed by someone else" in html
    assert "Title: Universalisation to be given high priority" in html
    assert "→ Their title" in html
    assert "colleague" in html
    assert "Meanwhile" in html
    assert 'value="My new title"' in html  # what the person typed is kept
    assert 'name="based_on_version" value="3"' in html  # rebased on the current version
    commitment.refresh_from_db()
    assert commitment.title == "Their title"
    assert commitment.weight == 1
    assert commitment.version == 3
    assert commitment.history.count() == history_count

    # Saving again, having seen the changes, is deliberate and goes through.
    again = edit_data(commitment, title="My new title", weight=3)
    assert staff_client.post(change_url(commitment), again).status_code == 302
    commitment.refresh_from_db()
    assert commitment.title == "My new title"


def test_admin_edit_without_a_version_is_refused(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    data = edit_data(commitment, title="Blind write")
    del data["based_on_version"]
    response = staff_client.post(change_url(commitment), data)
    assert "Not saved" in response.content.decode()
    commitment.refresh_from_db()
    assert commitment.title != "Blind write"


def test_stale_admin_follow_up_from_the_change_form_is_refused(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    data = edit_data(commitment)
    data.update(inline_management("follow_ups", 1, 0))
    data.update(
        {"follow_ups-0-status": Status.IN_PROGRESS, "follow_ups-0-happened_on": "2013-01-01"}
    )
    record_follow_up(commitment, status=Status.NOT_STARTED, by=staff_user)
    response = staff_client.post(change_url(commitment), data)
    assert "Not saved" in response.content.decode()
    assert FollowUp.objects.count() == 1


def test_history_page_shows_the_diff_to_staff(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    staff_client.post(change_url(commitment), edit_data(commitment, title="Presidency priority"))
    html = staff_client.get(
        f"/admin/commitments/commitment/{commitment.pk}/history/"
    ).content.decode()
    assert "Presidency priority" in html
    assert staff_user.username in html
    assert "Universalisation to be given high priority" in html


def test_statement_and_theme_changes_are_audited(staff_client, staff_user, seeded):
    theme = Theme.objects.get(slug="norm")
    response = staff_client.post(
        f"/admin/commitments/theme/{theme.pk}/change/",
        {
            "name": "Upholding the norm (renamed)",
            "slug": "norm",
            "description": theme.description,
            "position": theme.position,
        },
    )
    assert response.status_code == 302
    record = theme.history.first()
    assert record.history_user == staff_user
    assert record.diff_against(record.prev_record).changed_fields == ["name"]
    html = staff_client.get(f"/admin/commitments/theme/{theme.pk}/history/").content.decode()
    assert "Upholding the norm (renamed)" in html
    statement = Statement.objects.get()
    assert statement.history.count() == 1  # created by the seed


def test_history_cannot_be_reverted_around_the_version_check(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    record = commitment.history.first()
    url = f"/admin/commitments/commitment/{commitment.pk}/history/{record.pk}/"
    response = staff_client.post(url, edit_data(commitment, title="Reverted"))
    assert response.status_code == 403
    commitment.refresh_from_db()
    assert commitment.title != "Reverted"


# Bulk follow-up


def bulk_post(client, commitments, **fields):
    data = {
        "action": "bulk_follow_up",
        "_selected_action": [c.pk for c in commitments],
    }
    if fields:
        data["apply"] = "1"
        data.update({f"version-{c.pk}": c.version for c in commitments})
        data.update(fields)
    return client.post("/admin/commitments/commitment/", data)


def test_bulk_follow_up_shows_an_intermediate_form(staff_client, seeded):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]))
    response = bulk_post(staff_client, chosen)
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 commitments selected" in html
    assert "NOR-2012-01" in html
    assert "NOR-2012-02" in html
    assert FollowUp.objects.count() == 0


def test_bulk_follow_up_records_one_entry_per_commitment(staff_client, staff_user, seeded):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]))
    response = bulk_post(
        staff_client,
        chosen,
        status=Status.ON_TRACK,
        happened_on="2013-05-02",
        public_note="Raised at the UN General Assembly",
        internal_note=CANARY,
    )
    assert response.status_code == 302
    assert FollowUp.objects.count() == 2
    for commitment in chosen:
        follow_up = commitment.follow_ups.get()
        assert follow_up.author == staff_user
        assert follow_up.public_note == "Raised at the UN General Assembly"
        commitment.refresh_from_db()
        assert commitment.status == Status.ON_TRACK
    page = staff_client.get(response.url).content.decode()
    assert "Recorded the follow-up on each of 2 commitments: NOR-2012-01, NOR-2012-02." in page


def test_bulk_follow_up_is_all_or_nothing_and_names_the_culprit(staff_client, seeded):
    # NOR-2012-07 is one-off: "on track" is only for continuous commitments.
    chosen = list(
        Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-07", "NOR-2012-09"])
    )
    response = bulk_post(
        staff_client, chosen, status=Status.ON_TRACK, happened_on="2013-05-02", public_note="X"
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was recorded: 1 commitment cannot take this follow-up." in html
    assert "<strong>NOR-2012-07</strong>" in html
    assert "does not apply to a one-off commitment" in html
    assert FollowUp.objects.count() == 0
    assert set(Commitment.objects.values_list("version", flat=True)) == {1}


def test_bulk_follow_up_refuses_commitments_changed_since_the_form_opened(
    staff_client, staff_user, seeded
):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]))
    record_follow_up(chosen[1], status=Status.OFF_TRACK, by=staff_user)
    chosen[1].version = 1  # the version the intermediate form showed
    response = bulk_post(staff_client, chosen, status=Status.ON_TRACK, happened_on="2013-05-02")
    html = response.content.decode()
    assert response.status_code == 422
    assert "changed by someone else" in html
    assert FollowUp.objects.count() == 1


def test_bulk_follow_up_with_an_invalid_form_records_nothing(staff_client, seeded):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01"]))
    response = bulk_post(staff_client, chosen, status=Status.ON_TRACK, happened_on="")
    assert response.status_code == 422
    assert "Nothing was recorded" in response.content.decode()
    assert FollowUp.objects.count() == 0


def test_admin_edit_losing_the_race_after_validation_rolls_back_and_shows_the_conflict(
    staff_client, staff_user, seeded, monkeypatch
):
    """Another save lands between this form's validation and its save."""
    from commitments.admin import CommitmentAdminForm

    commitment = Commitment.objects.get(reference="NOR-2012-10")
    real_clean = CommitmentAdminForm.clean
    calls = []

    def someone_else_saves():
        other = Commitment.objects.get(pk=commitment.pk)
        other.title = "Saved in between"
        save_edit(other, based_on_version=other.version)

    def clean_with_a_race(form):
        calls.append(True)
        if len(calls) == 1:  # validation passes, then the other save lands
            data = real_clean(form)
            someone_else_saves()
            return data
        # The retry: in real life the other save was committed by its own connection and
        # survives our rollback; here it shared our test transaction, so re-apply it.
        someone_else_saves()
        return real_clean(form)

    monkeypatch.setattr(CommitmentAdminForm, "clean", clean_with_a_race)
    response = staff_client.post(change_url(commitment), edit_data(commitment, title="Mine"))
    html = response.content.decode()
    assert len(calls) == 2
    assert response.status_code == 409
    assert "Not saved: NOR-2012-10 was changed by someone else" in html
    assert "→ Saved in between" in html
    assert 'value="Mine"' in html
    commitment.refresh_from_db()
    assert commitment.title == "Saved in between"
    assert commitment.version == 2


def test_admin_links_to_the_staff_page_for_roles_that_may_read_it(client, seeded):
    from .conftest import member_of

    client.force_login(member_of("viewers"))
    assert '<a href="/staff/">Staff page</a>' in client.get("/admin/").content.decode()
    client.force_login(UserFactory(is_staff=True))  # in no group: /staff/ would say 403
    assert 'href="/staff/"' not in client.get("/admin/").content.decode()


def statement_data(statement, **changes):
    data = {
        field: getattr(statement, field)
        for field in ("title", "slug", "delegation", "meeting", "place", "language", "code")
    }
    data.update(
        date=statement.date.isoformat(),
        text=statement.text,
        source_url=statement.source_url,
        **{"commitments-TOTAL_FORMS": "0", "commitments-INITIAL_FORMS": "0"},
    )
    data.update(changes)
    return data


def test_a_statement_edit_that_would_orphan_a_quote_is_refused_naming_the_commitments(
    staff_client, seeded
):
    statement = Statement.objects.get()
    quote = Commitment.objects.get(reference="NOR-2012-02").quote
    url = f"/admin/commitments/statement/{statement.pk}/change/"
    page = staff_client.get(url)
    total = page.context["inline_admin_formsets"][0].formset.total_form_count()
    ids = Commitment.objects.filter(statement=statement).order_by("reference")
    inline = {"commitments-TOTAL_FORMS": str(total), "commitments-INITIAL_FORMS": str(total)}
    for n, commitment in enumerate(ids):
        inline[f"commitments-{n}-id"] = commitment.pk
        inline[f"commitments-{n}-statement"] = statement.pk
    response = staff_client.post(
        url,
        statement_data(statement, text=statement.text.replace(quote, "something else"), **inline),
    )
    assert response.status_code == 200  # the form again, not a 500
    html = response.content.decode()
    assert "these commitments quote words this text no longer has: NOR-2012-02" in html
    statement.refresh_from_db()
    assert quote in statement.text
    # A correction that keeps every quote is saved.
    fixed = statement.text.replace("Thank you", "Thank you very much", 1)
    response = staff_client.post(url, statement_data(statement, text=fixed, **inline))
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.text == fixed
