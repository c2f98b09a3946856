import datetime

import pytest

from commitments.charts import progress_chart
from commitments.derived import progress_history
from commitments.models import Commitment, Kind, Status, Theme
from commitments.records import record_follow_up

from .factories import CommitmentFactory, StatementFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def test_as_of_rebuilds_status_from_follow_ups_that_had_happened_by_then():
    commitment = CommitmentFactory()
    user = UserFactory()
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 1, 5))
    record_follow_up(commitment, status=Status.ACHIEVED, by=user, happened_on=D(2014, 6, 1))

    def state(date):
        c = Commitment.objects.as_of(date).get(pk=commitment.pk)
        return c.status, c.progress, c.last_follow_up_on

    assert state(D(2012, 12, 31)) == (Status.NOT_ASSESSED, None, None)
    assert state(D(2013, 1, 5)) == (Status.IN_PROGRESS, 50, D(2013, 1, 5))
    assert state(D(2014, 5, 31)) == (Status.IN_PROGRESS, 50, D(2013, 1, 5))
    assert state(D(2014, 6, 1)) == (Status.ACHIEVED, 100, D(2014, 6, 1))
    assert state(None) == (Status.ACHIEVED, 100, D(2014, 6, 1))


def test_follow_up_recorded_late_counts_from_the_day_it_happened():
    commitment = CommitmentFactory()
    user = UserFactory()
    record_follow_up(commitment, status=Status.ACHIEVED, by=user, happened_on=D(2015, 1, 1))
    # Recorded afterwards, for an earlier date: it is the state in 2013, not in 2016.
    record_follow_up(
        commitment, status=Status.OFF_TRACK, by=user, happened_on=D(2013, 3, 1), progress=10
    )
    in_2013 = Commitment.objects.as_of(D(2013, 6, 1)).get(pk=commitment.pk)
    in_2016 = Commitment.objects.as_of(D(2016, 1, 1)).get(pk=commitment.pk)
    assert (in_2013.status, in_2013.progress) == (Status.OFF_TRACK, 10)
    assert (in_2016.status, in_2016.progress) == (Status.ACHIEVED, 100)


def test_a_later_not_assessed_follow_up_takes_a_commitment_out_of_the_average():
    commitment = CommitmentFactory()
    user = UserFactory()
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 1, 1))
    record_follow_up(commitment, status=Status.NOT_ASSESSED, by=user, happened_on=D(2014, 1, 1))
    summary = Commitment.objects.as_of(D(2014, 2, 1)).progress_summary()
    assert (summary.percent, summary.assessed, summary.unassessed) == (None, 0, 1)


def test_past_summary_uses_the_published_weighted_method():
    user = UserFactory()
    heavy = CommitmentFactory(weight=3)
    light = CommitmentFactory(weight=1)
    unassessed = CommitmentFactory(weight=5)
    record_follow_up(heavy, status=Status.ACHIEVED, by=user, happened_on=D(2013, 1, 1))
    record_follow_up(light, status=Status.NOT_STARTED, by=user, happened_on=D(2013, 1, 1))
    record_follow_up(light, status=Status.ACHIEVED, by=user, happened_on=D(2015, 1, 1))
    assert unassessed.status == Status.NOT_ASSESSED
    summary = Commitment.objects.as_of(D(2014, 1, 1)).progress_summary()
    assert summary.percent == 75.0  # (3 * 100 + 1 * 0) / 4
    assert (summary.assessed, summary.unassessed) == (2, 1)
    assert Commitment.objects.as_of(None).progress_summary().percent == 100.0


def test_past_progress_by_theme_counts_statuses_as_they_were():
    user = UserFactory()
    theme = ThemeFactory()
    first = CommitmentFactory(theme=theme)
    CommitmentFactory(theme=theme)
    record_follow_up(first, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 1, 1))
    record_follow_up(first, status=Status.ACHIEVED, by=user, happened_on=D(2016, 1, 1))
    summary = Commitment.objects.as_of(D(2014, 1, 1)).progress_by_theme()[theme.pk]
    assert summary.percent == 50.0
    assert summary.verdict_counts == {Status.IN_PROGRESS: 1, Status.NOT_ASSESSED: 1}


