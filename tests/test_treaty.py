"""The Convention's Articles 17 and 20, and the depositary's way of writing an action."""

import csv
import datetime
from pathlib import Path

import pytest

from commitments.treaty import (
    ACCEPTANCE,
    ACCESSION,
    APPROVAL,
    ENTERED_INTO_FORCE,
    NEITHER,
    PROVISIONAL_APPLICATION,
    RATIFICATION,
    SIGNATORY,
    SIGNATURE,
    STATE_PARTY,
    WITHDRAWAL,
    DepositaryAction,
    DepositaryFormatError,
    Standing,
    entry_into_force,
    parse_action,
    standing_on,
    withdrawal_takes_effect,
)

D = datetime.date
EXCERPT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "untc-ccm-participants-excerpt.tsv"
)


@pytest.mark.parametrize(
    ("deposit", "in_force"),
    [
        (D(2011, 3, 24), D(2011, 9, 1)),  # the Article's own example
        (D(2011, 3, 1), D(2011, 9, 1)),  # the first day of the month: the same month counts
        (D(2011, 1, 31), D(2011, 7, 1)),  # the last day of a month: not the next month's
        (D(2012, 2, 29), D(2012, 8, 1)),  # a leap day
        (D(2011, 12, 15), D(2012, 6, 1)),  # December: into the next year
        (D(2011, 12, 31), D(2012, 6, 1)),  # the last day of December
        (D(2011, 7, 31), D(2012, 1, 1)),  # July: the first of January
        (D(2010, 2, 16), D(2010, 8, 1)),  # the thirtieth deposit's month: with the Convention
        (D(2009, 6, 16), ENTERED_INTO_FORCE),  # before: never before the Convention itself
        (D(2010, 3, 1), D(2010, 9, 1)),  # the month after: Art. 17(2)
    ],
)
def test_entry_into_force_is_the_first_day_of_the_sixth_month_after_the_deposit(deposit, in_force):
    assert entry_into_force(deposit) == in_force


@pytest.mark.parametrize(
    ("received", "effect"),
    [
        (D(2024, 3, 15), D(2024, 9, 15)),  # six months after receipt
        (D(2024, 8, 31), D(2025, 2, 28)),  # to a shorter month: its last day
        (D(2023, 8, 31), D(2024, 2, 29)),  # … a leap year's
        (D(2024, 12, 31), D(2025, 6, 30)),  # December's last day
        (D(2024, 12, 1), D(2025, 6, 1)),
    ],
)
def test_a_withdrawal_takes_effect_six_months_after_the_depositary_receives_it(received, effect):
    assert withdrawal_takes_effect(received) == effect


def test_a_withdrawal_does_not_take_effect_before_an_armed_conflict_ends():
    received = D(2024, 3, 15)
    assert withdrawal_takes_effect(received, armed_conflict_ends=D(2025, 1, 10)) == D(2025, 1, 10)
    assert withdrawal_takes_effect(received, armed_conflict_ends=D(2024, 5, 1)) == D(2024, 9, 15)


@pytest.mark.parametrize(
    ("cell", "column", "action"),
    [
        ("8 Sep 2011", "deposit", DepositaryAction(D(2011, 9, 8), RATIFICATION)),
        ("9 Apr 2013 a", "deposit", DepositaryAction(D(2013, 4, 9), ACCESSION)),
        ("1 Feb 2010 A", "deposit", DepositaryAction(D(2010, 2, 1), ACCEPTANCE)),
        ("1 Feb 2010 AA", "deposit", DepositaryAction(D(2010, 2, 1), APPROVAL)),
        ("3 Dec 2008", "signature", DepositaryAction(D(2008, 12, 3), "signature")),
        (
            "4 May 2012 n",
            "provisional_application",
            DepositaryAction(D(2012, 5, 4), PROVISIONAL_APPLICATION),
        ),
        ("", "deposit", None),
    ],
)
def test_the_depositary_s_cells_are_read(cell, column, action):
    assert parse_action(cell, column) == action


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("8 Sep 2011 x", "deposit", "none of the depositary's"),
        ("31 Feb 2011", "deposit", "not a real date"),
        ("2011-09-08", "deposit", "not a date such as"),
        ("4 May 2012", "provisional_application", "ends in “n”"),
        ("3 Dec 2008 a", "signature", "carries no"),
    ],
)
def test_a_cell_the_depositary_would_not_write_is_refused_saying_why(cell, column, message):
    with pytest.raises(DepositaryFormatError, match=message):
        parse_action(cell, column)


