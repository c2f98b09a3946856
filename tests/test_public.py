import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from commitments.models import Article, Commitment, Status, Theme
from commitments.records import record_follow_up

from .conftest import CANARY
from .factories import CommitmentFactory

pytestmark = pytest.mark.django_db

D = datetime.date
STATEMENT_URL = "/statements/norway-2012-04-16-universalisation/"


def listed(html):
    return re.findall(r'<tr id="row-([A-Z0-9-]+)"', html)


def author():
    # One plain user: hashing a password per follow-up would make these tests slow.
    return get_user_model().objects.get_or_create(username="author")[0]


def record(reference, status, on, **kwargs):
    commitment = Commitment.objects.get(reference=reference)
    kwargs.setdefault("by", author())
    return record_follow_up(commitment, status=status, happened_on=on, **kwargs)


# Filters and search


def test_filter_by_theme_lists_only_that_theme(client, seeded):
    html = client.get("/", {"theme": "promotion"}).content.decode()
    assert listed(html) == ["NOR-2012-09", "NOR-2012-10"]
    assert "cover the 2 commitments, of 10 published, that match Theme “Promotion" in html


def test_filter_by_status_statement_and_article(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2013, 1, 1))
    # The filter is by verdict on the date shown: in progress in 2013, not confirmed today.
    in_2013 = client.get("/", {"status": "in_progress", "as_of": "2013-06-01"}).content.decode()
    assert listed(in_2013) == ["NOR-2012-07"]
    assert listed(client.get("/", {"status": "not_confirmed"}).content.decode()) == ["NOR-2012-07"]
    record("NOR-2012-07", Status.IN_PROGRESS, timezone.localdate())
    assert listed(client.get("/", {"status": "in_progress"}).content.decode()) == ["NOR-2012-07"]
    by_article = client.get("/", {"article": "8"}).content.decode()
    assert listed(by_article) == ["NOR-2012-03"]
    other = CommitmentFactory(title="Another delegation's pledge")
    by_statement = client.get("/", {"statement": other.statement.slug}).content.decode()
    assert listed(by_statement) == [other.reference]


def test_filters_combine(client, seeded):
    html = client.get("/", {"theme": "norm", "article": "8"}).content.decode()
    assert listed(html) == ["NOR-2012-03"]


def test_search_finds_titles_quotes_and_public_notes(client, seeded):
    assert listed(client.get("/", {"q": "bilateral"}).content.decode()) == ["NOR-2012-09"]
    assert listed(client.get("/", {"q": "stockpiles of cluster"}).content.decode()) == [
        "NOR-2012-06"
    ]
    record("NOR-2012-04", Status.ON_TRACK, D(2013, 1, 1), public_note="Met the Tuvalu desk")
    assert listed(client.get("/", {"q": "tuvalu"}).content.decode()) == ["NOR-2012-04"]


def test_search_never_looks_into_internal_notes(client, seeded):
    record("NOR-2012-04", Status.ON_TRACK, D(2013, 1, 1), internal_note=CANARY)
    html = client.get("/", {"q": CANARY}).content.decode()
    assert listed(html) == []
    assert "No commitment matches these filters." in html


def test_search_in_the_past_ignores_notes_written_later(client, seeded):
    record("NOR-2012-04", Status.ON_TRACK, D(2015, 1, 1), public_note="Met the Tuvalu desk")
    assert listed(client.get("/", {"q": "tuvalu", "as_of": "2014-01-01"}).content.decode()) == []
    assert listed(client.get("/", {"q": "tuvalu", "as_of": "2015-01-01"}).content.decode()) == [
        "NOR-2012-04"
    ]


def test_empty_results_say_so_and_offer_to_clear_filters(client, seeded):
    html = client.get("/", {"q": "no such words anywhere"}).content.decode()
    assert "No commitment matches these filters." in html
    assert 'href="/#overall-heading">Clear the filters to see them all.</a>' in html


def test_clearing_filters_keeps_the_date_shown(client, seeded):
    html = client.get("/", {"q": "nothing like this", "as_of": "2013-01-01"}).content.decode()
    assert 'href="/?as_of=2013-01-01#overall-heading"' in html


