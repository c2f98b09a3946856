"""The generation of the public data: one value that every change moves, on commit.

Anything derived from the public data and kept for reuse — the shared page cache
(ccmtracker/pagecache.py), the costly figures that many pages show (`shared`), the ETags — is
filed under the generation it was built from, and is outdated the moment the generation moves.
The domain's write paths call `public_data_changed()` once per change; the bump happens once
per transaction, when it commits (a rolled-back change outdates nothing).

A generation is the time it began (hexadecimal nanoseconds), and each bump notes, for a few
seconds, which generation replaced the one before: `outdated_at` says since when a generation
has been outdated, so that the page cache can serve an outdated page for a bounded few seconds
(PAGE_CACHE_STALE_SECONDS) while one worker rebuilds it, and never longer.
"""

import time

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

GENERATION_KEY = "public:generation"
# {generation: the generation that replaced it (so: when it was outdated)} for the last few
# seconds' changes. One small entry, not one per change: the file cache evicts at random once
# it holds 300 entries, and a stream of writes must not push the pages (or this) out.
OUTDATED_KEY = "public:outdated"


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
    replaced_by = (data_cache().get(OUTDATED_KEY) or {}).get(generation)
    return generation_time(replaced_by or generation)


def _record_outdated(cache, old: str, new: str):
    """Note that `new` replaced `old`; forget what is older than any page may be served
    outdated. Two bumps at once may each drop the other's note: outdated_at then falls back
    on the generation's start, which only shortens the time its pages are served."""
    keep = settings.PAGE_CACHE_STALE_SECONDS + 5
    now = generation_time(new)
    records = {
        generation: replaced_by
        for generation, replaced_by in (cache.get(OUTDATED_KEY) or {}).items()
        if now - (generation_time(replaced_by) or 0) <= keep
    }
    records.setdefault(old, new)
    cache.set(OUTDATED_KEY, records, timeout=keep + 60)


def _bump():
    cache = data_cache()
    old = cache.get(GENERATION_KEY)
    new = _new_generation()
    cache.set(GENERATION_KEY, new, timeout=None)
    if old is not None:
        _record_outdated(cache, old, new)


def public_data_changed():
    """Outdate every stored public page once the current transaction commits (at once
    outside a transaction). However many rows a change writes, it bumps once."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        here = set(connection.savepoint_ids)
        if any(func is _bump and sids == here for sids, func, _robust in connection.run_on_commit):
            return  # already due when this block commits
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
