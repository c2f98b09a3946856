"""As known on a date: a cited view keeps saying what it said, whatever is back-filled later."""

import datetime
import json
import re
import time

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
        dict(summary.verdict_counts),
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


def test_the_history_as_known_on_each_day_says_what_a_recompute_says(seeded):
    """The chart from a known-on day: the stored totals corrected for what was recorded
    later equal a full derivation from the follow-ups recorded by then, and a naive
    recompute on every date."""
    from commitments import derived
    from commitments.models import Viewpoint

    from .test_one_source import figures, recompute

    user = UserFactory(is_staff=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE commitments_commitment SET created_at = %s", [D(2012, 5, 1)])
    plan = [  # (reference, happened, recorded)
        ("NOR-2012-01", D(2012, 9, 14), D(2012, 9, 20)),
        ("NOR-2012-02", D(2013, 4, 1), D(2013, 4, 2)),
        ("NOR-2012-03", D(2013, 1, 10), D(2015, 1, 1)),  # back-filled two years later
        ("NOR-2012-02", D(2014, 4, 1), D(2016, 3, 3)),
        ("NOR-2012-07", D(2015, 6, 1), D(2015, 6, 1)),
        ("NOR-2012-08", D(2012, 12, 1), D(2020, 1, 1)),
    ]
    for reference, happened, recorded in plan:
        commitment = Commitment.objects.get(reference=reference)
        follow_up = record_follow_up(
            commitment, status=commitment.allowed_statuses[-1], by=user, happened_on=happened
        )
        recorded_on(follow_up, recorded)
    until = D(2021, 1, 1)
    for known_on in (D(2013, 6, 1), D(2015, 1, 1), D(2016, 1, 1), D(2019, 12, 31)):
        point = Viewpoint(None, known_on)
        full = derived._totals(derived.derive(*derived._rows(point=point))[0])
        corrected = derived._known_totals(known_on)
        assert {k: list(v) for k, v in full.items() if any(v)} == {
            k: list(v) for k, v in corrected.items() if any(v)
        }, known_on
        history = derived.progress_history(until, known_on)
        for day in [D(2012, 4, 16)] + [p[1] for p in plan] + [until]:
            points = [p for p in history if p.date <= day]
            expected = figures(recompute(day, point.recorded_before))[0]
            assert (points[-1].overall if points else None) == expected, (known_on, day)


def test_the_permanent_link_fixes_the_moment_so_a_same_day_back_fill_stays_out(client, seeded):
    """A reader cites the page at 10:00; at 11:00 staff back-date a follow-up. The link the
    reader copied fixes "as recorded" to the second, not to the day: it still shows what the
    reader saw."""
    user = UserFactory(is_staff=True)
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-01"), status=Status.ON_TRACK, by=user
    )
    page = client.get("/")
    permalink = page.context["permalink"]
    moment = re.search(r"known_on=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", permalink).group(1)
    assert f"as_of={timezone.localdate().isoformat()}" in permalink
    cited = client.get(permalink)
    assert cited.status_code == 200
    assert cited.context["point"].known_param == moment
    assert shown(cited) == shown(page)
    assert permalink.replace("&", "&amp;") in cited.content.decode()  # it cites itself

    time.sleep(1.05)  # "as recorded" is kept to the second
    record_follow_up(
        Commitment.objects.get(reference="NOR-2012-02"),
        status=Status.OFF_TRACK,
        by=user,
        happened_on=timezone.localdate() - datetime.timedelta(days=3),
    )
    assert shown(client.get("/")) != shown(page)
    assert shown(client.get(permalink)) == shown(page)
    # The day alone takes the back-fill in: that is why the link carries the moment.
    assert shown(client.get(f"/?known_on={timezone.localdate().isoformat()}")) != shown(page)
    # The exports of the link say the same.
    data = json.loads(client.get("/data/commitments.json" + permalink[1:]).content)
    assert data["known_on"] == moment
    assert {r["reference"]: r["status"] for r in data["commitments"]}["NOR-2012-02"] == (
        "not_assessed"
    )


def test_a_moment_in_the_future_or_malformed_is_refused_with_a_message(client, seeded):
    later = (timezone.now() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "This date is in the future." in client.get(f"/?known_on={later}").content.decode()
    bad = client.get("/?known_on=2020-13-01T10:00:00Z").content.decode()
    assert "Enter a date as YYYY-MM-DD" in bad
