"""The universalisation indicator (issue 14): how many States Parties and signatories the
Convention had over time, as the dashboard shows it, and how many states joined after a
universalisation commitment's statement, as its page shows it beside the verdict.

Every figure comes from commitments/reach.py (the one home of treaty status); this module
only chooses the days to count and words nothing. Both read the page's Viewpoint: its as-at
date is the last day counted, its known-on moment what had been recorded.
"""

import datetime
from dataclasses import dataclass

from .charts import reach_chart
from .models import TreatyEvent
from .reach import joined_between, reach_on
from .treaty import OPENED_FOR_SIGNATURE


def reach_days(until):
    """The days the dashboard counts: the Convention's opening for signature (3 December
    2008), the last day of each year since, and the date shown; none before the opening."""
    if until < OPENED_FOR_SIGNATURE:
        return []
    days = [OPENED_FOR_SIGNATURE]
    days += [datetime.date(year, 12, 31) for year in range(OPENED_FOR_SIGNATURE.year, until.year)]
    if until != days[-1]:
        days.append(until)
    return days


@dataclass
class Indicator:
    rows: list  # [reach.Reach], oldest first, the date shown last
    chart: dict | None  # commitments/charts.py reach_chart geometry
    recorded: bool  # whether any treaty event had been recorded (as known from the point)
    before_opening: bool  # the date shown is before the Convention was opened for signature
    opened = OPENED_FOR_SIGNATURE

    @property
    def latest(self):
        return self.rows[-1] if self.rows else None


def indicator(point):
    """The dashboard's indicator as seen from `point`. One query (reach_on's), and one more
    only when every count is zero, to tell "nothing recorded yet" from "none yet by then"."""
    days = reach_days(point.day)
    if not days:
        return Indicator(rows=[], chart=None, recorded=False, before_opening=True)
    rows = reach_on(days, point)
    counted = any(r.states_parties or r.signatories for r in rows)
    recorded = counted or TreatyEvent.objects.known_from(point).exists()
    return Indicator(
        rows=rows,
        chart=reach_chart(rows) if recorded else None,
        recorded=recorded,
        before_opening=False,
    )


def joined_since(commitment, point):
    """How many states deposited an instrument of ratification, acceptance, approval or
    accession after the day of the commitment's statement, up to the date shown (as known
    from `point`). None where the figure is not shown: commitments on other themes than
    universalisation (models.Theme.is_universalisation), and a date shown before the
    statement. One query, or none."""
    made = commitment.statement.date
    if not commitment.theme.is_universalisation or point.day < made:
        return None
    return len(joined_between(made, point.day, point))
