"""As known on a date: a cited view keeps saying what it said, whatever is back-filled later."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from commitments.models import Commitment, FollowUp, Status
from commitments.records import record_follow_up

from .factories import UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 0


def recorded_on(follow_up, day):
    """As if the follow-up had been entered on `day` (a write around the app: the triggers
    mark it, and the next read re-derives)."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_followup SET recorded_at = %s WHERE id = %s", [moment, follow_up.pk]
        )


def shown(response):
    summary = response.context["summary"]
    return (
        summary.percent,
        summary.assessed,
        dict(summary.status_counts),
        [(theme.slug, s.percent) for theme, s in response.context["themes"]],
        response.context["history_rows"],
        [(c.reference, c.status, c.progress) for c in response.context["commitments"]],
    )


def test_a_permalink_that_fixes_both_dates_shows_the_same_figures_after_a_back_fill(client, seeded):
    user = UserFactory(is_staff=True)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with connection.cursor() as cursor:  # the seed was entered a while ago
        cursor.execute("UPDATE commitments_commitment SET created_at = %s", [D(2012, 5, 1)])
    first = record_follow_up(
        Commitment.objects.get(reference="NOR-2012-01"),
        status=Status.ON_TRACK,
        by=user,
        happened_on=D(2013, 6, 1),
    )
    recorded_on(first, yesterday)
    permalink = f"/?as_of=2014-01-10&known_on={yesterday.isoformat()}"
    moving = "/?as_of=2014-01-10"
    cited = client.get(permalink)
    before_moving = client.get(moving)
    assert shown(cited) == shown(before_moving)  # nothing recorded today yet
    page = cited.content.decode()
    assert "Figures as at 10 January 2014, as recorded on" in page
    assert f"known_on={yesterday.isoformat()}" in page
    csv_before = b"".join(client.get("/data/commitments.csv" + permalink[1:]).streaming_content)

    # Today someone back-fills what happened in 2013.
    back_filled = record_follow_up(
        Commitment.objects.get(reference="NOR-2012-02"),
        status=Status.OFF_TRACK,
        by=user,
        happened_on=D(2013, 9, 1),
    )
    after = client.get(permalink)
    assert shown(after) == shown(cited)
    assert b"".join(client.get("/data/commitments.csv" + permalink[1:]).streaming_content) == (
        csv_before
    )
    # Without known_on the same date moves: the back-filled follow-up counts.
    moved = client.get(moving)
    assert shown(moved) != shown(before_moving)
    assert moved.context["summary"].assessed == cited.context["summary"].assessed + 1

    # The commitment page: from the permalink it is not assessed; today it shows the
    # follow-up, with when it was recorded since that differs from when it happened.
    cited_page = client.get(
        f"/commitments/NOR-2012-02/?as_of=2014-01-10&known_on={yesterday.isoformat()}"
    )
    assert cited_page.context["commitment"].status == Status.NOT_ASSESSED
    assert f"follow-up-{back_filled.pk}" not in cited_page.content.decode()
    today_page = client.get("/commitments/NOR-2012-02/").content.decode()
    assert f"follow-up-{back_filled.pk}" in today_page
    assert 'class="recorded small">recorded on' in today_page


def test_every_page_offers_a_permalink_that_fixes_today(client, seeded):
    today = timezone.localdate().isoformat()
    page = client.get("/?theme=universalisation").content.decode()
    assert f"as_of={today}&amp;known_on={today}" in page
    assert "theme=universalisation" in page.split("Permanent link to these figures")[0][-400:]
    detail = client.get("/commitments/NOR-2012-01/").content.decode()
    assert f"/commitments/NOR-2012-01/?as_of={today}&amp;known_on={today}" in detail


def test_known_on_leaves_out_commitments_entered_later(client, seeded):
    long_ago = D(2013, 1, 1)  # before the seed's commitments were entered
    response = client.get(f"/?known_on={long_ago.isoformat()}")
    assert response.status_code == 200
    assert response.context["summary"].total == 0
    assert client.get(f"/commitments/NOR-2012-01/?known_on={long_ago}").status_code == 200


def test_known_on_in_the_future_is_refused_with_a_message(client, seeded):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.get(f"/?known_on={tomorrow.isoformat()}")
    assert "This date is in the future." in response.content.decode()
    assert client.get(f"/data/commitments.csv?known_on={tomorrow}").status_code == 400


def test_a_follow_up_recorded_on_its_day_shows_no_recorded_date(client, seeded):
    user = UserFactory(is_staff=True)
    follow_up = record_follow_up(
        Commitment.objects.get(reference="NOR-2012-03"), status=Status.ON_TRACK, by=user
    )
    assert FollowUp.objects.get(pk=follow_up.pk).happened_on == timezone.localdate()
    page = client.get("/commitments/NOR-2012-03/").content.decode()
    assert 'class="recorded' not in page
