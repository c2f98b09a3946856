"""Small tags for markup repeated on every row of the public lists."""

from urllib.parse import urlsplit

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext

from commitments.content import localized

register = template.Library()


@register.simple_tag
def badge(status, label):
    """A status badge: `{% badge follow_up.status follow_up.get_status_display %}`.

    A tag rather than an {% include %}: it is drawn on every row of the lists and timelines,
    and an include costs a template lookup and a context push each time.
    """
    return format_html('<span class="badge badge-{}">{}</span>', status, label)


@register.simple_tag
def verdict(commitment):
    """A commitment's public verdict on the day its queryset shows: its status badge (and
    progress figure), or "not confirmed since <date of its latest evidence>" with the verdict
    that evidence gave."""
    if not commitment.confirmed:
        return format_html(
            '<span class="badge badge-not_confirmed">{}</span> '
            '<span class="not-confirmed">{}</span>',
            gettext("Not confirmed"),
            gettext("since %(date)s (last verdict: %(status)s)")
            % {
                "date": formats.date_format(commitment.last_follow_up_on),
                "status": commitment.status.label,
            },
        )
    html = badge(commitment.status.value, commitment.status.label)
    if commitment.progress is not None:
        html += format_html(' <span class="progress-figure">{}&nbsp;%</span>', commitment.progress)
    return html


@register.filter
def tr(obj, field):
    """`{{ commitment|tr:"title" }}`: the field in the page's language, or another language's
    version marked with its lang and "(English)" (commitments/content.py). HTML: the template
    engine would turn an object into its plain text."""
    return localized(obj, field).html()


@register.filter
def version(obj, field):
    """`{% with shown=commitment|version:"criteria" %}`: the Localized itself, to read
    `shown.fallback` and `shown.lang` where the markup is the template's own."""
    return localized(obj, field)


@register.filter
def tr_lines(obj, field):
    """As `tr`, for notes: paragraphs and line breaks kept."""
    return localized(obj, field).html(lines=True)


@register.filter
def tr_text(obj, field):
    """As `tr`, as plain text for <title>, meta descriptions and attributes:
    "Title (English)" when it is a fallback."""
    return localized(obj, field).plain


@register.filter
def source_host(url):
    """A source link's text where it has no name: the host it is on (treaties.un.org)."""
    return urlsplit(url).hostname or url