def test_made_by_leaves_out_commitments_from_later_statements():
    early = CommitmentFactory(statement=StatementFactory(date=D(2012, 4, 16)))
    CommitmentFactory(statement=StatementFactory(date=D(2016, 5, 1)))
    assert list(Commitment.objects.made_by(D(2014, 1, 1))) == [early]
    assert Commitment.objects.made_by(None).count() == 2


def test_status_filter_applies_to_the_past_state():
    commitment = CommitmentFactory()
    record_follow_up(
        commitment, status=Status.IN_PROGRESS, by=UserFactory(), happened_on=D(2013, 1, 1)
    )
    past = Commitment.objects.as_of(D(2012, 6, 1))
    assert list(past.matching(status=Status.NOT_ASSESSED)) == [commitment]
    assert list(past.matching(status=Status.IN_PROGRESS)) == []
    within = Commitment.objects.as_of(D(2013, 6, 1))
    assert list(within.matching(status=Status.IN_PROGRESS, as_of=D(2013, 6, 1))) == [commitment]
    # Today its 2013 evidence has lapsed: its verdict is "not confirmed".
    today = Commitment.objects.as_of(None)
    assert list(today.matching(status=Status.IN_PROGRESS)) == []
    assert list(today.matching(status="not_confirmed")) == [commitment]


def test_history_ends_on_the_same_figures_as_the_dashboard():
    user = UserFactory()
    themes = [ThemeFactory(), ThemeFactory()]
    for index in range(6):
        commitment = CommitmentFactory(theme=themes[index % 2], weight=index + 1)
        record_follow_up(
            commitment, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 1, 1 + index)
        )
        if index % 3 == 0:
            record_follow_up(
                commitment, status=Status.ACHIEVED, by=user, happened_on=D(2014, 2, 1 + index)
            )
    for until in (D(2013, 1, 3), D(2014, 1, 1), D(2020, 1, 1)):
        qs = Commitment.objects.as_of(until)
        history = progress_history(until)
        summary = qs.progress_summary()
        by_theme = qs.progress_by_theme()
        assert history[-1].overall == summary.percent
        for theme in themes:
            assert history[-1].by_theme[theme.pk] == by_theme[theme.pk].percent


def test_history_steps_only_when_a_figure_changes():
    user = UserFactory()
    commitment = CommitmentFactory(statement=StatementFactory(date=D(2012, 4, 16)))
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 1, 1))
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user, happened_on=D(2013, 6, 1))
    record_follow_up(commitment, status=Status.ACHIEVED, by=user, happened_on=D(2014, 1, 1))
    history = progress_history(D(2020, 1, 1))
    assert [(point.date, point.overall) for point in history] == [
        (D(2012, 4, 16), None),
        (D(2013, 1, 1), 50.0),
        (D(2014, 1, 1), 100.0),
    ]


def test_chart_draws_one_line_per_theme_and_one_overall_within_the_plot():
    user = UserFactory()
    commitment = CommitmentFactory(kind=Kind.ONE_OFF)
    for year in (2013, 2014, 2015):  # renewed each year: still counted on 1 January 2016
        record_follow_up(commitment, status=Status.IN_PROGRESS, by=user, happened_on=D(year, 1, 1))
    themes = list(Theme.objects.all())
    history = progress_history(D(2016, 1, 1))
    chart = progress_chart(history, themes, D(2016, 1, 1))
    assert len(chart["series"]) == 1 + len(themes)
    assert chart["series"][0].last == 50.0
    numbers = [
        float(token[1:]) if token[0] in "MHV" else float(token)
        for series in chart["series"]
        for token in series.points.split()
    ]
    assert numbers
    assert all(0 <= n <= chart["width"] for n in numbers)
    assert [year for _x, year in chart["x_ticks"]] == [2013, 2014, 2015, 2016]


def test_no_chart_before_any_commitment_was_made():
    assert progress_chart([], [], D(2010, 1, 1)) is None
