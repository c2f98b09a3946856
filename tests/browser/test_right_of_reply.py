"""The right of reply in a real browser: a visitor sends a reply, a moderator publishes it,
and it shows on the commitment's page and in its feed without the sender's e-mail address;
robot-like sending (the honeypot filled in, too fast, the tenth in a minute) is refused with a
message and stores nothing. axe checks the reply form and the moderation queue."""

import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import Page, expect

from commitments.models import ReplyDecision, ReplySubmission

from ..conftest import member_of
from ..factories import CommitmentFactory
from .test_staff_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "desk-officer-5e2a@example.org"


def no_axe_violations(page: Page, name):
    results = Axe().run(page)
    assert not results.violations_count, f"{name}:\n{results.generate_report()}"


def fill_reply(page: Page, email=EMAIL):
    page.get_by_label("Your name").fill("Ada Desk")
    page.get_by_label("Organisation").fill("Ministry of Foreign Affairs")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_label("I write for the delegation that made this commitment").check()
    page.get_by_label("Your update or reply").fill("We ratified the Convention on 1 May.")
    page.get_by_label("Evidence link (optional)").fill("https://example.org/ratified")


def a_fresh_minute():
    """The rate counts per clock minute: start well inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_a_visitor_replies_staff_publish_and_it_shows_without_the_e_mail(
    page: Page, live_server, settings
):
    settings.REPLY_MIN_SECONDS = 0.5
    commitment = CommitmentFactory(reference="NOR-2012-01")
    editor = member_of("editors")
    page.goto(f"{live_server.url}{commitment.get_absolute_url()}")
    page.get_by_role("link", name="Suggest an update or reply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggest an update or reply")
    no_axe_violations(page, "the reply form")
    fill_reply(page)
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your reply is with our staff"
    )
    assert ReplySubmission.objects.get().email == EMAIL
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    # Nothing public before a person decides.
    page.goto(f"{live_server.url}{commitment.get_absolute_url()}")
    expect(page.locator("body")).not_to_contain_text("We ratified")

    log_in(page, live_server, editor.username, next_url="/staff/")
    page.get_by_role("link", name="Replies").click()
    expect(page.locator("main")).to_contain_text(EMAIL)  # the moderator sees who wrote
    no_axe_violations(page, "the moderation queue")
    page.get_by_label("We verified who sent it").check()
    page.get_by_role("button", name="Publish as a reply").click()
    expect(page.locator(".message-success")).to_contain_text("Published the reply")
    assert ReplyDecision.objects.get().sender_verified
    assert len(mail.outbox) == 2

    page.context.clear_cookies()  # the public's view, from the shared page cache
    page.goto(f"{live_server.url}{commitment.get_absolute_url()}")
    reply = page.locator("li.reply")
    expect(reply).to_contain_text("Reply from Ministry of Foreign Affairs,")
    expect(reply).to_contain_text("sender verified by staff")
    expect(reply).to_contain_text("We ratified the Convention on 1 May.")
    expect(page.locator("body")).not_to_contain_text(EMAIL)
    expect(page.locator("body")).not_to_contain_text("Ada Desk")
    feed = page.request.get(f"{live_server.url}{commitment.get_absolute_url()}feed/").text()
    assert "reply from Ministry of Foreign Affairs" in feed
    assert "We ratified the Convention on 1 May." in feed
    assert EMAIL not in feed


def test_robot_like_sending_is_refused_with_a_message_and_stores_nothing(
    page: Page, live_server, settings
):
    commitment = CommitmentFactory(reference="NOR-2012-01")
    url = f"{live_server.url}/commitments/{commitment.reference}/reply/"
    alert = page.get_by_role("alert")

    # The honeypot filled in, as a robot filling every field does.
    settings.REPLY_MIN_SECONDS = 0
    page.goto(url)
    fill_reply(page)
    page.locator("input[name=website]").fill("http://spam.example", force=True)
    page.get_by_role("button", name="Send for review").click()
    expect(alert).to_contain_text("leave this field empty")
    expect(page.get_by_label("Your update or reply")).to_have_value(
        "We ratified the Convention on 1 May."
    )
    assert not ReplySubmission.objects.exists()

    # Sent faster than a person fills it in.
    settings.REPLY_MIN_SECONDS = 60
    page.goto(url)
    fill_reply(page)
    page.get_by_role("button", name="Send for review").click()
    expect(alert).to_contain_text("faster than a person can fill it in")
    assert not ReplySubmission.objects.exists()

    # The tenth in a minute from one address: nine posted from this page's context (with its
    # CSRF cookie and token), the tenth through the form. (The two refused above counted
    # too: robots' posts count against their address. Start this part afresh.)
    settings.REPLY_MIN_SECONDS = 0
    settings.REPLY_RATE_PER_MINUTE = 5
    cache.clear()
    a_fresh_minute()
    page.goto(url)
    token = page.locator("input[name=csrfmiddlewaretoken]").input_value()
    started = page.locator("input[name=started]").input_value()
    answers = [
        page.request.post(
            url,
            form={
                "csrfmiddlewaretoken": token,
                "started": started,
                "name": "Ada Desk",
                "organisation": "Ministry of Foreign Affairs",
                "email": f"n{n}@example.org",
                "text": f"Reply {n}",
            },
            max_redirects=0,
        ).status
        for n in range(9)
    ]
    assert answers == [302] * 5 + [429] * 4
    fill_reply(page, email="tenth@example.org")
    page.get_by_role("button", name="Send for review").click()
    expect(alert).to_contain_text("too many replies have come from your address")
    assert ReplySubmission.objects.count() == 5
    assert not ReplySubmission.objects.filter(email="tenth@example.org").exists()
