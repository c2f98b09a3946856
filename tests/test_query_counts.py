"""Query budgets: how many queries each page may take, and proof that it does not grow.

One table, BUDGETS: who asks for which URL, and the most queries the answer may take. A
budget is the page's count today, so a new query is a decision: change its line.

Every case is measured on one tracker at two sizes, built once for this module: 3
commitments, then 55 (more than a page of the dashboard and of the staff page) with more
follow-ups on the commitments already there. The two counts must be equal: a page whose
count grows with the data loops over rows in Python (an N+1), which is slow only once the
tracker is full. Pages are counted as built (the page cache is empty for each request).
"""

import datetime
import difflib
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from commitments.models import (
    UNIVERSALISATION,
    Article,
    Commitment,
    Kind,
    Meeting,
    ReplyOutcome,
    ReplySubmission,
    State,
    Statement,
    Status,
)
from commitments.records import changed, propose_follow_up, record_follow_up, send_back
from commitments.replies import decide

from .conftest import member_of
from .factories import (
    CommitmentFactory,
    MeetingFactory,
    StatementFactory,
    ThemeFactory,
    TreatyEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
ANONYMOUS, VIEWER, EDITOR = "anonymous", "viewer", "editor"
ADMINISTRATOR, SUPERUSER = "administrator", "superuser"


@dataclass(frozen=True)
class Case:
    role: str
    url: str
    budget: int
    htmx: str = ""  # the element an htmx request replaces: "results" (a page), "selection"
    shows: bytes = b"REF-"  # what the answer must contain: a count on an empty page proves little

    def __str__(self):
        return f"{self.role}{f' (htmx {self.htmx})' if self.htmx else ''} {self.url}"


# (who, URL, most queries): one line per case. Every page that reads a stored copy derived
# from the follow-ups first asks whether a write marked anything outdated (one query).
BUDGETS = [
    # Dashboard: the list and its count, the summary (overall and per theme in one query),
    # the figures by delegation (one query), themes, chart history, first statement date,
    # the meetings of the "as at" menu and the four filter menus. A filter may cost a query
    # or two more, never one per row; a chosen delegation skips the breakdown.
    # The universalisation indicator (States Parties and signatories over time): one query
    # for every state's treaty events, not in the htmx answers.
    Case(ANONYMOUS, "/", 15),
    Case(ANONYMOUS, "/?page=2", 15),
    Case(ANONYMOUS, "/?theme=theme-a&status=not_confirmed", 17),
    Case(ANONYMOUS, "/?q=Commitment", 16),
    Case(ANONYMOUS, "/?article=6", 17),
    Case(ANONYMOUS, "/?as_of=2014-01-01", 15),
    Case(ANONYMOUS, "/?as_of=2013-06-30", 15),
    Case(ANONYMOUS, "/fr/", 15),
    Case(ANONYMOUS, "/fr/?theme=theme-a&status=not_confirmed&article=6&q=Commitment", 18),
    Case(ANONYMOUS, "/es/?as_of=2014-01-01&statement=statement-a", 17),
    Case(ANONYMOUS, "/?delegation=Testland", 16),
    # htmx: a page of the list; a filter (figures, chart and list of the selection).
    Case(ANONYMOUS, "/?page=2", 3, htmx="results"),
    Case(ANONYMOUS, "/", 9, htmx="selection"),
    Case(ANONYMOUS, "/?theme=theme-a", 11, htmx="selection"),
    Case(ANONYMOUS, "/?theme=theme-a&q=Commitment", 11, htmx="selection"),
    Case(ANONYMOUS, "/?delegation=Testland", 10, htmx="selection"),
    # Commitment and statement pages (a statement's figures: one query; the meetings of the
    # "as at" menu: one query; the states each follow-up of the page concerns: one query; a
    # commitment's published replies, with their decisions: one query). A
    # universalisation commitment's page counts the states that joined since its statement:
    # one query more.
    Case(ANONYMOUS, "/commitments/REF-0001/", 8),
    Case(ANONYMOUS, "/commitments/REF-0002/", 9, shows=b"joined-since"),
    Case(ANONYMOUS, "/commitments/REF-0001/?as_of=2013-06-30", 8),
    Case(ANONYMOUS, "/fr/commitments/REF-0001/?as_of=2014-01-01", 8),
    Case(ANONYMOUS, "/statements/statement-a/", 5),
    Case(ANONYMOUS, "/statements/statement-a/?as_of=2014-01-01", 5),
    # The statements list: one query for the figures of every statement, then the page of
    # statements and its count, however many statements there are.
    Case(ANONYMOUS, "/statements/", 4, shows=b'href="/statements/statement-a/"'),
    Case(ANONYMOUS, "/fr/statements/?as_of=2014-01-01", 4, shows=b"/fr/statements/statement-a/"),
    # Feeds and open data (the states the follow-ups concern: one query; the feeds' published
    # replies: one query).
    Case(ANONYMOUS, "/feed/", 3),
    Case(ANONYMOUS, "/commitments/REF-0001/feed/", 4),
    Case(ANONYMOUS, "/fr/feed/", 3),
    Case(ANONYMOUS, "/es/commitments/REF-0001/feed/", 4),
    Case(ANONYMOUS, "/data/commitments.csv", 3),
    Case(ANONYMOUS, "/data/commitments.json", 3),
    Case(ANONYMOUS, "/data/commitments.json?theme=theme-a&as_of=2014-01-01", 4),
    Case(ANONYMOUS, "/data/commitments.csv?delegation=Testland", 4),
    Case(ANONYMOUS, "/data/follow-ups.csv", 3),
    Case(ANONYMOUS, "/data/follow-ups.json?as_of=2013-06-30", 3),
    Case(ANONYMOUS, "/data/follow-ups.json?q=Commitment&article=6", 4),
    # Issue 15: published replies, with the dashboard's filters.
    Case(ANONYMOUS, "/data/replies.csv", 2),
    Case(ANONYMOUS, "/data/replies.json?theme=theme-a&q=Commitment", 3),
    # Staff: a signed-in request adds its session, user and permission lookups, and on the
    # staff side the staff member's chosen language (issue 13: StaffLanguageMiddleware);
    # public pages, whoever asks, never read it. The follow-up forms share one list of
    # states (one query), which a viewer, who has no form, does without. Issue 15: how many
    # follow-ups wait for a second review, the reader's own, and each row's waiting ones; for
    # those who moderate replies, how many replies wait (one query).
    Case(SUPERUSER, "/staff/", 15),
    Case(SUPERUSER, "/staff/?show=all", 15),
    Case(EDITOR, "/staff/?show=all", 17),
    Case(EDITOR, "/staff/?show=review", 17),
    Case(EDITOR, "/staff/?show=stale", 17),
    Case(VIEWER, "/staff/?show=all&theme=theme-a", 16),
    # Issue 15: the second review's queue (the proposals, their states, the latest decisions).
    Case(EDITOR, "/staff/review/", 10, shows=b"Proposed by"),
    # Issue 15: the moderation queue (a page of waiting replies with their commitments, its
    # count, the latest decisions).
    Case(EDITOR, "/staff/replies/", 8),
    # The meeting report: the meetings, each state's actions three times (the two days'
    # standings and the headline counts) and the states' ids twice, the changed states and
    # their sources, the figures at each date (one query each, by theme, delegation and
    # commitment at once), the changed commitments, the follow-ups, themes, delegations;
    # the statements made at the meeting with their published commitments (one).
    Case(ANONYMOUS, "/reports/4MSP/", 16),
    Case(ANONYMOUS, "/fr/reports/4MSP/", 16),
    Case(ANONYMOUS, "/reports/3MSP/", 16, shows=b'href="/statements/statement-'),
    Case(ANONYMOUS, "/reports/", 1, shows=b"/reports/4MSP/"),
    Case(EDITOR, "/", 17),
    Case(ADMINISTRATOR, "/admin/commitments/commitment/", 10),
    Case(ADMINISTRATOR, "/admin/commitments/followup/", 11),
]


def grow(new, follow_ups_each, more_on_existing):
    """Add `new` published commitments (and some unpublished ones) with their follow-ups, and
    `more_on_existing` follow-ups to each commitment already there."""
    author = get_user_model().objects.get(username="owner")
    reviewer = get_user_model().objects.exclude(pk=author.pk).filter(is_staff=True).first()
    statement = Statement.objects.filter(slug="statement-a").first() or StatementFactory(
        slug="statement-a"
    )
    themes = [ThemeFactory(slug="theme-a"), ThemeFactory(slug=UNIVERSALISATION)]
    articles = [
        Article.objects.get_or_create(number=n, defaults={"title": f"Article {n}"})[0]
        for n in (6, 21)
    ]
    for commitment in Commitment.objects.all():
        for step in range(more_on_existing):
            record_follow_up(
                commitment,
                status=Status.OFF_TRACK if step % 2 else Status.IN_PROGRESS,
                by=author,
                happened_on=D(2015, 1 + step, 1),
                public_note=f"Later step {step}",
            )
            add_replies(commitment, author)
    start = Commitment.objects.count()
    for index in range(start, start + new):
        commitment = CommitmentFactory(
            reference=f"REF-{index + 1:04d}",
            # Every other one from a statement of its own, made at 3MSP (its report lists them).
            statement=statement
            if index % 2 == 0
            else StatementFactory(
                date=D(2012, 9, 12), convention_meeting=Meeting.objects.get(code="3MSP")
            ),
            theme=themes[index % 2],
            kind=Kind.ONE_OFF,
            owner=author if index % 3 else None,
            next_review=D(2020, 1, 1) if index % 2 else None,
        )
        commitment.articles.set(articles)
        for step in range(follow_ups_each):
            record_follow_up(
                commitment,
                status=Status.IN_PROGRESS if step % 2 else Status.NOT_STARTED,
                by=author,
                happened_on=D(2013 + step, 1 + index % 12, 1 + index % 28),
                public_note=f"Commitment {index}, step {step}",
                internal_note="staff only",
                evidence_url="https://example.org/evidence" if step else "",
                evidence_label="Evidence" if step else "",
            )
        add_replies(commitment, author)
        if index % 4 == 0:
            CommitmentFactory(reference=f"HID-{index + 1:04d}", published=False, theme=themes[0])
        # Follow-ups waiting for a second review, and one in two sent back.
        proposal = propose_follow_up(
            commitment, status=Status.ACHIEVED, by=author, states=[State.objects.get(country="NO")]
        )
        if index % 2:
            send_back(proposal, by=reviewer, note="Check the date")
        # A state's signature and deposit for each commitment: the states' treaty status (the
        # dashboard's indicator, a universalisation commitment's context) grows with them.
        state = State.objects.order_by("pk")[index]
        TreatyEventFactory(state=state, kind="signature", date=D(2008, 12, 3))
        TreatyEventFactory(state=state, kind="ratification", date=D(2012 + index % 3, 5, 1))
    # Recorded long ago (history refuses an ORM update): the "not checked" queue has rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_followup SET recorded_at = %s WHERE public_note LIKE %s",
            [timezone.now() - datetime.timedelta(days=400), "Commitment %"],
        )
    changed()


