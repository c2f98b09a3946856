import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from commitments.models import Commitment, FollowUp, Statement, Status, Theme
from commitments.records import record_follow_up, save_edit

from .conftest import CANARY
from .factories import UserFactory
from .html_forms import untouched, versions

pytestmark = pytest.mark.django_db

D2013 = datetime.date(2013, 3, 1)


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
        "quote": commitment.quote,
        "theme": commitment.theme_id,
        "kind": commitment.kind,
        "articles": [a.pk for a in commitment.articles.all()],
        "weight": commitment.weight,
        "owner": "",
        "next_review": "",
        "published": "on",
        # A browser sends a textarea's lines as CRLF.
        **versions(commitment, "title"),
        **versions(commitment, "reading", "criteria", crlf=True),
        "based_on_version": commitment.version,
    }
    return data


def test_admin_records_follow_up_with_logged_in_author(
    second_review_off, staff_client, staff_user, seeded
):
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
            f"{new}-0-public_note_en": "Presidency priorities published",
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
    assert 'name="follow_ups-2-0-public_note_en"' not in html
    assert 'name="follow_ups-0-public_note_en"' in html  # the blank new one only


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
    # A translated field is typed in its English box (title_en, beside title_fr, title_es).
    data.update(
        {f"{k}_en" if k in ("title", "reading", "criteria") else k: v for k, v in changes.items()}
    )
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
    assert delta.changed_fields == ["title_en"]


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
    assert "Title (English): Universalisation to be given high priority" in html
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
            **versions(theme, "name", "description", name="Upholding the norm (renamed)"),
            "slug": "norm",
            "position": theme.position,
        },
    )
    assert response.status_code == 302
    record = theme.history.first()
    assert record.history_user == staff_user
    assert record.diff_against(record.prev_record).changed_fields == ["name_en"]
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


def test_bulk_follow_up_records_one_entry_per_commitment(
    second_review_off, staff_client, staff_user, seeded
):
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
    data = {field: getattr(statement, field) for field in ("slug", "language")}
    data["delegation"] = statement.delegation_id
    data.update(versions(statement, "title", "meeting", "place"))
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


# The admin's follow-up forms start on the current verdict


def test_an_untouched_admin_follow_up_form_keeps_the_verdict(staff_client, staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    record_follow_up(
        commitment, status=Status.IN_PROGRESS, progress=70, by=staff_user, happened_on=D2013
    )
    page = staff_client.get(change_url(commitment)).content.decode()
    data = untouched(page, form_id="commitment_form")
    data["follow_ups-0-public_note_en"] = "A note, nothing else"
    response = staff_client.post(change_url(commitment), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = commitment.follow_ups.timeline().first()
    assert added.public_note == "A note, nothing else"
    commitment = Commitment.objects.get(pk=commitment.pk)
    assert (commitment.status, commitment.progress) == (Status.IN_PROGRESS, 70)


def test_the_admin_refuses_progress_that_contradicts_the_status(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    data = edit_data(commitment)
    data.update(inline_management("follow_ups", 1, 0))
    data.update(
        {
            "follow_ups-0-status": Status.ACHIEVED,
            "follow_ups-0-progress": "10",
            "follow_ups-0-happened_on": "2013-01-01",
        }
    )
    response = staff_client.post(change_url(commitment), data)
    assert response.status_code == 200
    assert "allows a progress figure of 100\xa0% only" in response.content.decode()
    assert FollowUp.objects.count() == 0


def bulk_form(client, commitments):
    """The intermediate page's form, sent as it was shown (with the action's fields)."""
    page = bulk_post(client, commitments).content.decode()
    return page, untouched(page, form_id="bulk-follow-up-form")


def test_bulk_form_starts_on_the_status_the_selection_shares(staff_client, staff_user, seeded):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]))
    for commitment in chosen:
        record_follow_up(commitment, status=Status.ON_TRACK, by=staff_user, happened_on=D2013)
    chosen = [Commitment.objects.get(pk=c.pk) for c in chosen]
    _page, data = bulk_form(staff_client, chosen)
    assert data["status"] == Status.ON_TRACK
    data["public_note"] = "Raised again at the General Assembly"
    response = staff_client.post("/admin/commitments/commitment/", data)
    assert response.status_code == 302
    for commitment in chosen:
        assert Commitment.objects.get(pk=commitment.pk).status == Status.ON_TRACK
        assert commitment.follow_ups.count() == 2


def test_bulk_form_on_mixed_statuses_makes_you_choose_one(staff_client, staff_user, seeded):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-01", "NOR-2012-02"]))
    record_follow_up(chosen[0], status=Status.ON_TRACK, by=staff_user, happened_on=D2013)
    chosen = [Commitment.objects.get(pk=c.pk) for c in chosen]
    page, data = bulk_form(staff_client, chosen)
    assert '<option value="" selected>Choose a status</option>' in page
    assert data["status"] == ""
    data["public_note"] = "Sent without choosing"
    response = staff_client.post("/admin/commitments/commitment/", data)
    assert response.status_code == 422
    assert "Nothing was recorded" in response.content.decode()
    assert FollowUp.objects.filter(public_note="Sent without choosing").count() == 0
    assert Commitment.objects.get(pk=chosen[0].pk).status == Status.ON_TRACK


def test_bulk_follow_up_refuses_progress_that_contradicts_the_status(staff_client, seeded):
    chosen = list(Commitment.objects.filter(reference__in=["NOR-2012-07", "NOR-2012-10"]))
    response = bulk_post(
        staff_client, chosen, status=Status.NOT_STARTED, progress="90", happened_on="2013-05-02"
    )
    assert response.status_code == 422
    assert "“Not started” allows a progress figure of 0\xa0% only." in response.content.decode()
    assert FollowUp.objects.count() == 0


