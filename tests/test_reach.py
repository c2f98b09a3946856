"""commitments/reach.py: every state's treaty status from its recorded events, from a
viewpoint (as at a day, as known at a moment), corrections counting from when they are
recorded, in a constant number of queries."""

import datetime

import pytest
from django.utils import timezone

from commitments.models import State, TreatyEvent, Viewpoint
from commitments.reach import (
    Reach,
    actions_by_state,
    counted_events,
    joined_between,
    reach_on,
    standings,
)
from commitments.treaty import NEITHER, SIGNATORY, STATE_PARTY, Standing

from .factories import StateFactory, TreatyEventFactory

pytestmark = pytest.mark.django_db

D = datetime.date
Kind = TreatyEvent.Kind


def moment(*args):
    return datetime.datetime(*args, tzinfo=datetime.UTC)


RECORDED = moment(2024, 1, 1, 12)


def event(code, kind, on, recorded=RECORDED, **fields):
    return TreatyEventFactory(
        state=State.objects.get(country=code), kind=kind, date=on, recorded_at=recorded, **fields
    )


def state_id(code):
    return State.objects.get(country=code).pk


def test_every_state_is_neither_until_it_acts():
    result = standings(Viewpoint(as_at=D(2020, 1, 1)))
    assert len(result) == State.objects.count() >= 197
    assert set(result.values()) == {Standing(NEITHER, None)}


def test_an_accession_makes_a_state_party_on_the_first_day_of_the_sixth_month():
    event("AD", Kind.ACCESSION, D(2013, 4, 9))
    andorra = state_id("AD")
    assert standings(Viewpoint(as_at=D(2013, 4, 8)))[andorra] == Standing(NEITHER, None)
    assert standings(Viewpoint(as_at=D(2013, 9, 30)))[andorra] == Standing(
        NEITHER, None, pending=D(2013, 10, 1)
    )
    assert standings(Viewpoint(as_at=D(2013, 10, 1)))[andorra] == Standing(
        STATE_PARTY, D(2013, 10, 1)
    )


def test_a_signatory_stays_one_until_its_ratification_enters_into_force():
    event("AO", Kind.SIGNATURE, D(2008, 12, 3))
    event("AF", Kind.SIGNATURE, D(2008, 12, 3))
    event("AF", Kind.RATIFICATION, D(2011, 9, 8))
    on = standings(Viewpoint(as_at=D(2012, 3, 1)), states=[state_id("AO"), state_id("AF")])
    assert on == {
        state_id("AO"): Standing(SIGNATORY, D(2008, 12, 3)),
        state_id("AF"): Standing(STATE_PARTY, D(2012, 3, 1)),
    }
    assert standings(Viewpoint(as_at=D(2011, 12, 31)))[state_id("AF")] == Standing(
        SIGNATORY, D(2008, 12, 3), pending=D(2012, 3, 1)
    )


def test_an_event_recorded_later_is_not_known_before():
    event("AD", Kind.ACCESSION, D(2013, 4, 9), recorded=moment(2014, 5, 1, 9))
    andorra = state_id("AD")
    day = D(2015, 1, 1)
    assert standings(Viewpoint(as_at=day, known_on=D(2014, 4, 30)))[andorra].status == NEITHER
    assert standings(Viewpoint(as_at=day, known_on=D(2014, 5, 1)))[andorra].status == STATE_PARTY
    assert (
        standings(Viewpoint(as_at=day, known_on=moment(2014, 5, 1, 8, 59, 59)))[andorra].status
        == NEITHER
    )


