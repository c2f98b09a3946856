"""Tries to break in: leaks, escaping, CSRF on every URL, append-only history, login
throttling and the security headers. What each role may see and do on every URL is the table
in tests/test_roles.py; the data that tries to break in is tests/sample.py.
"""

import datetime
import re

import pytest
from django.db import transaction
from django.test import Client

from commitments.models import (
    AppendOnlyError,
    FollowUp,
    Status,
)

from .conftest import CANARY, member_of
from .factories import UserFactory
from .sample import ESCAPED_MARKER, PAYLOAD, RAW_MARKER, make_sample, state
from .test_roles import ALL_PATTERNS, build_url, describe, route_for

ANON, MEMBER, STAFF = "anonymous", "logged-in non-staff", "staff"
ROLES = [ANON, MEMBER, STAFF]


def client_for(role, sample, **kwargs):
    client = Client(**kwargs)
    if role == MEMBER:
        client.force_login(sample.member)
    elif role == STAFF:
        client.force_login(sample.staff)
    return client


# --- Escaping --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_payloads_in_text_fields_are_shown_escaped_on_every_page_that_shows_them():
    sample = make_sample()
    staff = client_for(STAFF, sample)
    anonymous = Client()
    pages = [
        (anonymous, "/"),
        (anonymous, sample.commitment.get_absolute_url()),
        (anonymous, sample.statement.get_absolute_url()),
        (staff, "/staff/"),
        (staff, f"/admin/commitments/commitment/{sample.commitment.pk}/change/"),
        (staff, f"/admin/commitments/statement/{sample.statement.pk}/change/"),
        (staff, f"/admin/commitments/followup/{sample.follow_up.pk}/change/"),
        (staff, "/admin/commitments/followup/"),
        (
            staff,
            f"/admin/commitments/treatyevent/{sample.pk_for('commitments', 'treatyevent')}/change/",
        ),
        (staff, "/admin/commitments/treatyevent/"),
        # Issue 15: replies from the public, as moderators read them, and a published one.
        (staff, "/staff/replies/"),
        (staff, "/admin/commitments/replysubmission/"),
        (
            staff,
            f"/admin/commitments/replysubmission/{sample.objects['waiting_reply'].pk}/change/",
        ),
        (anonymous, "/feed/"),
        (
            staff,
            f"/admin/commitments/state/{sample.objects['commitments.treatyevent'].state_id}/change/",
        ),
    ]
    for client, url in pages:
        html = client.get(url).content.decode()
        assert ESCAPED_MARKER in html, url  # the payload reached the page...
        assert RAW_MARKER not in html, url  # ...and only escaped


