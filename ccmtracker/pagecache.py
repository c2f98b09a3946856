"""The shared cache of anonymous public pages.

Every public response is stored in the default cache (Redis when CACHE_URL/REDIS_URL is set,
else a file cache every worker process on the machine shares) together with the
*generation* of the public data it was built from (commitments/changes.py). Anything public
that changes bumps the generation, so the stored pages are outdated. One cache round trip per
hit: the generation and the page are read together.

An outdated page is not rebuilt by every request that finds it at once (on a busy page every
write would set all the workers building the same page together). One request at a time, in
any worker, takes the page's rebuild lock (`rebuild_lock`) and rebuilds it; meanwhile the
others are served the page as it was, for at most PAGE_CACHE_STALE_SECONDS after the change
that outdated it (commitments/changes.py notes when each generation was outdated). Past that
bound, or with PAGE_CACHE_STALE_SECONDS = 0, an outdated page is never served: the request
builds the page itself. After a rebuild the page is not rebuilt again for half that window
(`rebuild_interval`, 2 s by default): under constant writes a hot page costs one rebuild every
2 s, not one per write, and is at most those 2 s plus one rebuild behind. A lock dies with its
worker. A page served outdated keeps its own headers, its ETag included: it is the earlier
page, not the current one under a new name; a client whose If-None-Match names another
version is answered by the view.

Only anonymous GETs are served from or stored in the cache: a request that carries a session
or messages cookie (anyone logged in) is never served a stored page, and a response that
sets a cookie, is private or varies on anything but language and htmx is never stored.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time
from functools import partial, wraps
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from django.http import HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.views.decorators.gzip import gzip_page

from commitments.changes import GENERATION_KEY, current_generation, data_cache, outdated_at

# A stored page may vary on these request headers: the language, gzip and the htmx headers
# are part of the key; a Cookie vary is safe because cookie-bearing visitors skip the cache.
SAFE_VARY = {
    "accept-encoding",
    "accept-language",
    "cookie",
    "hx-request",
    "hx-target",
    "hx-history-restore-request",
}
# What an htmx request sends that changes the answer: a fragment instead of the page, which
# fragment, or the whole page again when the browser restores its history.
HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-History-Restore-Request")
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
# Cookies that change nothing on a public page; any other cookie means "not anonymous".
HARMLESS_COOKIES = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
# Rebuild locks on the file cache: flocks on this many files, a page's key picks one.
LOCK_STRIPES = 64


def public_etag(request, *args, **kwargs) -> str:
    """The ETag of a public answer, computed without building it: the generation of the
    public data (commitments/changes.py), the day (a verdict lapses when its evidence ages past
    the confirmation window, with no write), the language, the path, the query (its
    parameters sorted: `?b=2&a=1` is `?a=1&b=2`) and the htmx headers a fragment answers.

    Weak (W/): the same data in the same language is one page whether it is sent gzipped or
    not, and Django's gzip adds random bytes to each compressed body (against BREACH), so no
    two bodies are ever byte-for-byte the same."""
    query = urlencode(sorted(parse_qsl(request.META.get("QUERY_STRING", ""), True)))
    parts = [
        get_language() or "",
        timezone.localdate().isoformat(),
        request.path,
        query,
        *(request.headers.get(name, "") for name in HTMX_HEADERS),
    ]
    digest = hashlib.blake2b(json.dumps(parts).encode(), digest_size=8).hexdigest()
    return f'W/"{current_generation()}-{digest}"'


def public_page(view=None, *, htmx=False, gzip=False):
    """Mark a public view: its anonymous answers may be stored by PublicPageCacheMiddleware
    and kept by any HTTP cache (ccmtracker/httpcache.py decides, answer by answer).

    It answers a conditional GET whose If-None-Match names the current `public_etag` with 304
    before the view runs (no query, no template), and gives the view's 200 answers that ETag.
    `htmx=True`: the view answers htmx requests with a fragment, so its answers (its 304s too)
    vary on the htmx headers. `gzip=True`: its answers are compressed for clients that take
    gzip (Django's gzip_page; public pages hold no secret, so compression gives BREACH
    nothing), so they, and their 304s, vary on Accept-Encoding."""
    if view is None:
        return partial(public_page, htmx=htmx, gzip=gzip)
    vary = (("Accept-Encoding",) if gzip else ()) + (HTMX_HEADERS if htmx else ())
    if gzip:
        view = gzip_page(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.public_page = True
        etag = public_etag(request)
        conditional = request.method in ("GET", "HEAD")
        if_none_match = request.headers.get("If-None-Match") if conditional else None
        if _names(etag, if_none_match, star=False):
            response = HttpResponseNotModified()
            response["ETag"] = etag
        else:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.has_header("ETag"):
                response["ETag"] = etag
            # "*" matches any current representation: only the view knows whether there
            # is one (a 404 stays a 404), so it is answered once the view has.
            if response.status_code == 200 and _names(None, if_none_match):
                answered = response["ETag"]
                response = HttpResponseNotModified()
                response["ETag"] = answered
        patch_vary_headers(response, vary)
        return response

    return wrapper


def _anonymous_get(request) -> bool:
    return (
        request.method == "GET"
        and settings.PAGE_CACHE_SECONDS > 0
        and not set(request.COOKIES) - HARMLESS_COOKIES
    )


def page_key(request) -> str:
    parts = "|".join(
        [
            get_language() or "",
            request.headers.get("HX-Request", ""),
            # An htmx request answers the part it replaces: a page of the list, or the
            # figures, chart and list of a filter.
            request.headers.get("HX-Target", ""),
            request.headers.get("HX-History-Restore-Request", ""),
            # Pages are stored as sent: compressed for clients that take gzip, or plain.
            "gzip" if ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")) else "",
            # Pages say what is overdue today and which verdicts have lapsed: a new day is a
            # new page.
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


def _names(etag, if_none_match, star=True) -> bool:
    """Does an If-None-Match header name this ETag (compared weakly, as Django does)?
    `star`: does "*" count (it names whatever exists, so only for an answer known to)?"""
    if not if_none_match:
        return False
    wanted = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
    return (star and "*" in wanted) or (etag is not None and etag.removeprefix("W/") in wanted)


def _may_serve_outdated(request, stored) -> bool:
    """May this request be served `stored`, a page whose generation is outdated, if another
    request is rebuilding it? Only within PAGE_CACHE_STALE_SECONDS of the change that
    outdated it (never with 0)."""
    window = settings.PAGE_CACHE_STALE_SECONDS
    if window <= 0:
        return False
    # A client that sends an ETag other than this page's has seen another version (perhaps
    # the newer one, from the rebuild): it gets the current page, never an older one.
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and not _names(stored[1].get("ETag"), if_none_match):
        return False
    since = outdated_at(stored[0])
    return since is not None and time.time() - since <= window


def rebuild_interval() -> int:
    """After a page is rebuilt, the next rebuild of it waits this many seconds, while the page
    may be served outdated: half the window (whole seconds: the Redis cache rounds down)."""
    return max(1, settings.PAGE_CACHE_STALE_SECONDS // 2)


def rebuilt_key(key: str) -> str:
    """Set for rebuild_interval() after a page was rebuilt: the next rebuild waits for it."""
    return f"{key}:rebuilt"


@contextlib.contextmanager
def rebuild_lock(key: str, cache=None):
    """Yield True to the one request (in any worker) that may rebuild the page `key` now,
    False to the others, until it is done; a lock whose worker dies goes with it.

    On the file cache: an exclusive flock on one of LOCK_STRIPES small files in its folder
    (Django's FileBasedCache.add checks, then writes: two workers could both win; the kernel
    drops a dead process's flock). Elsewhere (Redis): `cache.add`, atomic there, expiring
    after PAGE_CACHE_STALE_SECONDS, past which nobody is served the outdated page anyway."""
    cache = data_cache() if cache is None else cache
    if isinstance(cache, FileBasedCache):
        folder = Path(settings.CACHES[settings.PAGE_CACHE_ALIAS]["LOCATION"])
        folder.mkdir(parents=True, exist_ok=True)
        stripe = int(key.removeprefix("page:")[:8], 16) % LOCK_STRIPES
        descriptor = os.open(folder / f"rebuild-{stripe}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
            else:
                yield True
        finally:
            os.close(descriptor)  # releases the flock
        return
    lock = f"{key}:rebuilding"
    mine = cache.add(lock, 1, timeout=max(1, settings.PAGE_CACHE_STALE_SECONDS))
    try:
        yield mine
    finally:
        if mine:
            cache.delete(lock)


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
        cache = data_cache()
        key = page_key(request)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            generation = current_generation()
        stored = found.get(key)
        if stored is not None and stored[0] == generation:
            return self._serve(request, stored)
        if stored is not None and _may_serve_outdated(request, stored):
            if cache.get(rebuilt_key(key)) is not None:
                return self._serve(request, stored, outdated=True)  # rebuilt a moment ago
            with rebuild_lock(key, cache) as mine:
                if not mine:
                    # Another request is rebuilding it.
                    return self._serve(request, stored, outdated=True)
                try:
                    return self._build(request, cache, key, generation)
                finally:
                    cache.set(rebuilt_key(key), generation, timeout=rebuild_interval())
        return self._build(request, cache, key, generation)

    def _serve(self, request, stored, outdated=False):
        request.public_page = True  # what the view said when it built the page
        # An outdated page is not kept by HTTP caches (ccmtracker/httpcache.py): one that kept
        # it for max-age would show it for that long after the change.
        request.public_page_outdated = outdated
        response = stored[1]
        return get_conditional_response(request, etag=response.get("ETag"), response=response)

    def _build(self, request, cache, key, generation):
        response = self.get_response(request)
        if _storable(request, response):
            cache.set(key, (generation, response), settings.PAGE_CACHE_SECONDS)
        return response
