"""The Convention's reach: every state's treaty status on a day, as the record stood at a
moment, derived from the states' TreatyEvents by the Articles' rules (commitments/treaty.py).
Never stored. The one home of "who was a State Party or signatory when"; the states pages, the
dashboard's indicator and the meeting report read it.

A Viewpoint applies as everywhere: its as-at date is the day whose status is shown (events
dated later have not happened yet), its known-on moment what had been recorded (events recorded
later are not known, and a correction counts from when it was recorded).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from .models import NOW, State, TreatyEvent
from .treaty import CONSENTS, NEITHER, SIGNATORY, STATE_PARTY, DepositaryAction, standing_on

STATUSES = (STATE_PARTY, SIGNATORY, NEITHER)


def counted_events(point=NOW, states=None):
    """The TreatyEvents that count from `point`: those recorded by its known-on moment, less
    those a correction recorded by then replaces (a correction may name another state's
    entry: the state recorded by mistake loses it too). `states`: limit to these State ids.
    A queryset: one query when read."""
    known = TreatyEvent.objects.known_from(point)
    events = known.filter(~Exists(known.filter(corrects=OuterRef("pk"))))
    if states is not None:
        events = events.filter(state__in=states)
    return events


def actions_by_state(point=NOW, states=None):
    """{state id: [DepositaryAction, …]} from the events known from `point`, corrected
    entries left out. One query. `states`: limit to these State ids."""
    rows = counted_events(point, states).values_list(
        "state_id", "kind", "date", "armed_conflict_ends"
    )
    actions = defaultdict(list)
    for state_id, kind, day, conflict_ends in rows:
        actions[state_id].append(DepositaryAction(day, kind, conflict_ends))
    return actions


def standings(point=NOW, states=None):
    """{state id: treaty.Standing} on the viewpoint's day, for every State (or `states`, a
    list of ids). Two queries."""
    ids = list(states) if states is not None else list(State.objects.values_list("id", flat=True))
    actions = actions_by_state(point, ids if states is not None else None)
    return {state_id: standing_on(actions.get(state_id, ()), point.day) for state_id in ids}


@dataclass(frozen=True)
class Reach:
    day: object  # datetime.date
    states_parties: int
    signatories: int


def reach_on(days, point=NOW):
    """[Reach] for each of `days` (dates), from what was known from `point`: how many States
    Parties and signatories there were on each day. One query whatever the number of days."""
    actions = actions_by_state(point)
    result = []
    for day in days:
        counts = defaultdict(int)
        for state_actions in actions.values():
            counts[standing_on(state_actions, day).status] += 1
        result.append(Reach(day, counts[STATE_PARTY], counts[SIGNATORY]))
    return result


def joined_between(after, until, point=NOW):
    """The ids of the states that deposited an instrument of ratification, acceptance,
    approval or accession after the day `after` and on or before `until` (each state once):
    how many states joined in that time, as the record stood at `point`."""
    joined = set()
    for state_id, state_actions in actions_by_state(point).items():
        if any(a.kind in CONSENTS and after < a.date <= until for a in state_actions):
            joined.add(state_id)
    return joined
