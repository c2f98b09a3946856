"""Statements and delegations (the list of statements, each statement's own figures, the
dashboard's delegation column, filter and breakdown) and "Cite this page" on every public
page."""

import datetime
import html
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import formats, timezone

from commitments.forms import public_commitments
from commitments.models import NOW, Commitment, Statement, Status, Viewpoint
from commitments.records import record_follow_up

from .factories import CommitmentFactory, DelegationFactory, StatementFactory

pytestmark = pytest.mark.django_db

D = datetime.date
NORWAY = "/statements/norway-2012-04-16-universalisation/"


def author():
    return get_user_model().objects.get_or_create(username="author")[0]


def record(reference, status, on, **kwargs):
    return record_follow_up(
        Commitment.objects.get(reference=reference), status=status, happened_on=on, by=author()
    )


def listed(page):
    return re.findall(r'<tr id="row-([A-Za-z0-9-]+)"', page)


def cards(page):
    """{statement slug: its number of commitments} as the statements list shows them."""
    return {
        slug: int(count)
        for slug, count in re.findall(
            r'<li class="statement-card" id="statement-([\w-]+)">.*?'
            r'<dd class="commitment-count">(\d+)</dd>',
            page,
            re.S,
        )
    }


def cite_url(page):
    """The permanent link the "Cite this page" block offers."""
    block = page[page.index('id="cite"') :]
    return html.unescape(re.search(r'<a href="([^"]+)" rel="bookmark" class="cite-url"', block)[1])


def citation(page):
    return html.unescape(re.search(r'<textarea id="citation"[^>]*>(.*?)</textarea>', page, re.S)[1])


def local(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def two_delegations(seeded):
    """Norway's seeded statement, and another delegation's later statement with two
    published commitments and an unpublished one."""
    other = StatementFactory(
        slug="ruritania-2014",
        delegation=DelegationFactory(name="Ruritania", code="RUR"),
        date=D(2014, 3, 1),
    )
    CommitmentFactory(statement=other, reference="RUR-2014-01")
    CommitmentFactory(statement=other, reference="RUR-2014-02")
    CommitmentFactory(statement=other, reference="RUR-2014-03", published=False)
    record("RUR-2014-01", Status.IN_PROGRESS, D(2014, 6, 1))
    return other


# The statements list


def test_statements_list_shows_each_statement_with_its_published_commitments(
    client, two_delegations
):
    hidden = StatementFactory(
        slug="draft-only", delegation=DelegationFactory(name="Nowhereland", code="NWL")
    )
    CommitmentFactory(statement=hidden, reference="NWL-1", published=False)
    CommitmentFactory(
        statement=Statement.objects.get(slug=NORWAY.split("/")[2]),
        reference="NOR-HIDDEN",
        published=False,
    )

    page = client.get("/statements/").content.decode()

    assert cards(page) == {"ruritania-2014": 2, "norway-2012-04-16-universalisation": 10}
    assert "Nowhereland" not in page  # its only commitment is not published
    assert "NOR-HIDDEN" not in page
    assert page.index("Ruritania") < page.index("Norway")  # newest first
    norway = page[page.index('id="statement-norway-') :]
    for fact in ["Norway", "intersessional meetings", "Geneva", "16 April 2012", "English"]:
        assert fact in norway.split("</li>")[0]


def test_statements_list_figures_are_those_of_summaries_by_statement(client, two_delegations):
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1))
    response = client.get("/statements/")
    _overall, expected = public_commitments(NOW).summaries(by="statement_id")
    shown = {statement.pk: summary for statement, summary, _lang in response.context["statements"]}
    assert shown == expected
    # Its one follow-up (2014) is older than the confirmation window today.
    assert shown[two_delegations.pk].verdict_counts == {"not_confirmed": 1, "not_assessed": 1}


def test_statements_list_as_at_a_date_leaves_out_later_statements_and_follow_ups(
    client, two_delegations
):
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1))
    before = client.get("/statements/?as_of=2013-01-01")
    assert cards(before.content.decode()) == {"norway-2012-04-16-universalisation": 10}
    ((_statement, summary, _lang),) = before.context["statements"]
    assert summary.assessed == 0
    page = client.get("/statements/?as_of=2013-06-01").content.decode()
    assert "Figures as at 1 June 2013" in page
    # Links to a statement keep the date shown.
    assert f'href="{NORWAY}?as_of=2013-06-01"' in page


def test_statements_list_as_known_on_a_day_leaves_out_what_was_entered_later(
    client, two_delegations
):
    with connection.cursor() as cursor:  # Norway's commitments were entered long ago
        cursor.execute(
            "UPDATE commitments_commitment SET created_at = %s WHERE reference LIKE 'NOR-%%'",
            [D(2012, 5, 1)],
        )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page = client.get(f"/statements/?known_on={yesterday}").content.decode()
    assert cards(page) == {"norway-2012-04-16-universalisation": 10}