def test_a_correction_counts_from_when_it_is_recorded_and_the_mistake_until_then():
    wrong = event("AL", Kind.RATIFICATION, D(2010, 6, 16), recorded=moment(2020, 1, 1, 10))
    event(
        "AL",
        Kind.RATIFICATION,
        D(2009, 6, 16),
        recorded=moment(2021, 3, 1, 10),
        corrects=wrong,
    )
    albania = state_id("AL")
    day = D(2010, 9, 1)
    before = Viewpoint(as_at=day, known_on=moment(2021, 3, 1, 9, 59, 59))
    after = Viewpoint(as_at=day, known_on=moment(2021, 3, 1, 10))
    # Mistake: deposit 16 June 2010, in force 1 December 2010. Correction: from 1 August 2010.
    assert standings(before)[albania] == Standing(NEITHER, None, pending=D(2010, 12, 1))
    assert standings(after)[albania] == Standing(STATE_PARTY, D(2010, 8, 1))
    assert standings(Viewpoint(as_at=day))[albania] == Standing(STATE_PARTY, D(2010, 8, 1))
    assert [a.date for a in actions_by_state(before)[albania]] == [D(2010, 6, 16)]
    assert [a.date for a in actions_by_state(after)[albania]] == [D(2009, 6, 16)]


def test_a_correction_moving_an_entry_to_another_state_takes_it_from_the_first():
    # Recorded against Austria by mistake: it was Australia's.
    wrong = event("AT", Kind.RATIFICATION, D(2012, 10, 8), recorded=moment(2022, 1, 1))
    event("AU", Kind.RATIFICATION, D(2012, 10, 8), recorded=moment(2022, 2, 1), corrects=wrong)
    austria, australia = state_id("AT"), state_id("AU")
    day = Viewpoint(as_at=D(2020, 1, 1))
    # Asked about Austria alone, the correction (an Australian entry) still counts.
    assert standings(day, states=[austria])[austria].status == NEITHER
    assert actions_by_state(day, states=[austria]) == {}
    assert standings(day, states=[australia])[australia].status == STATE_PARTY
    old = Viewpoint(as_at=D(2020, 1, 1), known_on=D(2022, 1, 15))
    assert standings(old, states=[austria])[austria].status == STATE_PARTY


def test_a_corrected_correction_gives_way_to_the_latest():
    first = event("BE", Kind.RATIFICATION, D(2011, 12, 22), recorded=moment(2022, 1, 1))
    second = event(
        "BE", Kind.RATIFICATION, D(2010, 12, 22), recorded=moment(2022, 2, 1), corrects=first
    )
    event("BE", Kind.RATIFICATION, D(2009, 12, 22), recorded=moment(2022, 3, 1), corrects=second)
    belgium = state_id("BE")
    assert [e.date for e in counted_events(states=[belgium])] == [D(2009, 12, 22)]
    assert [
        e.date for e in counted_events(Viewpoint(known_on=D(2022, 2, 15)), states=[belgium])
    ] == [D(2010, 12, 22)]


def test_a_withdrawal_ends_membership_six_months_on_or_when_an_armed_conflict_ends():
    event("LT", Kind.RATIFICATION, D(2011, 3, 24))
    event("LT", Kind.WITHDRAWAL, D(2024, 9, 6), armed_conflict_ends=D(2025, 6, 30))
    event("BG", Kind.RATIFICATION, D(2011, 4, 6))
    event("BG", Kind.WITHDRAWAL, D(2024, 9, 6))
    lithuania, bulgaria = state_id("LT"), state_id("BG")
    on = standings(Viewpoint(as_at=D(2025, 3, 6)), states=[lithuania, bulgaria])
    assert on[bulgaria] == Standing(NEITHER, D(2025, 3, 6))
    assert on[lithuania] == Standing(STATE_PARTY, D(2011, 9, 1), pending=D(2025, 6, 30))
    assert standings(Viewpoint(as_at=D(2025, 3, 5)))[bulgaria] == Standing(
        STATE_PARTY, D(2011, 10, 1), pending=D(2025, 3, 6)
    )
    assert standings(Viewpoint(as_at=D(2025, 6, 30)))[lithuania] == Standing(
        NEITHER, D(2025, 6, 30)
    )