@pytest.mark.django_db
def test_htmx_fragment_escapes_payloads_and_shows_no_canary_to_the_public(staff_user):
    sample = make_sample()
    client = client_for(STAFF, sample)
    prefix = f"c{sample.commitment.pk}"
    response = client.post(
        f"/staff/commitments/{sample.commitment.reference}/follow-ups/",
        {
            f"{prefix}-version": sample.commitment.version,
            f"{prefix}-status": Status.IN_PROGRESS,
            f"{prefix}-happened_on": "2013-03-01",
            f"{prefix}-public_note": PAYLOAD,
            f"{prefix}-internal_note": CANARY,
            f"{prefix}-evidence_label": PAYLOAD,
            f"{prefix}-evidence_url": "https://example.org/",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="c-XSS-2012-01"' in html
    assert "<html" not in html  # a fragment
    assert ESCAPED_MARKER in html
    assert RAW_MARKER not in html
    public = Client().get(sample.commitment.get_absolute_url()).content.decode()
    assert CANARY not in public
    assert RAW_MARKER not in public


@pytest.mark.django_db
def test_invalid_htmx_post_echoes_the_payload_escaped():
    sample = make_sample()
    client = client_for(STAFF, sample)
    prefix = f"c{sample.commitment.pk}"
    response = client.post(
        f"/staff/commitments/{sample.commitment.reference}/follow-ups/",
        {f"{prefix}-status": "nonsense", f"{prefix}-public_note": PAYLOAD},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert ESCAPED_MARKER in response.content.decode()
    assert RAW_MARKER not in response.content.decode()


# --- Error pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_error_pages_are_the_sites_own_and_show_no_canary(client, member_client):
    make_sample()
    not_found = client.get("/commitments/XSS-2012-02/")  # exists, but unpublished
    assert not_found.status_code == 404
    assert "Page not found" in not_found.content.decode()
    assert "UNPUBLISHED" not in not_found.content.decode()
    forbidden = member_client.get("/staff/")
    assert forbidden.status_code == 403
    assert "Not allowed" in forbidden.content.decode()
    for response in (not_found, forbidden):
        assert CANARY not in response.content.decode()
        assert "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_server_error_page_is_static_and_reveals_nothing():
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "Traceback" not in html
    assert "Django" not in html
    assert CANARY not in html


@pytest.mark.django_db
def test_csrf_failure_page_explains_and_has_no_inline_style():
    sample = make_sample()
    client = client_for(STAFF, sample, enforce_csrf_checks=True)
    response = client.post("/staff/commitments/XSS-2012-01/follow-ups/", {})
    html = response.content.decode()
    assert response.status_code == 403
    assert "<style" not in html
    assert "security token" in html


# --- CSRF and GET --------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.django_db
def test_state_changing_requests_without_a_csrf_token_are_refused(second_review_off, htmx):
    sample = make_sample()
    headers = {"HX-Request": "true"} if htmx else {}
    clients = {role: client_for(role, sample, enforce_csrf_checks=True) for role in ROLES}
    before = state()
    refused = []
    for pattern in ALL_PATTERNS:
        route, match = route_for(pattern)
        url = build_url(pattern, route, match, sample)
        for role, client in clients.items():
            prefix = f"c{sample.commitment.pk}"
            data = {
                f"{prefix}-version": sample.commitment.version,
                f"{prefix}-status": Status.OFF_TRACK,
                f"{prefix}-happened_on": "2013-03-01",
                "post": "yes",  # would confirm an admin deletion
                "username": sample.staff.username,
                "password": "a-long-test-password",
            }
            response = client.post(url, data, headers=headers)
            if response.status_code != 403:
                refused.append(f"POST {url} as {role}: {describe(response)}")
    assert not refused, "Accepted without a CSRF token:\n" + "\n".join(refused)
    assert state() == before


@pytest.mark.django_db
def test_staff_post_with_the_token_from_the_page_is_accepted_and_without_it_refused(
    second_review_off,
):
    sample = make_sample()
    client = client_for(STAFF, sample, enforce_csrf_checks=True)
    page = client.get("/staff/").content.decode()
    token = re.search(r'"x-csrftoken": "([^"]+)"', page)[1]  # hx-headers on <body>
    prefix = f"c{sample.commitment.pk}"
    data = {
        f"{prefix}-version": sample.commitment.version,
        f"{prefix}-status": Status.OFF_TRACK,
        f"{prefix}-happened_on": "2013-03-01",
    }
    url = f"/staff/commitments/{sample.commitment.reference}/follow-ups/"
    assert client.post(url, data, headers={"HX-Request": "true"}).status_code == 403
    response = client.post(url, data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert FollowUp.objects.filter(commitment=sample.commitment).count() == 2


# --- Append-only history -------------------------------------------------------------------


@pytest.mark.django_db
def test_follow_ups_cannot_be_changed_or_deleted_through_the_orm():
    sample = make_sample()
    follow_up = FollowUp.objects.get(pk=sample.follow_up.pk)
    follow_up.public_note = "rewritten"
    with pytest.raises(AppendOnlyError):
        follow_up.save()
    with pytest.raises(AppendOnlyError):
        follow_up.delete()
    with pytest.raises(AppendOnlyError):
        FollowUp.objects.filter(pk=follow_up.pk).update(public_note="rewritten")
    with pytest.raises(AppendOnlyError):
        FollowUp.objects.all().delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        FollowUp.objects.bulk_update([follow_up], ["public_note"])
    assert FollowUp.objects.get(pk=follow_up.pk).public_note == PAYLOAD


def history():
    return list(FollowUp.objects.order_by("pk").values())


@pytest.mark.django_db
def test_follow_ups_cannot_be_changed_or_deleted_through_the_admin():
    sample = make_sample()
    client = client_for(STAFF, sample)
    before = history()
    pk = sample.follow_up.pk
    base = "/admin/commitments/followup"
    crafted = {"public_note": "rewritten", "internal_note": "", "status": Status.ACHIEVED}
    assert client.post(f"{base}/{pk}/change/", crafted).status_code == 403
    assert client.post(f"{base}/{pk}/delete/", {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
    client.post(f"{base}/", action)
    # The commitment's page, with the history inline forged as if it were editable.
    commitment_url = f"/admin/commitments/commitment/{sample.commitment.pk}/change/"
    form = {
        "statement": sample.statement.pk,
        "reference": sample.commitment.reference,
        "title_en": "Title",
        "quote": sample.commitment.quote,
        "theme": sample.commitment.theme_id,
        "kind": sample.commitment.kind,
        "weight": 1,
        "published": "on",
    }
    for prefix in ("follow_ups", "follow_ups-2"):
        form.update(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-INITIAL_FORMS": "1",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
                f"{prefix}-0-id": pk,
                f"{prefix}-0-commitment": sample.commitment.pk,
                f"{prefix}-0-public_note_en": "rewritten",
                f"{prefix}-0-status": Status.ACHIEVED,
                f"{prefix}-0-happened_on": "2013-01-02",
                f"{prefix}-0-DELETE": "on",
            }
        )
    client.post(commitment_url, form)
    after = history()
    assert after[: len(before)] == before  # nothing changed or removed; a new one may be added
    assert all(row["public_note"] != "rewritten" or row["id"] > pk for row in after)


@pytest.mark.django_db
def test_a_crafted_staff_post_naming_an_existing_follow_up_only_appends(second_review_off):
    sample = make_sample()
    client = client_for(STAFF, sample)
    before = history()
    prefix = f"c{sample.commitment.pk}"
    response = client.post(
        f"/staff/commitments/{sample.commitment.reference}/follow-ups/",
        {
            f"{prefix}-id": sample.follow_up.pk,
            f"{prefix}-pk": sample.follow_up.pk,
            "id": sample.follow_up.pk,
            f"{prefix}-version": sample.commitment.version,
            f"{prefix}-status": Status.OFF_TRACK,
            f"{prefix}-happened_on": "2013-03-01",
            f"{prefix}-public_note": "appended",
            f"{prefix}-author": sample.member.pk,
        },
    )
    assert response.status_code == 302
    after = history()
    assert after[: len(before)] == before
    [new] = after[len(before) :]
    assert new["public_note"] == "appended"
    assert new["author_id"] == sample.staff.pk  # not whoever the POST named


# --- Login throttling (django-axes, tested on this Django) ----------------------------------


def login(ip, username, password):
    client = Client(REMOTE_ADDR=ip)
    return client.post("/admin/login/?next=/staff/", {"username": username, "password": password})


@pytest.mark.django_db
def test_five_failed_logins_lock_that_username_from_that_address_with_a_clear_message():
    user = UserFactory(is_staff=True)
    for _attempt in range(4):
        response = login("203.0.113.5", user.username, "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    locked = login("203.0.113.5", user.username, "wrong")  # the fifth
    assert locked.status_code == 429
    # Even the right password is refused from there now, with a message saying why.
    refused = login("203.0.113.5", user.username, "a-long-test-password")
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Too many failed logins" in html
    assert "5 failed attempts" in html
    assert "wait 15 minutes and try again" in html
    assert "_auth_user_id" not in refused.client.session


@pytest.mark.django_db
def test_a_locked_username_still_logs_in_from_another_address():
    user = member_of("viewers")  # /staff/ needs a role (issue 5)
    for _attempt in range(5):
        login("203.0.113.5", user.username, "wrong")
    elsewhere = login("198.51.100.7", user.username, "a-long-test-password")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/staff/"
    assert elsewhere.client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_other_usernames_from_the_locked_address_still_log_in():
    locked_user, other = UserFactory(is_staff=True), UserFactory(is_staff=True)
    for _attempt in range(5):
        login("203.0.113.5", locked_user.username, "wrong")
    assert login("203.0.113.5", other.username, "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(settings):
    from axes.models import AccessAttempt

    user = UserFactory(is_staff=True)
    for _attempt in range(5):
        login("203.0.113.5", user.username, "wrong")
    assert login("203.0.113.5", user.username, "a-long-test-password").status_code == 429
    # Move the failures back past the cool-off, as time would.
    long_ago = datetime.datetime.now(datetime.UTC) - settings.AXES_COOLOFF_TIME * 2
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=long_ago)
    assert login("203.0.113.5", user.username, "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(settings):
    settings.TRUSTED_PROXY_COUNT = 1  # one load balancer that appends the client's address
    user = UserFactory(is_staff=True)

    def via_proxy(client_ip, password):
        # A client may send its own X-Forwarded-For; the balancer appends the real address.
        forwarded = f"192.0.2.66, {client_ip}"
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        return client.post("/admin/login/", {"username": user.username, "password": password})

    for _attempt in range(5):
        via_proxy("203.0.113.5", "wrong")
    assert via_proxy("203.0.113.5", "a-long-test-password").status_code == 429
    assert via_proxy("198.51.100.7", "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_x_forwarded_for_does_not_dodge_the_lockout():
    user = UserFactory(is_staff=True)
    for attempt in range(5):
        Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}").post(
            "/admin/login/", {"username": user.username, "password": "wrong"}
        )
    forged = Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.99")
    response = forged.post(
        "/admin/login/", {"username": user.username, "password": "a-long-test-password"}
    )
    assert response.status_code == 429


# --- Headers and cookies -------------------------------------------------------------------


EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def assert_security_headers(response):
    assert response["Content-Security-Policy"] == EXPECTED_CSP
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_public_and_staff_pages_send_every_security_header(client):
    sample = make_sample()
    for url in ["/", sample.commitment.get_absolute_url(), "/admin/login/", "/healthz"]:
        assert_security_headers(client.get(url, secure=True))
    staff = client_for(STAFF, sample)
    for url in [
        "/staff/",
        "/admin/",
        f"/admin/commitments/commitment/{sample.commitment.pk}/change/",
    ]:
        response = staff.get(url, secure=True)
        assert_security_headers(response)
        assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_http_only():
    user = UserFactory(is_staff=True)
    client = Client()
    client.get("/admin/login/", secure=True)
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["httponly"]
    response = client.post(
        "/admin/login/",
        {"username": user.username, "password": "a-long-test-password"},
        secure=True,
    )
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


@pytest.mark.django_db
def test_staff_pages_turn_off_htmx_history_cache(staff_client):
    html = staff_client.get("/staff/").content.decode()
    assert 'data-hx-history="false"' in html
    assert '"historyCacheSize":0' in html
