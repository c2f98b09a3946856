"""Every page makes the same number of queries with 3 commitments as with 60 (more than a
page of the list) and several times more follow-ups: nothing loops over rows in Python."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.models import Article, Commitment, Kind, Statement, Status, Theme
from commitments.records import record_follow_up

from .conftest import member_of
from .factories import CommitmentFactory, StatementFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/?theme=alpha&status=in_progress",
    "/?q=Commitment",
    "/?article=6",
    "/?as_of=2013-06-30",
    "/?page=2",
    "/fr/",
    "/commitments/TST-0001/",
    "/commitments/TST-0001/?as_of=2013-06-30",
    "/statements/bench/",
    "/feed/",
    "/commitments/TST-0001/feed/",
    "/data/commitments.csv",
    "/data/commitments.json",
    "/data/follow-ups.csv",
    "/data/follow-ups.json?as_of=2013-06-30",
]


def _tracker(commitments, follow_ups_each):
    """A tracker of the given size; calling it again with a larger size adds to it."""
    user = UserFactory(is_staff=True)
    theme = ThemeFactory(name="Alpha", slug="alpha")
    ThemeFactory(name="Beta", slug="beta")
    article, _ = Article.objects.get_or_create(number=6, defaults={"title": "Cooperation"})
    statement = Statement.objects.filter(slug="bench").first() or StatementFactory(slug="bench")
    start = Commitment.objects.count()
    for n in range(start, start + commitments):
        commitment = CommitmentFactory(
            statement=statement,
            theme=theme if n % 2 else Theme.objects.get(slug="beta"),
            reference=f"TST-{n:04d}",
            kind=Kind.ONE_OFF,
        )
        commitment.articles.add(article)
        for day in range(follow_ups_each):
            record_follow_up(
                commitment,
                status=Status.IN_PROGRESS if day % 2 else Status.OFF_TRACK,
                by=user,
                happened_on=datetime.date(2013, 1 + day % 12, 1 + n % 28),
                public_note=f"Step {day}",
            )
    return user


def _count(client, url, headers=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(captured)


def _counts(client, urls, headers=None):
    return {url: _count(client, url, headers) for url in urls}


def test_public_pages_make_as_many_queries_at_both_sizes(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # count what a page costs to build, not to fetch
    _tracker(3, 2)
    # Three commitments have no page 2: count it at the larger size only.
    small = _counts(client, [url for url in PUBLIC_PAGES if "page=" not in url])
    _tracker(57, 4)
    large = _counts(client, [url for url in PUBLIC_PAGES if "page=" not in url])
    assert small == large
    assert _count(client, "/?page=2") == large["/"]


def test_htmx_list_makes_as_many_queries_at_both_sizes(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    urls = ["/", "/?theme=alpha"]
    _tracker(3, 2)
    small = _counts(client, urls, {"HX-Request": "true"})
    _tracker(57, 4)
    assert _counts(client, urls, {"HX-Request": "true"}) == small


def test_staff_page_makes_as_many_queries_at_both_sizes(client):
    _tracker(3, 2)
    client.force_login(member_of("editors"))
    urls = ["/staff/?show=all", "/staff/?show=review", "/staff/?show=stale"]
    small = _counts(client, urls)
    _tracker(57, 4)
    assert _counts(client, urls) == small
