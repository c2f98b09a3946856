"""The generation of the public data: one value that every change moves, on commit.

Anything derived from the public data and kept for reuse — the shared page cache
(ccmtracker/pagecache.py), the costly figures that many pages show (`shared`), the ETags — is
filed under the generation it was built from, and is outdated the moment the generation moves.
The domain's write paths call `public_data_changed()` once per change; the bump happens once
per transaction, when it commits (a rolled-back change outdates nothing).

A generation is the time it began (hexadecimal nanoseconds), and each bump records, for a few
seconds, which generation replaced the one before: `outdated_at` says since when a generation
has been outdated, so that the page cache can serve an outdated page for a bounded few seconds
(PAGE_CACHE_STALE_SECONDS) while one worker rebuilds it, and never longer.
"""

import time

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

GENERATION_KEY = "public:generation"
# public:outdated:<generation> -> the generation that replaced it (so: when it was outdated).
OUTDATED_PREFIX = "public:outdated:"


def data_cache():
    return caches[settings.PAGE_CACHE_ALIAS]


def _new_generation():
    return f"{time.time_ns():x}"


def current_generation() -> str:
    """The generation of the public data now; created when the cache has none."""
    cache = data_cache()
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, _new_generation(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def generation_time(generation: str) -> float | None:
    """When a generation began, in seconds since the epoch (None if it is no time)."""
    try:
        return int(generation, 16) / 1e9
    except (TypeError, ValueError):
        return None


def outdated_at(generation: str) -> float | None:
    """Since when `generation` has been outdated (seconds since the epoch), or no later than
    that: when the record of its replacement is missing (expired, evicted, or two bumps raced)
    the generation's own start, which can only make a page look outdated for longer than it is."""
    replaced_by = data_cache().get(OUTDATED_PREFIX + generation)
    if replaced_by is not None:
        return generation_time(replaced_by)
    return generation_time(generation)


def _bump():
    cache = data_cache()
    old = cache.get(GENERATION_KEY)
    new = _new_generation()
    cache.set(GENERATION_KEY, new, timeout=None)
    if old is not None:
        # Kept a minute past the longest an outdated page may be served; `add`, so that of two
        # bumps racing the earlier record stays.
        cache.add(OUTDATED_PREFIX + old, new, timeout=settings.PAGE_CACHE_STALE_SECONDS + 60)


def public_data_changed():
    """Outdate every stored public page once the current transaction commits (at once
    outside a transaction). However many rows a change writes, it bumps once."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _bump for _sids, func, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_bump)


def shared(name: str, compute):
    """compute() once per generation of the public data, for every worker: a costly figure
    that many pages show (the dashboard's progress history, the same in every language and
    for every filter). Off when the page cache is off, so "uncached" stays honest."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return compute()
    cache = data_cache()
    # The generation is read before the data, so a value is never filed under a newer one.
    key = f"shared:{current_generation()}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    return value
