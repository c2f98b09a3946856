"""Verdicts first, and evidence that ages (issue 11, items 1 and 2).

A verdict other than "achieved" holds for the confirmation window after its latest evidence;
after that it is "not confirmed since <date>", counted beside "not yet assessed" and left out
of the weighted mean — on the dashboard, in every group's figures, in the exports, in past
views (relative to the date shown) and in the chart (a change on the day it lapses).
"""

import csv
import datetime
import html as htmllib
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from commitments.derived import differences, progress_history
from commitments.models import (
    Commitment,
    Kind,
    Status,
    Verdict,
    add_months,
    confirm_by,
    oldest_confirmed,
    verdict_of,
)
from commitments.records import record_follow_up

from .factories import CommitmentFactory, StatementFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)


def text_of(response_or_html):
    """The page's words as a reader sees them: no tags, entities resolved, spaces collapsed."""
    html = getattr(response_or_html, "content", response_or_html)
    html = html.decode() if isinstance(html, bytes) else html
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", html)).replace("\xa0", " ")
    return re.sub(r"\s+", " ", text)


def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month():
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert add_months(D(2023, 12, 15), 1) == D(2024, 1, 15)
    assert add_months(D(2024, 1, 15), -1) == D(2023, 12, 15)
    assert add_months(D(2013, 9, 13), 12) == D(2014, 9, 13)


@pytest.mark.parametrize("months", [1, 12, 18])
def test_the_filter_and_the_rule_agree_on_every_day(months):
    """confirmed_q (the database's filter) rests on oldest_confirmed(); verdict_of (pages,
    exports, summaries) on confirm_by(). They must draw the line on the same day, month ends
    and leap days included."""
    with override_settings(CONFIRMATION_WINDOW_MONTHS=months):
        start = D(2023, 1, 1)
        for offset in range(0, 800, 3):
            day = start + datetime.timedelta(days=offset)
            cutoff = oldest_confirmed(day)
            for delta in range(-3, 4):
                evidence = cutoff + datetime.timedelta(days=delta)
                expected = evidence >= cutoff
                assert (confirm_by(Status.ON_TRACK, evidence) >= day) == expected, (day, evidence)


def test_achieved_and_not_assessed_never_expire_the_others_do():
    old = D(2013, 9, 13)
    today = D(2026, 12, 2)
    assert verdict_of(Status.ACHIEVED, old, today) == Verdict.ACHIEVED
    assert verdict_of(Status.NOT_ASSESSED, None, today) == Verdict.NOT_ASSESSED
    for status in (Status.NOT_STARTED, Status.OFF_TRACK, Status.IN_PROGRESS, Status.ON_TRACK):
        assert verdict_of(status, old, today) == Verdict.NOT_CONFIRMED
        assert verdict_of(status, old, D(2014, 9, 13)) == Verdict(status)  # the last day
        assert verdict_of(status, old, D(2014, 9, 14)) == Verdict.NOT_CONFIRMED


@pytest.fixture
def user():
    return UserFactory(is_staff=True)


@pytest.fixture
def mixed(user):
    """Four commitments: a fresh "on track", a stale "on track" (2013), an old "achieved",
    and one nobody has assessed."""
    today = timezone.localdate()
    theme = ThemeFactory(name="Norm", slug="norm")
    fresh = CommitmentFactory(reference="TST-FRESH", kind=Kind.CONTINUOUS, theme=theme)
    stale = CommitmentFactory(reference="TST-STALE", kind=Kind.CONTINUOUS, theme=theme, weight=3)
    done = CommitmentFactory(reference="TST-DONE", theme=theme)
    CommitmentFactory(reference="TST-NONE", theme=theme)
    record_follow_up(fresh, status=Status.OFF_TRACK, by=user, happened_on=today - ONE_DAY * 30)
    record_follow_up(stale, status=Status.ON_TRACK, by=user, happened_on=D(2013, 9, 13))
    record_follow_up(done, status=Status.ACHIEVED, by=user, happened_on=D(2013, 1, 10))
    return {"fresh": fresh, "stale": stale, "done": done}


def test_a_stale_verdict_is_counted_beside_not_assessed_and_left_out_of_the_mean(mixed):
    summary = Commitment.objects.published().summaries()[0]
    assert summary.verdict_counts == {
        "off_track": 1,
        "not_confirmed": 1,
        "achieved": 1,
        "not_assessed": 1,
    }
    assert (summary.total, summary.assessed, summary.unconfirmed, summary.unassessed) == (
        4,
        2,
        1,
        1,
    )
    # (25 × 1 + 100 × 1) / 2: the stale "on track" (weight 3, 100 %) would make it 81.2.
    assert summary.percent == 62.5