def test_statements_list_comes_a_page_at_a_time(client, db, settings):
    from commitments import views

    settings.PAGE_CACHE_SECONDS = 0
    views.STATEMENTS_PER_PAGE, saved = 2, views.STATEMENTS_PER_PAGE
    try:
        for n in range(3):
            CommitmentFactory(statement=StatementFactory(date=D(2012, 1, 1 + n)))
        first = client.get("/statements/").content.decode()
        second = client.get("/statements/?page=2").content.decode()
    finally:
        views.STATEMENTS_PER_PAGE = saved
    assert len(cards(first)) == 2
    assert len(cards(second)) == 1
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first


def test_statements_list_is_linked_from_the_header_and_the_dashboard(client, seeded):
    dashboard = client.get("/").content.decode()
    header = dashboard[dashboard.index('<header class="site-header">') :]
    assert '<a href="/statements/">Statements</a>' in header.split("</header>")[0]
    assert 'href="/statements/">All statements' in dashboard
    assert 'href="/statements/?as_of=2013-01-01">All statements' in (
        client.get("/?as_of=2013-01-01").content.decode()
    )
    listing = client.get("/statements/").content.decode()
    assert '<a href="/statements/" aria-current="page">Statements</a>' in listing
    assert f'<a href="{NORWAY}">Norwegian statement on universalisation</a>' in listing
    assert client.get("/fr/statements/").status_code == 200


# A statement's own page


def test_statement_page_shows_its_own_figures_above_the_text(client, two_delegations):
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1))
    response = client.get(NORWAY)
    page = response.content.decode()
    assert page.index('id="progress-heading"') < page.index('class="statement-text"')
    _overall, by_statement = public_commitments(NOW).summaries(by="statement_id")
    norway = Statement.objects.get(delegation__code="NOR")
    assert response.context["summary"] == by_statement[norway.pk]
    assert response.context["summary"].total == 10  # not Ruritania's


def test_statement_page_as_at_a_date_shows_its_figures_then(client, two_delegations):
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1))
    record("NOR-2012-10", Status.ACHIEVED, D(2013, 9, 9))
    response = client.get(f"{NORWAY}?as_of=2013-06-01")
    point = Viewpoint(D(2013, 6, 1))
    _overall, by_statement = public_commitments(point).summaries(by="statement_id")
    norway = Statement.objects.get(delegation__code="NOR")
    assert response.context["summary"] == by_statement[norway.pk]
    assert response.context["summary"].verdict_counts == {"on_track": 1, "not_assessed": 9}
    page = response.content.decode()
    assert "This is the past." in page
    assert "Figures as at 1 June 2013" in page
    assert 'href="/commitments/NOR-2012-09/?as_of=2013-06-01"' in page


def test_statement_page_before_the_statement_says_it_was_not_made_yet(client, two_delegations):
    page = client.get("/statements/ruritania-2014/?as_of=2013-01-01")
    assert page.context["summary"].total == 0
    assert "this statement had not been made yet" in page.content.decode()


def test_statement_page_refuses_a_future_date_with_a_message(client, seeded):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.get(f"{NORWAY}?as_of={tomorrow}")
    assert response.status_code == 200
    assert "This date is in the future." in response.content.decode()


# The dashboard: delegation column, filter and breakdown


def test_dashboard_list_names_each_commitments_delegation(client, two_delegations):
    page = client.get("/").content.decode()
    assert '<th scope="col">Delegation</th>' in page
    row = re.search(r'<tr id="row-RUR-2014-01">.*?</tr>', page, re.S)[0]
    assert "<td>Ruritania</td>" in row


def test_delegation_filter_offers_only_delegations_with_published_commitments(
    client, two_delegations
):
    CommitmentFactory(
        statement=StatementFactory(delegation=DelegationFactory(name="Nowhereland", code="NWL")),
        reference="NWL-1",
        published=False,
    )
    page = client.get("/").content.decode()
    select = re.search(r'<select name="delegation".*?</select>', page, re.S)[0]
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "NOR", "RUR"]


