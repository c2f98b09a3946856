"""Atom feeds of public follow-ups and published replies: the whole tracker, and one commitment.

Only public fields are read from the database (never internal_note); only published
commitments are fed. Published replies (commitments/replies.py) are entries of their own,
"Reply from <organisation>", never with the sender's name or e-mail address. A feed is in
its address's language (/fr/feed/ is French, its xml:lang "fr"): titles, notes and evidence
labels are that language's versions, or another language's marked as such
(commitments/content.py). An entry keeps one id in every language.
"""

import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .content import localized, sorted_by_name
from .models import Commitment, FollowUp, ReplySubmission, Status
from .translation import TRANSLATED, columns

FEED_LENGTH = 50

PUBLIC_FIELDS = [
    "id",
    "status",
    "progress",
    "happened_on",
    "evidence_url",
    "recorded_at",
    "confirmed_by",  # whether a second reviewer confirmed it (never who)
    "commitment__id",
    "commitment__reference",
    # Every language's version: the feed picks its own (the bare name means the active one).
    *(column for field in TRANSLATED[FollowUp] for column in columns(field)),
    *columns("commitment__title"),
]


def _site_address(path):
    """An address on the configured site, whatever the Host a request named: feed ids must
    never change (RFC 4287 §4.2.6), and a feed fetched through another name is the same feed."""
    return settings.SITE_URL + path


# What a reply entry may read: never the sender's name or e-mail address.
REPLY_FIELDS = [
    "id",
    "organisation",
    "text",
    "evidence_url",
    "submitted_at",
    "commitment__id",
    "commitment__reference",
    *columns("commitment__title"),
    "decision__id",
    "decision__sender_verified",
    "decision__decided_at",
]


def _published_replies():
    return (
        ReplySubmission.objects.published()
        .select_related("commitment")
        .only(*REPLY_FIELDS)
        .newest_first()
    )


def _entries(follow_ups, replies):
    """The latest follow-ups and replies together, newest first, FEED_LENGTH of them."""
    entries = [*follow_ups[:FEED_LENGTH], *replies[:FEED_LENGTH]]
    entries.sort(key=_published_on, reverse=True)  # stable: follow-ups keep their order
    return entries[:FEED_LENGTH]


def _published_on(item):
    if isinstance(item, ReplySubmission):
        return item.decision.decided_at
    return datetime.datetime.combine(item.happened_on, datetime.time(), datetime.UTC)


def _public_follow_ups():
    return (
        FollowUp.objects.public()
        .select_related("commitment")
        .only(*PUBLIC_FIELDS)
        .prefetch_related("states")  # the states each one concerns: one query for the feed
        .timeline()
    )


class UpdatesFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Commitments on the Convention on Cluster Munitions: follow-ups")
    subtitle = gettext_lazy(
        "Every public follow-up recorded on the commitments this tracker follows."
    )

    # RFC 4287 §4.1.1: a feed, or each of its entries, names an author. The tracker speaks
    # for itself; who recorded a follow-up is never published.
    author_name = item_author_name = "ccmtracker"

    def author_link(self):
        return _site_address("/")

    def link(self):
        return reverse("dashboard")

    def feed_url(self):
        return reverse("feed_updates")

    def feed_guid(self):
        return _site_address(reverse("feed_updates"))

    def items(self):
        return _entries(_public_follow_ups(), _published_replies())

    def item_title(self, item):
        if isinstance(item, ReplySubmission):
            return _("%(reference)s: reply from %(organisation)s — %(title)s") % {
                "reference": item.commitment.reference,
                "organisation": item.organisation,
                "title": localized(item.commitment, "title").plain,
            }
        return _("%(reference)s: %(status)s — %(title)s") % {
            "reference": item.commitment.reference,
            "status": Status(item.status).label,
            "title": localized(item.commitment, "title").plain,
        }

    def item_description(self, item):
        """HTML (Atom's summary type="html"): the note is escaped, never markup of its own; a
        version in another language than the feed's is marked with its lang and name."""
        if isinstance(item, ReplySubmission):
            return _reply_description(item)
        note = localized(item, "public_note")
        if note:
            html = format_html("<p>{}</p>", note.html(lines=True))
        else:
            html = linebreaks(str(Status(item.status).label), autoescape=True)
        if item.evidence_url:
            label = localized(item, "evidence_label")
            text = label.html() if label else item.evidence_url
            link = format_html('<a href="{}">{}</a>', item.evidence_url, text)
            html += "<p>" + escape(_("Evidence: %(link)s")) % {"link": link} + "</p>"
        if states := sorted_by_name(item.states.all()):
            links = ", ".join(
                format_html('<a href="{}">{}</a>', _site_address(s.get_absolute_url()), s.name)
                for s in states
            )
            html += "<p>" + escape(_("States concerned: %(states)s")) % {"states": links} + "</p>"
        if item.confirmed_by_id:  # as the commitment's timeline says it
            day = formats.date_format(timezone.localdate(item.recorded_at))
            html += format_html(
                "<p>{}</p>", _("Confirmed by a second reviewer on %(date)s.") % {"date": day}
            )
        return html

    def item_link(self, item):
        if isinstance(item, ReplySubmission):
            return f"{item.commitment.get_absolute_url()}#reply-{item.pk}"
        return f"{item.commitment.get_absolute_url()}#follow-up-{item.pk}"

    def item_guid(self, item):
        if isinstance(item, ReplySubmission):
            return f"tag:ccmtracker,2012:reply:{item.pk}"
        # Stable whatever the language of the feed: one follow-up, one id.
        return f"tag:ccmtracker,2012:follow-up:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return _published_on(item)

    def item_updateddate(self, item):
        if isinstance(item, ReplySubmission):
            return item.decision.decided_at
        return item.recorded_at


class CommitmentFeed(UpdatesFeed):
    def get_object(self, request, reference):
        return get_object_or_404(Commitment.objects.published(), reference=reference)

    def title(self, obj):
        return _("%(reference)s: follow-ups") % {"reference": obj.reference}

    def subtitle(self, obj):
        return localized(obj, "title").plain

    def link(self, obj):
        return obj.get_absolute_url()

    def feed_url(self, obj):
        return reverse("feed_commitment", args=[obj.reference])

    def feed_guid(self, obj):
        return _site_address(reverse("feed_commitment", args=[obj.reference]))

    def items(self, obj):
        return _entries(
            _public_follow_ups().filter(commitment=obj),
            _published_replies().filter(commitment=obj),
        )


def _reply_description(item):
    """A reply's text, escaped (plain text, never markup), whether staff verified who sent
    it, and its evidence link."""
    html = linebreaks(item.text, autoescape=True)
    verified = (
        _("Sender verified by staff.")
        if item.decision.sender_verified
        else _("Sender not verified by staff.")
    )
    html += format_html("<p>{}</p>", verified)
    if item.evidence_url:
        link = format_html('<a href="{}">{}</a>', item.evidence_url, item.evidence_url)
        html += "<p>" + escape(_("Evidence: %(link)s")) % {"link": link} + "</p>"
    return html
