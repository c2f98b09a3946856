"""The shared cache of anonymous public pages, and its invalidation.

Every public response is stored in the default cache (Redis when CACHE_URL/REDIS_URL is set,
else a file cache every worker process on the machine shares) together with the
*generation* of the public data it was built from. Anything public that changes bumps the
generation (`public_data_changed`, called from the models' save paths), so the very next
request, in whichever worker, finds its stored page outdated and builds a fresh one. One
cache round trip per hit: the generation and the page are read together.

Only anonymous GETs are served from or stored in the cache: a request that carries a session
or messages cookie (anyone logged in) is never served a stored page, and a response that
sets a cookie, is private or varies on anything but language and htmx is never stored.
"""

import hashlib
import re
import time
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.translation import get_language

GENERATION_KEY = "public:generation"
# A stored page may vary on these request headers: the language, gzip and the htmx headers
# are part of the key; a Cookie vary is safe because cookie-bearing visitors skip the cache.
SAFE_VARY = {
    "accept-encoding",
    "accept-language",
    "cookie",
    "hx-request",
    "hx-history-restore-request",
}
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
# Cookies that change nothing on a public page; any other cookie means "not anonymous".
HARMLESS_COOKIES = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}


def _cache():
    return caches[settings.PAGE_CACHE_ALIAS]


def _new_generation():
    return f"{time.time_ns():x}"


def current_generation() -> str:
    """The generation of the public data now; created when the cache has none."""
    cache = _cache()
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, _new_generation(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    if generation is None:
        # The cache is unreachable (ccmtracker/failsoft.py answers a miss): a generation of
        # this request's own, so no stored page or ETag can pass for current.
        generation = _new_generation()
    return generation


def _bump():
    _cache().set(GENERATION_KEY, _new_generation(), timeout=None)


def public_data_changed():
    """Outdate every stored public page, now and again once the transaction commits.

    The bump after commit is the one that counts: a page built between the first bump and
    the commit may still show the old data. The first makes a change visible at once to
    code that reads inside the same transaction.
    """
    _bump()
    transaction.on_commit(_bump)


def shared(name: str, compute):
    """compute() once per generation of the public data, for every worker: a costly figure
    that many pages show (the dashboard's progress history, the same in every language and
    for every filter). Off when the page cache is off, so "uncached" stays honest."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return compute()
    cache = _cache()
    # The generation is read before the data, so a value is never filed under a newer one.
    key = f"shared:{current_generation()}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    return value


def public_etag(request, *args, **kwargs) -> str:
    """An ETag for a public URL: it changes whenever any public data does."""
    url = f"{get_language()}|{request.get_full_path()}".encode()
    return f'"{current_generation()}-{hashlib.blake2b(url, digest_size=8).hexdigest()}"'


def public_page(view):
    """Mark a public view whose anonymous responses PublicPageCacheMiddleware may store."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.public_page = True
        return view(request, *args, **kwargs)

    return wrapper


def _anonymous_get(request) -> bool:
    return (
        request.method == "GET"
        and settings.PAGE_CACHE_SECONDS > 0
        and not set(request.COOKIES) - HARMLESS_COOKIES
    )


def _key(request) -> str:
    parts = "|".join(
        [
            get_language() or "",
            request.headers.get("HX-Request", ""),
            request.headers.get("HX-History-Restore-Request", ""),
            # Pages are stored as sent: compressed for clients that take gzip, or plain.
            "gzip" if ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")) else "",
            # Some pages say what is overdue today: a new day is a new page.
            timezone.localdate().isoformat(),
            request.build_absolute_uri(),
        ]
    )
    return "page:" + hashlib.blake2b(parts.encode(), digest_size=16).hexdigest()


def _storable(request, response) -> bool:
    if not getattr(request, "public_page", False) or response.status_code != 200:
        return False
    if response.streaming or response.cookies:
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    control = response.get("Cache-Control", "").lower()
    if any(word in control for word in ("private", "no-store", "no-cache")):
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= SAFE_VARY


class PublicPageCacheMiddleware:
    """Serve and store anonymous public pages; sits just after LocaleMiddleware.

    Below the language middleware so the key has the request's language; above the rest so a
    hit skips them, and so a stored response has been through CSRF and messages middleware
    (a cookie set there keeps it out of the cache).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _anonymous_get(request):
            return self.get_response(request)
        cache = _cache()
        key = _key(request)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            generation = current_generation()
        stored = found.get(key)
        if stored is not None and stored[0] == generation:
            response = stored[1]
            return get_conditional_response(request, etag=response.get("ETag"), response=response)
        response = self.get_response(request)
        if _storable(request, response):
            cache.set(key, (generation, response), settings.PAGE_CACHE_SECONDS)
        return response
