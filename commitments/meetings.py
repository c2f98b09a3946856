"""Formal meetings of the Convention on Cluster Munitions, offered as "as at" dates.

DATA, kept here and nowhere else. Only meetings whose dates were checked against the
Convention's own meeting records are listed; add later ones the same way once checked.
The tracker is shown as it stood at the close of a meeting (its last day).
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Meeting:
    code: str  # the Convention's own abbreviation, e.g. 3MSP
    name: str
    place: str
    start: datetime.date
    end: datetime.date


MEETINGS = [
    Meeting(
        "2MSP",
        _("Second Meeting of States Parties"),
        _("Beirut"),
        datetime.date(2011, 9, 12),
        datetime.date(2011, 9, 16),
    ),
    Meeting(
        "3MSP",
        _("Third Meeting of States Parties"),
        "Oslo",
        datetime.date(2012, 9, 11),
        datetime.date(2012, 9, 14),
    ),
    Meeting(
        "4MSP",
        _("Fourth Meeting of States Parties"),
        "Lusaka",
        datetime.date(2013, 9, 9),
        datetime.date(2013, 9, 13),
    ),
    Meeting(
        "5MSP",
        _("Fifth Meeting of States Parties"),
        "San José",
        datetime.date(2014, 9, 2),
        datetime.date(2014, 9, 5),
    ),
    Meeting(
        "1RC",
        _("First Review Conference"),
        "Dubrovnik",
        datetime.date(2015, 9, 7),
        datetime.date(2015, 9, 11),
    ),
    Meeting(
        "6MSP",
        _("Sixth Meeting of States Parties"),
        _("Geneva"),
        datetime.date(2016, 9, 5),
        datetime.date(2016, 9, 7),
    ),
    Meeting(
        "7MSP",
        _("Seventh Meeting of States Parties"),
        _("Geneva"),
        datetime.date(2017, 9, 4),
        datetime.date(2017, 9, 6),
    ),
    Meeting(
        "8MSP",
        _("Eighth Meeting of States Parties"),
        _("Geneva"),
        datetime.date(2018, 9, 3),
        datetime.date(2018, 9, 5),
    ),
    Meeting(
        "9MSP",
        _("Ninth Meeting of States Parties"),
        _("Geneva"),
        datetime.date(2019, 9, 2),
        datetime.date(2019, 9, 4),
    ),
]


def meetings_between(first, last):
    """The meetings that closed on or after `first` and on or before `last`."""
    if first is None:
        return []
    return [meeting for meeting in MEETINGS if first <= meeting.end <= last]
