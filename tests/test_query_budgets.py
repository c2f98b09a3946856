"""Every public page costs the same number of queries whatever the size of the data."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from commitments.models import Article, Commitment, Kind, Statement, Status
from commitments.records import record_follow_up

from .factories import CommitmentFactory, StatementFactory, ThemeFactory

pytestmark = pytest.mark.django_db

D = datetime.date

# (url, budget). A budget is the page's count today: a new query must be a decision.
# The list and the timeline are paginated: one COUNT each, whatever the size.
# Pages that read stored copies first ask whether a write marked anything outdated (1 query).
PAGES = [
    ("/", 12),
    ("/fr/?theme=theme-a&status=in_progress&article=6&q=Commitment", 14),
    ("/?as_of=2014-01-01", 12),
    ("/es/?as_of=2014-01-01&statement=statement-a", 14),
    ("/commitments/REF-0001/", 5),
    ("/fr/commitments/REF-0001/?as_of=2014-01-01", 5),
    ("/statements/statement-a/", 3),
    ("/feed/", 1),
    ("/commitments/REF-0001/feed/", 2),
    ("/data/commitments.csv", 3),
    ("/data/commitments.json?theme=theme-a&as_of=2014-01-01", 4),
    ("/data/follow-ups.csv", 2),
    ("/data/follow-ups.json?q=Commitment&article=6", 3),
]


def grow(count):
    """Add `count` published commitments, each with articles and three follow-ups."""
    user = get_user_model().objects.get_or_create(username="author")[0]
    statement = Statement.objects.filter(slug="statement-a").first() or StatementFactory(
        slug="statement-a"
    )
    themes = [ThemeFactory(slug="theme-a"), ThemeFactory(slug="theme-b")]
    articles = [
        Article.objects.get_or_create(number=n, defaults={"title": "x"})[0] for n in (6, 21)
    ]
    start = Commitment.objects.count()
    for index in range(start, start + count):
        commitment = CommitmentFactory(
            reference=f"REF-{index + 1:04d}",
            statement=statement if index % 2 else StatementFactory(),
            theme=themes[index % 2],
            kind=Kind.ONE_OFF,
        )
        commitment.articles.set(articles)
        for offset, status in enumerate([Status.NOT_STARTED, Status.IN_PROGRESS, Status.ACHIEVED]):
            record_follow_up(
                commitment,
                status=status,
                by=user,
                happened_on=D(2013 + offset, 1 + index % 12, 1),
                public_note=f"Note {index}",
                internal_note="staff only",
            )
        CommitmentFactory(published=False, theme=themes[0])


@pytest.mark.parametrize(("url", "budget"), PAGES)
def test_public_page_query_count_is_flat_as_data_grows(
    client, django_assert_max_num_queries, url, budget
):
    for size in (4, 40):
        grow(size)
        with django_assert_max_num_queries(budget):
            response = client.get(url)
        assert response.status_code == 200, (url, size)


def test_htmx_list_fragment_query_count_is_flat(client, django_assert_max_num_queries):
    for size in (4, 40):
        grow(size)
        with django_assert_max_num_queries(5):
            response = client.get("/?theme=theme-a&q=Commitment", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