# Confirm, no change


def admin_confirm_url(commitment):
    return f"/admin/commitments/commitment/{commitment.pk}/confirm/"


@pytest.fixture
def assessed(staff_user, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-01")
    record_follow_up(commitment, status=Status.ON_TRACK, by=staff_user, happened_on=D2013)
    return Commitment.objects.get(pk=commitment.pk)


def test_admin_confirm_renews_the_verdict_from_the_change_page(staff_client, staff_user, assessed):
    page = staff_client.get(change_url(assessed)).content.decode()
    assert f'href="{admin_confirm_url(assessed)}"' in page
    form = staff_client.get(admin_confirm_url(assessed))
    assert form.status_code == 200
    data = untouched(form.content.decode(), form_id="confirm-form")
    data[f"k{assessed.pk}-evidence_url"] = "https://example.org/unga-statement"
    response = staff_client.post(admin_confirm_url(assessed), data)
    assert response.status_code == 302
    assert response.url == change_url(assessed)
    confirmation = assessed.follow_ups.timeline().first()
    assert confirmation.status == Status.ON_TRACK
    assert confirmation.happened_on == timezone.localdate()
    assert confirmation.author == staff_user
    commitment = Commitment.objects.get(pk=assessed.pk)
    assert commitment.last_follow_up_on == timezone.localdate()
    assert commitment.status == Status.ON_TRACK
    assert "Confirmed “On track” on NOR-2012-01" in staff_client.get(response.url).content.decode()


def test_admin_confirm_needs_a_note_or_a_link(staff_client, assessed):
    data = {f"k{assessed.pk}-version": assessed.version}
    response = staff_client.post(admin_confirm_url(assessed), data)
    assert response.status_code == 422
    assert "give a short public note or an evidence link" in response.content.decode()
    assert assessed.follow_ups.count() == 1


def test_a_stale_admin_confirm_shows_the_conflict(staff_client, staff_user, assessed):
    stale = {f"k{assessed.pk}-version": assessed.version, f"k{assessed.pk}-public_note": "Mine"}
    record_follow_up(assessed, status=Status.OFF_TRACK, by=staff_user, public_note="Meanwhile")
    response = staff_client.post(admin_confirm_url(assessed), stale)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Not saved: NOR-2012-01 was changed by someone else" in html
    assert "Meanwhile" in html
    assert "Mine" in html
    assert assessed.follow_ups.count() == 2


def test_a_commitment_not_yet_assessed_offers_no_confirm_in_the_admin(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    assert "/confirm/" not in staff_client.get(change_url(commitment)).content.decode()
    assert "no verdict to confirm" in (
        staff_client.get(admin_confirm_url(commitment)).content.decode()
    )


# A published commitment's reference never changes


def test_a_published_reference_is_read_only_and_a_renaming_post_changes_nothing(
    client, staff_client, seeded
):
    commitment = Commitment.objects.get(reference="NOR-2012-04")
    page = staff_client.get(change_url(commitment)).content.decode()
    assert 'name="reference"' not in page
    response = staff_client.post(
        change_url(commitment), edit_data(commitment, reference="NOR-2012-04-renamed")
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.reference == "NOR-2012-04"
    assert client.get("/commitments/NOR-2012-04/").status_code == 200


def test_a_once_published_commitment_keeps_its_reference_when_unpublished(staff_client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-04")
    staff_client.post(change_url(commitment), edit_data(commitment, published=""))
    commitment.refresh_from_db()
    assert not commitment.published
    assert 'name="reference"' not in staff_client.get(change_url(commitment)).content.decode()
    commitment.reference = "NOR-2012-04-renamed"
    with pytest.raises(ValidationError) as refused:
        commitment.full_clean()
    assert "its reference is the address people cite" in str(refused.value.message_dict)
    with pytest.raises(ValidationError):
        save_edit(commitment, based_on_version=commitment.version)
    assert Commitment.objects.filter(reference="NOR-2012-04").exists()


def test_a_draft_never_published_can_be_renamed(staff_client, seeded):
    draft = Commitment.objects.get(reference="NOR-2012-04")
    Commitment.objects.filter(pk=draft.pk).update(published=False)
    Commitment.history.filter(id=draft.pk).delete()  # as if it had never been published
    draft.refresh_from_db()
    assert 'name="reference"' in staff_client.get(change_url(draft)).content.decode()
    response = staff_client.post(
        change_url(draft), edit_data(draft, reference="NOR-2012-04b", published="")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.reference == "NOR-2012-04b"


def test_an_import_cannot_rename_a_commitment_it_adds_a_new_one(seeded):
    from tablib import Dataset

    from commitments.resources import CommitmentResource

    csv = CommitmentResource().export().csv
    header, *rows = csv.splitlines(keepends=True)
    renamed = [row for row in rows if row.startswith("NOR-2012-04,")][0]
    renamed = renamed.replace("NOR-2012-04,", "NOR-2012-04b,", 1)
    result = CommitmentResource().import_data(
        Dataset().load(header + renamed, format="csv"), dry_run=False, raise_errors=True
    )
    assert [row.import_type for row in result.rows] == ["new"]
    assert Commitment.objects.filter(reference="NOR-2012-04").exists()  # the cited one stays
    assert Commitment.objects.filter(reference="NOR-2012-04b").exists()
