"""The Convention's own dates: when it binds a state, and when a withdrawal takes effect.

The one home of Articles 17 and 20 (the text of the Convention on Cluster Munitions, and
../shared/data/README.md), and of the depositary's way of writing an action in its participant
table (United Nations Treaty Collection, MTDSG XXVI-6): "9 Apr 2013 a" is an accession
deposited on 9 April 2013. Issue 14 builds the states' treaty status on these.
"""

import datetime
import re
from dataclasses import dataclass

from .models import CONVENTION_OPENED_FOR_SIGNATURE, add_months

OPENED_FOR_SIGNATURE = CONVENTION_OPENED_FOR_SIGNATURE  # Oslo, 3 December 2008
# Art. 17(1): the first day of the sixth month after the month of the thirtieth deposit
# (February 2010).
ENTERED_INTO_FORCE = datetime.date(2010, 8, 1)

# The depositary's suffixes after a deposit's date (none: ratification), and "n" after a
# date of provisional application (Art. 18).
RATIFICATION = "ratification"
ACCESSION = "accession"
ACCEPTANCE = "acceptance"
APPROVAL = "approval"
PROVISIONAL_APPLICATION = "provisional_application"
DEPOSIT_SUFFIXES = {"": RATIFICATION, "a": ACCESSION, "A": ACCEPTANCE, "AA": APPROVAL}

_ACTION = re.compile(r"^\s*(\d{1,2} [A-Z][a-z]{2} \d{4})\s*([A-Za-z]*)\s*$")


def _first_of_sixth_month_after(day):
    return add_months(day.replace(day=1), 6)


def entry_into_force(deposit):
    """The day the Convention enters into force for a state that deposited its instrument of
    ratification, acceptance, approval or accession on `deposit`: the first day of the sixth
    month after the month of its deposit (Art. 17(2): deposited 24 March 2011, in force
    1 September 2011), and never before the Convention itself (Art. 17(1): 1 August 2010)."""
    return max(_first_of_sixth_month_after(deposit), ENTERED_INTO_FORCE)


def withdrawal_takes_effect(received, armed_conflict_ends=None):
    """The day a withdrawal takes effect: six months after the Depositary received the
    instrument (Art. 20(2)) — the same day of the month, or the month's last day when it is
    shorter — and, if the state is then engaged in an armed conflict, not before its end."""
    effect = add_months(received, 6)
    if armed_conflict_ends is not None:
        effect = max(effect, armed_conflict_ends)
    return effect


@dataclass(frozen=True)
class DepositaryAction:
    date: datetime.date
    kind: str  # RATIFICATION, ACCESSION, … or PROVISIONAL_APPLICATION
    armed_conflict_ends: datetime.date | None = None  # a withdrawal's, if any (Art. 20(2))


class DepositaryFormatError(ValueError):
    pass


def parse_action(text, column="deposit"):
    """One cell of the participant table: None if empty, else a DepositaryAction. `column` is
    the table's: "deposit" (a suffix names the instrument), "provisional_application" (its
    date carries "n") or "signature" (a bare date). Raises DepositaryFormatError, saying what
    it expected, for anything else."""
    if not (text or "").strip():
        return None
    match = _ACTION.match(text)
    if match is None:
        raise DepositaryFormatError(f"“{text.strip()}” is not a date such as “9 Apr 2013”.")
    try:
        day = datetime.datetime.strptime(match[1], "%d %b %Y").date()
    except ValueError as error:
        raise DepositaryFormatError(f"“{match[1]}” is not a real date.") from error
    suffix = match[2]
    if column == "deposit":
        if suffix not in DEPOSIT_SUFFIXES:
            raise DepositaryFormatError(
                f"“{suffix}” after a deposit's date is none of the depositary's: "
                "nothing (ratification), a (accession), A (acceptance), AA (approval)."
            )
        return DepositaryAction(day, DEPOSIT_SUFFIXES[suffix])
    if column == "provisional_application":
        if suffix != "n":
            raise DepositaryFormatError("A provisional application's date ends in “n”.")
        return DepositaryAction(day, PROVISIONAL_APPLICATION)
    if column == "signature":
        if suffix:
            raise DepositaryFormatError(f"A signature's date carries no “{suffix}”.")
        return DepositaryAction(day, "signature")
    raise ValueError(f"unknown column {column!r}")


# A state's standing on a day, derived from its dated actions (never stored).
STATE_PARTY = "state_party"
SIGNATORY = "signatory"
NEITHER = "neither"
SIGNATURE = "signature"
WITHDRAWAL = "withdrawal"
CONSENTS = frozenset(DEPOSIT_SUFFIXES.values())  # instruments by which a state joins


@dataclass(frozen=True)
class Standing:
    status: str  # STATE_PARTY, SIGNATORY or NEITHER
    since: datetime.date | None  # the day it became so (None: never anything)
    # What its actions by that day have already set in motion: the day it becomes a State
    # Party, or the day its withdrawal takes effect; None if nothing is pending.
    pending: datetime.date | None = None


def standing_on(actions, day):
    """A state's standing on `day`, from its actions (DepositaryAction: signature, a deposit
    of ratification, acceptance, approval or accession, withdrawal), each dated as the
    depositary records it. Actions after `day` are not known on `day`. A deposit makes it a
    State Party on its entry into force (Art. 17); a withdrawal ends that six months after
    the depositary receives it (Art. 20); a later deposit starts again."""
    signed = party_from = leaves_on = left_on = None
    for action in sorted(actions, key=lambda a: a.date):
        if action.date > day:
            break
        if action.kind == SIGNATURE:
            signed = signed or action.date
        elif action.kind in CONSENTS:
            if leaves_on is not None and leaves_on <= action.date:
                left_on = leaves_on  # it had left; it joins again
            party_from, leaves_on = entry_into_force(action.date), None
        elif action.kind == WITHDRAWAL:
            # Its signature was spent on joining: once out, it is no signatory.
            leaves_on = withdrawal_takes_effect(action.date, action.armed_conflict_ends)
            signed = None
    if leaves_on is not None and leaves_on <= day:
        return Standing(NEITHER, leaves_on)
    if party_from is not None and party_from <= day:
        return Standing(STATE_PARTY, party_from, pending=leaves_on)
    if signed is not None:
        return Standing(SIGNATORY, signed, pending=party_from)
    return Standing(NEITHER, left_on, pending=party_from)
