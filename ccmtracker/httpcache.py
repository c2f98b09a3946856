"""What HTTP caches may keep: the one home of the decision, public or private, for every answer.

Browsers, nginx's proxy_cache and a CDN (docs/deploy.md) may keep an answer, and give it to
anyone, only when `is_public` says so: a GET or HEAD of a public page (a view marked
`public_page`, ccmtracker/pagecache.py, or a page that cache served) by a visitor who carries
no cookie but the CSRF and language ones, answered without setting a cookie and without reading
the session, with a status worth keeping (200, a permanent redirect, 304, 404, 410), on neither
the staff side nor the admin. Such an answer says `Cache-Control: public, max-age=…,
stale-while-revalidate=…` (HTTP_CACHE_MAX_AGE, HTTP_CACHE_STALE_WHILE_REVALIDATE) and varies
on what it depends on: gzip and the htmx headers, never Accept-Language (a public page's
language is in its address) nor Cookie.

Everything else — staff pages, the admin, the login, any answer that sets a cookie, any
request with a session, any error past 4xx, any POST — says `private, no-store`: kept by
nobody. The ETag a public answer carries, and the 304 it earns, are `public_etag`'s.

A browser may keep a public page it was given before its user signed in, and a signed-in
request for that address may be answered from it, for up to max-age: the answer to a sign-in
says `Clear-Site-Data: "cache"`, so staff see their own changes at once.

HttpCacheMiddleware comes just after WhiteNoise (static files keep their own long-lived
headers) and before the session, CSRF and messages middleware, so it sees every cookie they set.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.cache import add_never_cache_headers, patch_cache_control

from .middleware import is_staff_side
from .pagecache import HARMLESS_COOKIES

# Statuses an HTTP cache may keep for everyone: a page, a permanent redirect, a "not modified"
# (which refreshes a kept page), and a missing page for a minute. Never a 5xx: an error is
# not kept as the page (nginx serves the last good page instead: proxy_cache_use_stale).
PUBLIC_STATUSES = {200, 301, 304, 308, 404, 410}
# Vary values a public answer never keeps: the language is the address's, and a public answer
# reads no cookie (one that does is private).
NOT_VARIED_ON = {"accept-language", "cookie"}


def _vary(response) -> list[str]:
    return [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]


def is_public(request, response) -> bool:
    """May any cache keep `response` and give it to anyone? (See the module docstring.)"""
    if request.method not in ("GET", "HEAD") or not getattr(request, "public_page", False):
        return False
    if is_staff_side(request.path):
        return False
    # A session (anyone signed in), messages, or anything else the site does not set for a
    # visitor: the answer may be someone's.
    if set(request.COOKIES) - HARMLESS_COOKIES or response.cookies:
        return False
    session = getattr(request, "session", None)
    if session is not None and (session.accessed or session.modified):
        return False
    if response.status_code not in PUBLIC_STATUSES:
        return False
    vary = {value.lower() for value in _vary(response)}
    if "cookie" in vary or "*" in vary:
        return False
    control = response.get("Cache-Control", "").lower()
    return not any(word in control for word in ("private", "no-store", "no-cache"))


def make_public(request, response):
    response.headers.pop("Cache-Control", None)
    # A page the page cache served outdated (while a worker rebuilds it) is public, but no
    # cache may keep it past this request: a change is public within max-age, not max-age
    # plus the page cache's few seconds.
    outdated = getattr(request, "public_page_outdated", False)
    patch_cache_control(
        response,
        public=True,
        max_age=0 if outdated else settings.HTTP_CACHE_MAX_AGE,
        stale_while_revalidate=settings.HTTP_CACHE_STALE_WHILE_REVALIDATE,
    )
    vary = [value for value in _vary(response) if value.lower() not in NOT_VARIED_ON]
    if vary:
        response["Vary"] = ", ".join(vary)
    else:
        response.headers.pop("Vary", None)


@receiver(user_logged_in)
def _forget_public_pages_on_sign_in(sender, request, **kwargs):
    if request is not None:
        request.signed_in_now = True


class HttpCacheMiddleware:
    """Every answer that passes through Django leaves public (`make_public`) or private and
    never stored (`add_never_cache_headers`), as `is_public` decides."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_public(request, response):
            make_public(request, response)
        else:
            add_never_cache_headers(response)
        if getattr(request, "signed_in_now", False):
            # The public pages this browser kept while anonymous: gone, not shown to staff.
            response["Clear-Site-Data"] = '"cache"'
        return response