def test_invalid_filter_is_explained_and_other_filters_still_apply(client, seeded):
    response = client.get("/", {"theme": "no-such-theme", "article": "8"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in html
    assert listed(html) == ["NOR-2012-03"]


def test_filter_form_works_as_plain_get_and_is_enhanced_by_htmx(client, seeded):
    html = client.get("/").content.decode()
    form = re.search(r'<form method="get" action="/#overall-heading" class="filters"[^>]*>', html)
    assert form, "the filter form submits with GET without JavaScript"
    assert 'hx-get="/"' in form.group(0)
    assert 'hx-push-url="true"' in form.group(0)
    # Figures, chart and list move together: the form replaces all three.
    assert 'hx-target="#selection"' in form.group(0)


def test_htmx_filter_request_gets_the_figures_chart_and_list_only(client, seeded):
    response = client.get(
        "/", {"theme": "promotion"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="selection"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="selection">')
    assert 'class="verdict-bar"' in html
    assert 'id="history-heading"' in html
    assert listed(html) == ["NOR-2012-09", "NOR-2012-10"]
    assert 'id="results-status"' in html
    assert 'data-hx-swap-oob="true"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_filter_pushes_a_clean_shareable_address(client, seeded):
    response = client.get(
        "/fr/",
        {"q": "", "theme": "norm", "status": "", "article": "8", "as_of": "2013-01-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.headers["HX-Push-Url"] == "/fr/?theme=norm&article=8&as_of=2013-01-01"
    assert client.get(response.headers["HX-Push-Url"]).status_code == 200


def test_plain_filter_request_gets_the_whole_page(client, seeded):
    response = client.get("/", {"theme": "promotion"})
    html = response.content.decode()
    assert "<html" in html
    assert listed(html) == ["NOR-2012-09", "NOR-2012-10"]
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, seeded):
    response = client.get(
        "/",
        {"theme": "promotion"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_unpublished_commitments_never_listed_or_counted(client, seeded):
    CommitmentFactory(published=False, title="Secret plan", theme=Theme.objects.first())
    assert "Secret plan" not in client.get("/", {"q": "Secret"}).content.decode()
    html = client.get("/").content.decode()
    assert "across the 0 of 10" in html or "none of the 10 commitments is assessed" in html
    assert listed(html) == [f"NOR-2012-{n:02d}" for n in range(1, 11)]


# As at a past date


def test_dashboard_as_of_shows_the_past_and_labels_it(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2012, 10, 1))
    record("NOR-2012-07", Status.ACHIEVED, D(2014, 1, 1))
    past = client.get("/", {"as_of": "2013-09-13"}).content.decode()
    assert "This is the past." in past
    assert "The tracker as it stood on 13 September 2013" in past
    assert "In progress" in re.search(r'<tr id="row-NOR-2012-07">.*?</tr>', past, re.S).group(0)
    assert "50.0&nbsp;%</strong> weighted progress across the 1 of 10" in past
    today = client.get("/").content.decode()
    assert "This is the past." not in today
    assert "Achieved" in re.search(r'<tr id="row-NOR-2012-07">.*?</tr>', today, re.S).group(0)


def test_dashboard_offers_meetings_inside_the_data_as_dates(client, seeded):
    html = client.get("/").content.decode()
    assert 'href="/?as_of=2012-09-14"' in html  # 3MSP, Oslo: after the 2012 statement
    assert ">3MSP</abbr>, Oslo" in html
    assert 'href="/?as_of=2011-09-16"' not in html  # 2MSP: before any statement held


def test_meeting_links_keep_the_list_filters(client, seeded):
    html = client.get("/", {"theme": "norm"}).content.decode()
    assert 'href="/?as_of=2012-09-14&amp;theme=norm"' in html


def test_future_or_malformed_date_is_refused_with_a_message(client, seeded):
    future = client.get("/", {"as_of": "2999-01-01"}).content.decode()
    assert "This date is in the future." in future
    assert "This is the past." not in future
    malformed = client.get("/", {"as_of": "14/09/2012"}).content.decode()
    assert "Enter a date as YYYY-MM-DD" in malformed


def test_date_before_any_statement_shows_nothing_yet(client, seeded):
    html = client.get("/", {"as_of": "2011-01-01"}).content.decode()
    assert listed(html) == []
    assert "No commitment had been made by this date." in html


def test_commitment_page_as_of_hides_later_follow_ups(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2012, 9, 1), public_note="Regional workshop")
    record("NOR-2012-07", Status.ACHIEVED, D(2014, 1, 1), public_note="Initiative funded")
    url = reverse("commitment_detail", args=["NOR-2012-07"])
    past = client.get(url, {"as_of": "2013-01-01"}).content.decode()
    assert "This is the past." in past
    assert "Regional workshop" in past
    assert "Initiative funded" not in past
    assert "Verdict on 1 Jan 2013" in past
    today = client.get(url).content.decode()
    assert "Initiative funded" in today
    assert "This is the past." not in today


def test_commitment_page_before_its_statement_says_it_was_not_made_yet(client, seeded):
    html = client.get("/commitments/NOR-2012-07/", {"as_of": "2012-01-01"}).content.decode()
    assert "this commitment had not been made yet: it dates from 16 April 2012" in html


# Progress over time


def test_dashboard_draws_progress_chart_in_svg_with_a_table(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2012, 9, 1))
    html = client.get("/").content.decode()
    chart = re.search(r'<figure class="chart">.*?</figure>', html, re.S).group(0)
    assert chart.count('fill="none" stroke=') == 2  # the lines: overall and the regional theme
    assert "<figcaption" in chart
    assert "The same figures as a table" in html
    assert "<td>50.0</td>" in html


def test_public_pages_have_no_style_attributes_or_inline_scripts(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2012, 9, 1))
    for url in ["/", "/?as_of=2013-01-01", "/commitments/NOR-2012-07/", STATEMENT_URL]:
        html = client.get(url).content.decode()
        assert " style=" not in html, url
        assert "<style" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url


# Freshness


def test_each_commitment_shows_its_latest_evidence_and_when_it_was_last_checked(client, seeded):
    record("NOR-2012-07", Status.IN_PROGRESS, D(2013, 2, 3))
    listing = client.get("/").content.decode()
    assert "Latest evidence" in listing
    assert "Last checked" in listing
    detail = client.get("/commitments/NOR-2012-07/").content.decode()
    assert "Latest evidence" in detail
    assert "Last checked" in detail
    assert '<time datetime="2013-02-03">3 February 2013</time>' in detail
    today = timezone.localdate()
    assert f'<time datetime="{today.isoformat()}">' in detail  # recorded today


def test_commitments_past_their_review_date_are_marked_publicly(client, seeded):
    Commitment.objects.filter(reference="NOR-2012-05").update(next_review=D(2013, 1, 1))
    Commitment.objects.filter(reference="NOR-2012-06").update(next_review=D(2999, 1, 1))
    html = client.get("/").content.decode()
    assert "review overdue" in re.search(r'<tr id="row-NOR-2012-05">.*?</tr>', html, re.S).group(0)
    assert "review overdue" not in re.search(
        r'<tr id="row-NOR-2012-06">.*?</tr>', html, re.S
    ).group(0)
    detail = client.get("/commitments/NOR-2012-05/").content.decode()
    assert "overdue: this commitment is past its review date" in detail
    assert "overdue" not in client.get("/commitments/NOR-2012-06/").content.decode()


# Findable


@pytest.mark.parametrize(
    "url", ["/", "/commitments/NOR-2012-01/", STATEMENT_URL, "/fr/", "/es/commitments/NOR-2012-01/"]
)
def test_public_pages_have_title_description_canonical_and_open_graph(client, seeded, url):
    html = client.get(url).content.decode()
    path = url.split("?")[0]
    assert re.search(r"<title>[^<]{10,}</title>", html)
    assert re.search(r'<meta name="description" content="[^"]{30,}">', html)
    assert f'<link rel="canonical" href="http://testserver{path}">' in html
    for prop in ["og:title", "og:description", "og:url", "og:type", "og:site_name", "og:locale"]:
        assert f'<meta property="{prop}" content="' in html
    assert 'hreflang="x-default"' in html
    assert '<link rel="icon" href="/static/favicon.svg"' in html


def test_public_pages_load_no_asset_from_another_host(client, seeded):
    for url in ["/", "/commitments/NOR-2012-01/", STATEMENT_URL]:
        html = client.get(url).content.decode()
        for attr in re.findall(r'<(?:script|link|img)[^>]*?(?:src|href)="([^"]+)"', html):
            assert attr.startswith(("/", "http://testserver/")), (url, attr)


def test_commitment_page_names_its_feed_for_autodiscovery(client, seeded):
    html = client.get("/commitments/NOR-2012-03/").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Follow-ups on NOR-2012-03 '
        '(Atom)" href="/commitments/NOR-2012-03/feed/">' in html
    )
    assert 'type="application/atom+xml" title="All follow-ups (Atom)" href="/feed/"' in html


def test_dashboard_links_the_exports_with_the_current_filters(client, seeded):
    html = client.get("/", {"theme": "norm", "as_of": "2013-01-01", "q": ""}).content.decode()
    assert 'href="/data/commitments.csv?theme=norm&amp;as_of=2013-01-01"' in html
    assert 'href="/data/follow-ups.json?theme=norm&amp;as_of=2013-01-01"' in html


# Cookies


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?theme=norm&as_of=2013-01-01",
        "/fr/",
        "/es/?q=x",
        "/commitments/NOR-2012-01/",
        "/fr/commitments/NOR-2012-01/?as_of=2013-01-01",
        STATEMENT_URL,
        "/es" + STATEMENT_URL,
        "/feed/",
        "/fr/commitments/NOR-2012-01/feed/",
        "/data/commitments.csv",
        "/data/commitments.json",
        "/data/follow-ups.csv",
        "/data/follow-ups.json",
    ],
)
def test_public_pages_set_no_cookie_whatever_the_language(client, seeded, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_htmx_fragment_sets_no_cookie(client, seeded):
    response = client.get("/", {"theme": "norm"}, HTTP_HX_REQUEST="true")
    assert not response.cookies


def test_article_filter_lists_every_seeded_article(client, seeded):
    html = client.get("/").content.decode()
    for article in Article.objects.all():
        assert f'<option value="{article.number}">' in html


def test_statement_page_survives_two_commitments_quoting_the_same_words(client, db):
    first = CommitmentFactory()
    CommitmentFactory(statement=first.statement, quote=first.quote)
    assert client.get(first.statement.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/", "/fr/commitments/NOR-2012-01/", STATEMENT_URL, "/feed/", "/data/commitments.csv"],
)
def test_public_pages_answer_head_requests(client, seeded, url):
    response = client.head(url)
    assert response.status_code == 200
    assert response.getvalue() == b""  # getvalue(): the CSV exports stream


def test_public_pages_refuse_post(client, seeded):
    for url in ["/", "/commitments/NOR-2012-01/", STATEMENT_URL, "/feed/", "/fr/feed/"]:
        assert client.post(url).status_code == 405, url
    assert client.post("/commitments/NOR-2012-01/feed/").status_code == 405


def test_only_the_dashboard_loads_htmx(client, seeded):
    assert "htmx-2.min.js" in client.get("/").content.decode()
    for url in ["/commitments/NOR-2012-01/", STATEMENT_URL]:
        html = client.get(url).content.decode()
        assert "<script" not in html, url
        assert "hx-" not in html.replace('name="htmx-config"', ""), url


def test_date_form_keeps_the_list_filters_without_javascript(client, seeded):
    html = client.get("/", {"theme": "norm", "q": "use"}).content.decode()
    form = re.search(r'<form method="get" action="/" class="as-of-form">.*?</form>', html, re.S)
    assert '<input type="hidden" name="theme" value="norm">' in form.group(0)
    assert '<input type="hidden" name="q" value="use">' in form.group(0)


# How a commitment is judged


def test_commitment_page_lists_what_would_count_as_progress_status_by_status(client, seeded):
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    html = client.get(commitment.get_absolute_url()).content.decode()
    section = html[html.index('<section class="criteria"') :]
    section = section[: section.index("</section>")]
    assert "What would count as progress" in section
    shown = re.findall(r'<dt><span class="badge badge-(\w+)">[^<]+</span></dt>\s*<dd>', section)
    assert shown == ["not_started", "off_track", "in_progress", "achieved"]
    for criterion in commitment.assessment_criteria():
        assert criterion.evidence.replace("'", "&#x27;") in section
    # After the quote, before the record it is checked against; headings stay in order.
    assert html.index('class="quote"') < html.index("How this is read")
    assert html.index("How this is read") < html.index("What would count as progress")
    assert html.index("What would count as progress") < html.index("What has been done")
    assert re.findall(r"<h(\d)", html)[:2] == ["1", "2"]


def test_commitment_page_in_french_shows_the_statuses_of_the_criteria_in_french(client, seeded):
    html = client.get("/fr/commitments/NOR-2012-09/").content.decode()
    assert '<span class="badge badge-on_track">Sur la bonne voie</span></dt>' in html


def test_commitment_without_criteria_says_none_are_published_yet(client, db):
    commitment = CommitmentFactory()
    html = client.get(commitment.get_absolute_url()).content.decode()
    assert "No assessment criteria have been published for this commitment yet." in html
    assert "How this is read" not in html  # no reading, no heading