def test_every_cell_of_the_depositary_s_excerpt_is_read():
    with EXCERPT.open(encoding="utf-8") as rows:
        table = list(csv.DictReader(rows, delimiter="\t"))
    assert len(table) > 30
    kinds = set()
    for row in table:
        for column in ("signature", "provisional_application", "deposit"):
            if action := parse_action(row[column], column):
                kinds.add(action.kind)
    assert {RATIFICATION, ACCESSION, "signature"} <= kinds


def signed(on):
    return DepositaryAction(on, SIGNATURE)


def deposited(on, kind=RATIFICATION):
    return DepositaryAction(on, kind)


def withdrew(on):
    return DepositaryAction(on, WITHDRAWAL)


def test_a_signatory_that_ratifies_is_a_state_party_from_the_entry_into_force():
    albania = [signed(D(2008, 12, 3)), deposited(D(2009, 6, 16))]
    assert standing_on(albania, D(2008, 12, 2)) == Standing(NEITHER, None)
    assert standing_on(albania, D(2009, 12, 1)) == Standing(
        SIGNATORY, D(2008, 12, 3), pending=ENTERED_INTO_FORCE
    )
    assert standing_on(albania, D(2010, 7, 31)).status == SIGNATORY
    assert standing_on(albania, D(2010, 8, 1)) == Standing(STATE_PARTY, ENTERED_INTO_FORCE)


def test_an_accession_makes_a_state_party_on_the_first_day_of_the_sixth_month():
    andorra = [deposited(D(2013, 4, 9), ACCESSION)]
    assert standing_on(andorra, D(2013, 9, 30)) == Standing(NEITHER, None, pending=D(2013, 10, 1))
    assert standing_on(andorra, D(2013, 10, 1)) == Standing(STATE_PARTY, D(2013, 10, 1))


def test_a_withdrawal_ends_membership_six_months_after_it_is_received_and_can_be_undone():
    state = [signed(D(2008, 12, 3)), deposited(D(2011, 3, 24)), withdrew(D(2024, 9, 6))]
    assert standing_on(state, D(2024, 9, 5)) == Standing(STATE_PARTY, D(2011, 9, 1))
    assert standing_on(state, D(2025, 3, 5)) == Standing(
        STATE_PARTY, D(2011, 9, 1), pending=D(2025, 3, 6)
    )
    assert standing_on(state, D(2025, 3, 6)) == Standing(NEITHER, D(2025, 3, 6))
    rejoined = [*state, deposited(D(2026, 1, 15), ACCESSION)]
    # Out since the withdrawal took effect, in again from the new entry into force.
    assert standing_on(rejoined, D(2026, 6, 30)) == Standing(
        NEITHER, D(2025, 3, 6), pending=D(2026, 7, 1)
    )
    assert standing_on(rejoined, D(2025, 6, 1)) == Standing(NEITHER, D(2025, 3, 6))
    assert standing_on(rejoined, D(2026, 7, 1)) == Standing(STATE_PARTY, D(2026, 7, 1))


def test_an_action_after_the_day_shown_is_not_known_on_it():
    state = [deposited(D(2011, 3, 24)), withdrew(D(2030, 1, 1))]
    assert standing_on(state, D(2029, 12, 31)) == Standing(STATE_PARTY, D(2011, 9, 1))
