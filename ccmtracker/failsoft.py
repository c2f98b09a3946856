"""Django's RedisCache, failing soft: a Redis outage makes the site slower, never down.

Every cache call that cannot reach Redis answers as a miss (`get` gives the default, `add`
False, writes are dropped), so the page cache serves pages uncached and nothing else that
reads the cache raises. The first failure is logged as one warning line (no traceback) and
the cache is then skipped for RETRY_SECONDS, so an outage costs one connection attempt per
process every few seconds rather than one per call. When Redis answers again, the keys this
process failed to write are deleted first: a value written before the outage (the page
cache's data generation, say) must not come back as current after data changed meanwhile.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5
# Failed writes remembered per process, to delete on recovery; beyond this they are counted.
MAX_REMEMBERED_KEYS = 10_000


class _Health:
    """One per Redis location and process, shared by the threads' backend instances."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.down = False
        self.stale_keys: set[str] = set()
        self.forgotten = 0


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        location = ",".join(self._servers)
        with _health_lock:
            self._health = _health.setdefault(location, _Health())

    # --- the outage state --------------------------------------------------------------------

    def _available(self) -> bool:
        health = self._health
        if not health.down:
            return True
        if time.monotonic() < health.down_until:
            return False
        return self._recover()

    def _failed(self, error: Exception | None, keys=()):
        """Mark Redis down (error: the failure just seen) and remember keys not written."""
        health = self._health
        with health.lock:
            for key in keys:
                if len(health.stale_keys) < MAX_REMEMBERED_KEYS:
                    health.stale_keys.add(key)
                else:
                    health.forgotten += 1
            if error is None:
                return
            health.down_until = time.monotonic() + RETRY_SECONDS
            first = not health.down
            health.down = True
        if first:
            logger.warning(
                "cache unavailable, serving uncached: %s: %s",
                type(error).__name__,
                error,
                extra={"event": "cache_unavailable"},
            )

    def _recover(self) -> bool:
        health = self._health
        with health.lock:
            stale = list(health.stale_keys)
        try:
            self._cache.get_client(write=True).ping()
            if stale:
                self._cache.delete_many(stale)
        except RedisError as error:
            self._failed(error)
            return False
        with health.lock:
            health.stale_keys.difference_update(stale)
            health.down = False
            forgotten, health.forgotten = health.forgotten, 0
        logger.warning(
            "cache available again; %d outdated keys deleted",
            len(stale),
            extra={"event": "cache_available", "forgotten_keys": forgotten},
        )
        return True

    def ping(self) -> bool:
        """Whether Redis answers now (for /readyz); never raises."""
        try:
            return bool(self._cache.get_client().ping())
        except RedisError:
            return False

    # --- the cache API, each call failing soft -----------------------------------------------

    def _read(self, call, fallback):
        if not self._available():
            return fallback
        try:
            return call()
        except RedisError as error:
            self._failed(error)
            return fallback

    def _write(self, call, keys, fallback, version):
        made = [self.make_key(key, version=version) for key in keys]
        if not self._available():
            self._failed(None, made)
            return fallback
        try:
            return call()
        except RedisError as error:
            self._failed(error, made)
            return fallback

    def get(self, key, default=None, version=None):
        parent = super()
        return self._read(lambda: parent.get(key, default, version), default)

    def get_many(self, keys, version=None):
        parent = super()
        return self._read(lambda: parent.get_many(keys, version), {})

    def has_key(self, key, version=None):
        parent = super()
        return self._read(lambda: parent.has_key(key, version), False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._write(lambda: parent.add(key, value, timeout, version), [key], False, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._write(lambda: parent.set(key, value, timeout, version), [key], None, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._write(lambda: parent.touch(key, timeout, version), [key], False, version)

    def delete(self, key, version=None):
        parent = super()
        return self._write(lambda: parent.delete(key, version), [key], False, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        keys = list(data)
        return self._write(lambda: parent.set_many(data, timeout, version), keys, keys, version)

    def delete_many(self, keys, version=None):
        parent, keys = super(), list(keys)
        return self._write(lambda: parent.delete_many(keys, version), keys, None, version)

    def clear(self):
        parent = super()
        return self._read(parent.clear, False)