def test_reach_counts_states_parties_and_signatories_on_each_day():
    event("AF", Kind.SIGNATURE, D(2008, 12, 3))
    event("AF", Kind.RATIFICATION, D(2011, 9, 8))  # party from 1 March 2012
    event("AO", Kind.SIGNATURE, D(2008, 12, 3))
    event("AD", Kind.ACCESSION, D(2013, 4, 9))  # party from 1 October 2013
    days = [D(2008, 12, 2), D(2012, 2, 29), D(2012, 3, 1), D(2013, 10, 1)]
    assert reach_on(days, Viewpoint()) == [
        Reach(D(2008, 12, 2), 0, 0),
        Reach(D(2012, 2, 29), 0, 2),
        Reach(D(2012, 3, 1), 1, 1),
        Reach(D(2013, 10, 1), 2, 1),
    ]
    # As known before Andorra's accession was recorded.
    assert reach_on([D(2013, 10, 1)], Viewpoint(known_on=D(2023, 12, 31))) == [
        Reach(D(2013, 10, 1), 0, 0)
    ]


def test_joined_between_counts_deposits_after_the_first_day_up_to_the_last():
    event("AD", Kind.ACCESSION, D(2013, 4, 9))
    event("AF", Kind.SIGNATURE, D(2013, 4, 10))  # a signature is no joining
    event("AG", Kind.RATIFICATION, D(2013, 4, 10))
    event("AU", Kind.RATIFICATION, D(2013, 5, 1))
    wrong = event("AT", Kind.RATIFICATION, D(2013, 4, 20), recorded=moment(2024, 1, 1))
    event("AT", Kind.RATIFICATION, D(2009, 4, 2), recorded=moment(2024, 2, 1), corrects=wrong)
    assert joined_between(D(2013, 4, 9), D(2013, 5, 1), Viewpoint()) == {
        state_id("AG"),
        state_id("AU"),
    }
    assert joined_between(D(2013, 4, 8), D(2013, 4, 30), Viewpoint()) == {
        state_id("AD"),
        state_id("AG"),
    }
    # Before the correction was recorded, Austria's mistaken deposit counted.
    assert state_id("AT") in joined_between(
        D(2013, 4, 8), D(2013, 4, 30), Viewpoint(known_on=D(2024, 1, 15))
    )


def _events_for(states):
    for state in states:
        TreatyEventFactory(state=state, kind=Kind.SIGNATURE, date=D(2008, 12, 3))
        TreatyEventFactory(state=state, kind=Kind.RATIFICATION, date=D(2010, 3, 1))


@pytest.mark.parametrize("how_many", [1, 30])
def test_standings_take_the_same_queries_for_one_or_thirty_states(
    how_many, django_assert_max_num_queries
):
    states = list(State.objects.order_by("country")[:how_many])
    _events_for(states)
    point = Viewpoint(as_at=D(2011, 1, 1), known_on=timezone.now())
    with django_assert_max_num_queries(2):
        result = standings(point)
    assert sum(s.status == STATE_PARTY for s in result.values()) == how_many
    with django_assert_max_num_queries(1):
        some = standings(point, states=[s.pk for s in states])
    assert len(some) == how_many
    with django_assert_max_num_queries(1):
        reach_on([D(2010, 1, 1), D(2011, 1, 1)], point)
    with django_assert_max_num_queries(1):
        joined_between(D(2010, 1, 1), D(2011, 1, 1), point)


def test_a_state_added_later_is_counted_once_it_acts():
    # StateFactory finds a seeded state: no second Norway.
    norway = StateFactory(country="NO")
    assert State.objects.filter(country="NO").count() == 1
    TreatyEventFactory(state=norway, kind=Kind.RATIFICATION, date=D(2008, 12, 3))
    assert standings(Viewpoint(as_at=D(2010, 8, 1)))[norway.pk] == Standing(
        STATE_PARTY, D(2010, 8, 1)
    )