def test_past_views_apply_the_window_relative_to_the_date_shown(mixed):
    in_2014 = Commitment.objects.published().as_of(D(2014, 9, 13))
    stale = in_2014.get(reference="TST-STALE")
    assert stale.verdict == Verdict.ON_TRACK
    assert stale.confirmed
    assert stale.confirm_by == D(2014, 9, 13)
    summary = in_2014.summaries()[0]
    assert summary.count(Verdict.ON_TRACK) == 1
    assert summary.unconfirmed == 0
    day_after = Commitment.objects.published().as_of(D(2014, 9, 14))
    assert day_after.get(reference="TST-STALE").verdict == Verdict.NOT_CONFIRMED
    assert day_after.summaries()[0].unconfirmed == 1


def test_the_window_is_a_setting(mixed):
    with override_settings(CONFIRMATION_WINDOW_MONTHS=12 * 20):
        summary = Commitment.objects.published().summaries()[0]
    assert summary.unconfirmed == 0
    assert summary.count(Verdict.ON_TRACK) == 1


def test_the_verdict_filter_matches_the_verdicts_shown(mixed):
    published = Commitment.objects.published().as_of()

    def refs(verdict):
        return sorted(published.matching(status=verdict).values_list("reference", flat=True))

    assert refs(Verdict.NOT_CONFIRMED) == ["TST-STALE"]
    assert refs(Verdict.ON_TRACK) == []
    assert refs(Verdict.OFF_TRACK) == ["TST-FRESH"]
    assert refs(Verdict.ACHIEVED) == ["TST-DONE"]
    assert refs(Verdict.NOT_ASSESSED) == ["TST-NONE"]
    # The same from a past date, through the public selection's as_of annotations.
    past = Commitment.objects.published().as_of(D(2014, 1, 1))
    assert list(
        past.matching(status="on_track", as_of=D(2014, 1, 1)).values_list("reference", flat=True)
    ) == ["TST-STALE"]


def test_dashboard_leads_with_the_verdicts_then_the_figure_with_its_coverage(client, mixed):
    html = client.get("/").content.decode()
    bar = html.index('class="verdict-bar"')
    percent = html.index('class="percent"')
    assert bar < percent
    counts = dict(
        re.findall(r'<li class="verdict-(\w+)[^"]*">.*?<strong class="count">(\d+)</strong>', html)
    )
    assert counts["not_confirmed"] == "1"
    assert counts["not_assessed"] == "1"
    assert counts["on_track"] == "0"
    assert counts["achieved"] == "1"
    text = text_of(html)
    assert "62.5 % weighted progress across the 2 of 4 commitments assessed and confirmed" in text


def test_a_stale_on_track_shows_not_confirmed_since_its_latest_evidence(client, mixed):
    text = text_of(client.get("/").content.decode())
    assert "Not confirmed since 13 September 2013 (last verdict: On track)" in text
    page = client.get("/commitments/TST-STALE/").content.decode()
    page_text = text_of(page)
    assert "Not confirmed since 13 September 2013" in page_text
    assert "the window closed on 13 September 2014" in page_text
    # Seen from a day inside the window, it is on track.
    past = client.get("/commitments/TST-STALE/?as_of=2014-06-01").content.decode()
    assert "badge-on_track" in past
    assert "badge-not_confirmed" not in past


def test_commitments_show_latest_evidence_and_last_checked(client, mixed):
    page = text_of(client.get("/commitments/TST-STALE/").content.decode())
    today = timezone.localdate()
    assert "Latest evidence 13 September 2013" in page
    assert f"Last checked {today.day} {today:%B %Y}" in page


def test_filters_move_the_figures_and_the_chart_with_the_list(client, mixed, user):
    other_theme = ThemeFactory(name="Regional", slug="regional")
    other = CommitmentFactory(reference="TST-OTHER", theme=other_theme)
    record_follow_up(other, status=Status.ACHIEVED, by=user, happened_on=timezone.localdate())
    everything = client.get("/")
    assert everything.context["summary"].total == 5
    narrowed = client.get("/?theme=regional")
    summary = narrowed.context["summary"]
    assert (summary.total, summary.percent) == (1, 100.0)
    assert [theme.slug for theme, _s in narrowed.context["themes"]] == ["regional"]
    text = text_of(narrowed.content.decode())
    assert "cover the 1 commitment, of 5 published, that matches Theme “Regional”" in text
    # The chart is the selection's: only its theme's line, at 100 % since today.
    history = narrowed.context["history_themes"]
    assert [theme.slug for theme in history] == ["regional"]
    by_verdict = client.get("/?status=not_confirmed").context["summary"]
    assert by_verdict.verdict_counts == {"not_confirmed": 1}