def add_replies(commitment, moderator):
    """Replies from the public on a commitment: one published (verified), one waiting."""
    for outcome in (ReplyOutcome.PUBLISHED, None):
        submission = ReplySubmission.objects.create(
            commitment=commitment,
            name="A sender",
            organisation="An organisation",
            email="sender@example.org",
            text=f"A reply on {commitment.reference}",
            evidence_url="https://example.org/reply",
            language="en",
        )
        if outcome:
            decide(submission, outcome, by=moderator, sender_verified=True)


def users():
    return {
        VIEWER: member_of("viewers"),
        EDITOR: member_of("editors"),
        ADMINISTRATOR: member_of("administrators"),
        # The staff page opens on "mine": the superuser owns commitments.
        SUPERUSER: UserFactory(username="owner", is_staff=True, is_superuser=True),
    }


def fetch(client, case):
    headers = {"HX-Request": "true", "HX-Target": case.htmx} if case.htmx else {}
    response = client.get(case.url, headers=headers)
    assert response.status_code == 200, f"{case}: {response.status_code}"
    # A count taken on an empty list misses the queries that load rows (prefetches).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert case.shows in body, f"{case}: shows no {case.shows.decode()}"
    return response


def queries(clients, case):
    """The SQL of one request, the page cache empty (as when a change has just outdated it)."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        fetch(clients[case.role], case)
    translation.activate(settings.LANGUAGE_CODE)
    return [query["sql"] for query in captured]


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    """Builds the tracker once for the module, measures every case at both sizes, and keeps
    the larger tracker (rolled back afterwards) for the budget tests."""
    local_cache = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with (
        django_db_blocker.unblock(),
        override_settings(CACHES=local_cache, PAGE_CACHE_SECONDS=300),
        transaction.atomic(),
    ):
        people = users()
        clients = {ANONYMOUS: Client()}
        for role, user in people.items():
            clients[role] = Client()
            clients[role].force_login(user)
        MeetingFactory(code="3MSP", start=D(2012, 9, 11), end=D(2012, 9, 14))
        MeetingFactory(code="4MSP", start=D(2013, 9, 9), end=D(2013, 9, 13))
        grow(new=3, follow_ups_each=2, more_on_existing=0)
        small = {case: queries(clients, case) for case in BUDGETS}
        grow(new=52, follow_ups_each=2, more_on_existing=3)
        large = {case: queries(clients, case) for case in BUDGETS}
        yield small, large, people
        transaction.set_rollback(True)


def test_the_tracker_is_larger_than_a_page_at_the_second_size(measured):
    from commitments.views import COMMITMENTS_PER_PAGE, STAFF_ROWS_PER_PAGE

    published = Commitment.objects.filter(published=True)
    assert published.count() > max(COMMITMENTS_PER_PAGE, STAFF_ROWS_PER_PAGE)
    assert published.get(reference="REF-0001").follow_ups.count() == 5


@pytest.mark.parametrize("case", BUDGETS, ids=str)
def test_query_count_does_not_grow_with_the_data(case, measured):
    small, large, _people = measured
    assert len(small[case]) == len(large[case]), (
        f"{case}: {len(small[case])} queries with 3 commitments, {len(large[case])} with 55:\n"
        + "\n".join(difflib.unified_diff(small[case], large[case], lineterm="", n=0))
    )


@pytest.mark.parametrize("case", BUDGETS, ids=str)
def test_query_count_stays_within_budget(case, measured, client, django_assert_max_num_queries):
    _small, _large, people = measured
    if case.role != ANONYMOUS:
        client.force_login(people[case.role])
    with django_assert_max_num_queries(case.budget):
        fetch(client, case)