def test_delegation_filter_narrows_the_list_and_the_exports(client, two_delegations):
    page = client.get("/?delegation=Ruritania").content.decode()
    assert listed(page) == ["RUR-2014-01", "RUR-2014-02"]
    assert 'href="/data/commitments.csv?delegation=Ruritania"' in page
    csv = b"".join(client.get("/data/commitments.csv?delegation=Ruritania").streaming_content)
    assert b"RUR-2014-01" in csv
    assert b"NOR-2012-01" not in csv
    assert b"RUR-2014-03" not in csv  # unpublished
    follow_ups = client.get("/data/follow-ups.json?delegation=Norway").json()
    assert not [f for f in follow_ups["follow_ups"] if f["commitment"].startswith("RUR")]
    data = client.get("/data/commitments.json?delegation=Ruritania").json()
    assert data["filters"] == {"delegation": "Ruritania"}


def test_an_unknown_delegation_is_explained_and_the_other_filters_still_apply(
    client, two_delegations
):
    page = client.get("/?delegation=Atlantis&theme=promotion").content.decode()
    assert "Select a valid choice." in page
    assert listed(page) == ["NOR-2012-09", "NOR-2012-10"]


def test_breakdown_by_delegation_shows_each_delegations_own_figures(client, two_delegations):
    response = client.get("/?as_of=2015-01-01")
    breakdown = response.context["delegations"]
    _overall, expected = public_commitments(Viewpoint(D(2015, 1, 1))).summaries(
        by="statement__delegation__code"
    )
    # Each name in the page's language, by name; the key is the delegation's code.
    assert [(str(name), summary) for name, summary, _url in breakdown] == [
        ("Norway", expected["NOR"]),
        ("Ruritania", expected["RUR"]),
    ]
    assert [url for _name, _summary, url in breakdown] == [
        "?as_of=2015-01-01&delegation=NOR",
        "?as_of=2015-01-01&delegation=RUR",
    ]
    page = response.content.decode()
    assert 'id="delegations-heading"' in page
    assert 'href="?as_of=2015-01-01&amp;delegation=RUR#overall-heading"' in page


def test_breakdown_follows_the_filters_and_htmx(client, two_delegations):
    fragment = client.get("/", {"theme": "promotion"}, HTTP_HX_REQUEST="true").content.decode()
    assert "delegations-heading" not in fragment  # the promotion theme is Norway's alone
    fragment = client.get("/", {"q": "Commitment"}, HTTP_HX_REQUEST="true")
    assert "delegations-heading" not in fragment.content.decode()  # Ruritania's alone
    fragment = client.get("/", {"status": "not_assessed"}, HTTP_HX_REQUEST="true")
    assert 'id="delegations-heading"' in fragment.content.decode()  # both have some


def test_no_breakdown_with_one_delegation(client, seeded):
    response = client.get("/")
    assert response.context["delegations"] is None
    assert "delegations-heading" not in response.content.decode()


def test_no_breakdown_once_a_delegation_is_chosen(client, two_delegations):
    assert "delegations-heading" in client.get("/").content.decode()
    response = client.get("/?delegation=Norway")
    assert response.context["delegations"] is None
    assert "delegations-heading" not in response.content.decode()


def test_no_breakdown_when_the_other_delegation_had_not_spoken_yet(client, two_delegations):
    assert client.get("/?as_of=2013-01-01").context["delegations"] is None


# Cite this page

TODAY = "today"  # stands for timezone.localdate() in the cases below
MOMENT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(&|$)"


@pytest.mark.parametrize(
    ("url", "as_at", "known_on"),
    [
        ("/", TODAY, TODAY),
        ("/?theme=norm&as_of=2013-04-16", "2013-04-16", TODAY),
        ("/?as_of=2013-04-16&known_on=2014-01-02", "2013-04-16", "2014-01-02"),
        ("/commitments/NOR-2012-03/", TODAY, TODAY),
        ("/commitments/NOR-2012-03/?as_of=2013-04-16", "2013-04-16", TODAY),
        ("/fr/commitments/NOR-2012-03/?known_on=2014-01-02", TODAY, "2014-01-02"),
        (NORWAY, TODAY, TODAY),
        (f"{NORWAY}?as_of=2013-04-16&known_on=2014-01-02", "2013-04-16", "2014-01-02"),
        ("/statements/", TODAY, TODAY),
        ("/es/statements/?as_of=2013-04-16", "2013-04-16", TODAY),
    ],
)
def test_every_public_page_offers_a_permalink_that_fixes_both_dates(
    client, seeded, url, as_at, known_on
):
    today = timezone.localdate().isoformat()
    as_at = today if as_at == TODAY else as_at
    # Seen today, "as recorded" is fixed to the second (UTC); a date given stays a day.
    known_on = MOMENT if known_on == TODAY else re.escape(known_on) + "(&|$)"
    page = client.get(url).content.decode()
    assert 'id="cite-heading"' in page
    link = cite_url(page)
    path = url.split("?")[0]
    assert link.startswith(f"http://testserver{path}?")
    assert f"as_of={as_at}" in link
    assert re.search(f"known_on={known_on}", link)
    if "theme=norm" in url:
        assert "theme=norm" in link  # the list's filters are part of what is cited
    assert link in citation(page)
    assert '<label for="citation">' in page