def test_htmx_filter_answers_figures_chart_and_list_together(client, mixed):
    response = client.get("/?theme=norm", headers={"HX-Request": "true", "HX-Target": "selection"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="selection">')
    assert 'class="verdict-bar"' in html
    assert "history-heading" in html
    assert 'id="results"' in html
    page = client.get("/?page=1", headers={"HX-Request": "true", "HX-Target": "results"})
    assert page.content.decode().lstrip().startswith('<div id="results">')


def test_the_chart_shows_a_lapse_as_a_change_on_its_day(user):
    statement = StatementFactory(date=D(2012, 4, 16))
    kept = CommitmentFactory(statement=statement, kind=Kind.CONTINUOUS)
    lapsing = CommitmentFactory(statement=statement, kind=Kind.CONTINUOUS)
    record_follow_up(kept, status=Status.OFF_TRACK, by=user, happened_on=D(2013, 1, 1))
    record_follow_up(kept, status=Status.OFF_TRACK, by=user, happened_on=D(2013, 12, 1))
    record_follow_up(kept, status=Status.OFF_TRACK, by=user, happened_on=D(2014, 11, 1))
    record_follow_up(lapsing, status=Status.ON_TRACK, by=user, happened_on=D(2013, 9, 13))
    history = {point.date: point.overall for point in progress_history(D(2015, 6, 1))}
    assert history[D(2013, 9, 13)] == 62.5  # (25 + 100) / 2
    assert history[D(2014, 9, 14)] == 25.0  # the day after its window closed
    assert D(2014, 1, 2) not in history  # "kept" was renewed in time: no lapse
    # The same from the follow-ups, as known on a day (the derivation path), and stored
    # copies equal to a recompute.
    known = {p.date: p.overall for p in progress_history(D(2015, 6, 1), timezone.localdate())}
    assert known == history
    assert not differences()
    # The dashboard's figure on a day agrees with the chart on that day.
    for day in (D(2014, 9, 13), D(2014, 9, 14)):
        summary = Commitment.objects.published().as_of(day).summaries()[0]
        last = max(d for d in history if d <= day)
        assert summary.percent == history[last]


def test_a_renewal_before_the_window_closes_keeps_it_counted(user):
    commitment = CommitmentFactory(kind=Kind.CONTINUOUS)
    record_follow_up(commitment, status=Status.ON_TRACK, by=user, happened_on=D(2013, 9, 13))
    record_follow_up(commitment, status=Status.ON_TRACK, by=user, happened_on=D(2014, 9, 13))
    history = progress_history(D(2015, 6, 1))
    assert all(point.overall == 100.0 for point in history if point.date >= D(2013, 9, 13))
    assert history[-1].date < D(2015, 9, 14)
    lapsed = progress_history(D(2015, 9, 14))
    assert lapsed[-1].date == D(2015, 9, 14)
    assert lapsed[-1].overall is None


def test_exports_carry_the_verdict_the_flag_and_the_date(client, mixed):
    data = json.loads(client.get("/data/commitments.json").content)
    assert data["confirmation_window_months"] == 12
    rows = {row["reference"]: row for row in data["commitments"]}
    stale = rows["TST-STALE"]
    assert (stale["status"], stale["verdict"], stale["confirmed"]) == (
        "on_track",
        "not_confirmed",
        False,
    )
    assert stale["confirm_by"] == "2014-09-13"
    assert stale["counted_progress"] is None
    assert rows["TST-DONE"]["confirm_by"] is None
    assert rows["TST-DONE"]["confirmed"] is True
    assert rows["TST-FRESH"]["counted_progress"] == 25
    table = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get("/data/commitments.csv").streaming_content).decode("utf-8-sig")
            )
        )
    )
    by_ref = {row["reference"]: row for row in table}
    assert by_ref["TST-STALE"]["confirmed"] == "false"
    assert by_ref["TST-STALE"]["confirm_by"] == "2014-09-13"
    # A past view: confirmed then.
    past = json.loads(client.get("/data/commitments.json?as_of=2014-01-01").content)
    assert {r["reference"]: r["confirmed"] for r in past["commitments"]}["TST-STALE"] is True


def test_verify_finds_a_history_derived_under_another_window_and_repair_fixes_it(mixed):
    assert not differences()
    with override_settings(CONFIRMATION_WINDOW_MONTHS=24):
        found = differences()
        assert found.steps  # the stale "on track" would lapse a year later
        with pytest.raises(CommandError, match="history steps differ"):
            call_command("verify", stdout=io.StringIO())
        call_command("verify", "--repair", stdout=io.StringIO())
        assert not differences()


def test_a_filter_that_matches_nothing_says_so_everywhere(client, mixed):
    text = text_of(client.get("/?q=no such words"))
    assert "no commitment had been made by this date" not in text.lower()
    assert text.count("No commitment matches these filters.") >= 3  # chart, themes, list
