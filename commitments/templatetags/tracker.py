"""Small tags for markup repeated on every row of the public lists."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def badge(status, label):
    """A status badge: `{% badge follow_up.status follow_up.get_status_display %}`.

    A tag rather than an {% include %}: it is drawn on every row of the lists and timelines,
    and an include costs a template lookup and a context push each time.
    """
    return format_html('<span class="badge badge-{}">{}</span>', status, label)