def test_a_commitment_citation_names_delegation_title_reference_and_the_three_dates(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-03")
    today = timezone.localdate()
    page = client.get("/commitments/NOR-2012-03/?as_of=2013-04-16").content.decode()
    day = formats.date_format(today)
    expected = (
        f"Norway, “{commitment.title}” (NOR-2012-03), Convention on Cluster Munitions "
        f"commitments tracker, as at 16 April 2013, as recorded on {day}. Retrieved {day} from "
        "http://testserver/commitments/NOR-2012-03/?as_of=2013-04-16&known_on="
    )
    assert re.fullmatch(re.escape(expected) + MOMENT.replace("(&|$)", r"\."), citation(page))


def test_statement_and_list_citations_name_what_they_cite(client, seeded):
    assert citation(client.get(NORWAY).content.decode()).startswith(
        "Norway, “Norwegian statement on universalisation”, Convention on Cluster Munitions"
    )
    assert citation(client.get("/statements/").content.decode()).startswith("“Statements”, ")
    assert citation(client.get("/").content.decode()).startswith("“Progress on the commitments”")
    assert citation(client.get("/?delegation=Norway").content.decode()).startswith(
        "Norway, “Progress on the commitments”"
    )


def test_the_citation_is_selectable_without_javascript(client, seeded):
    page = client.get("/commitments/NOR-2012-01/").content.decode()
    assert re.search(r'<textarea id="citation" class="citation" rows="5" readonly', page)
    assert "<script" not in page


def test_htmx_filters_move_the_citation_out_of_band(client, seeded):
    fragment = client.get("/", {"theme": "norm"}, HTTP_HX_REQUEST="true").content.decode()
    assert '<section id="cite" class="cite" aria-labelledby="cite-heading" data-hx-swap-oob' in (
        fragment
    )
    assert "theme=norm" in cite_url(fragment)


def recorded_later(follow_up, later):
    """As if the follow-up had been entered `later` than now, after the citation was taken (a
    write around the app: the triggers mark it, and the next read re-derives)."""
    moment = timezone.now() + later
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_followup SET recorded_at = %s WHERE id = %s", [moment, follow_up.pk]
        )


def figures(response):
    """What a page says, in the figures a reader would cite."""
    context = response.context
    if "commitment" in context:
        commitment = context["commitment"]
        return (commitment.status, commitment.progress, [f.pk for f in context["follow_ups"]])
    if "statements" in context:
        return [(s.pk, summary) for s, summary, _lang in context["statements"]]
    if "themes" in context:
        return (
            context["summary"],
            [(theme.pk, summary) for theme, summary in context["themes"]],
            [(c.reference, c.status, c.progress) for c in context["commitments"]],
            [(name, summary) for name, summary, _url in context["delegations"] or []],
        )
    return context["summary"]


def test_the_dashboards_permalink_answers_with_the_page_cache_on(client, seeded):
    """The permalink fixes "as recorded" to the second: its figures are cached under a key
    that a cache accepts (a datetime's str has a space, which a cache refuses)."""
    permalink = local(cite_url(client.get("/").content.decode()))
    response = client.get(permalink)
    assert response.status_code == 200
    assert cite_url(response.content.decode()) == f"http://testserver{permalink}"


@pytest.mark.parametrize(
    "later",
    [datetime.timedelta(seconds=5), datetime.timedelta(days=1)],
    ids=["later the same day", "the next day"],
)
@pytest.mark.parametrize(
    "url",
    ["/", "/?as_of=2013-06-01", "/commitments/NOR-2012-02/", NORWAY, "/statements/"],
)
def test_the_cited_link_shows_the_same_figures_after_a_back_dated_follow_up(
    client, two_delegations, url, later, settings
):
    """The issue's "Done when": a reader cites a page; later staff back-fill what happened in
    2013. The cited link still shows what the reader saw; the page itself moves."""
    settings.PAGE_CACHE_SECONDS = 0  # the figures as built (the page cache has its own tests)
    record("NOR-2012-09", Status.ON_TRACK, D(2013, 5, 1))
    seen = client.get(url)
    permalink = local(cite_url(seen.content.decode()))

    back_filled = record("NOR-2012-02", Status.OFF_TRACK, D(2013, 3, 1))
    recorded_later(back_filled, later)

    assert figures(client.get(permalink)) == figures(seen)
    assert figures(client.get(url)) != figures(seen)  # without the fixed dates it moves
