"""The generation of the public data: one value that every change moves, on commit.

Anything derived from the public data and kept for reuse — the shared page cache
(ccmtracker/pagecache.py), the costly figures that many pages show (`shared`), the ETags — is
filed under the generation it was built from, and is outdated the moment the generation moves.
The domain's write paths call `public_data_changed()` once per change; the bump happens once
per transaction, when it commits (a rolled-back change outdates nothing).
"""

import time

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

GENERATION_KEY = "public:generation"


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


def _bump():
    data_cache().set(GENERATION_KEY, _new_generation(), timeout=None)


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
