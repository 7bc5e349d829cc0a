"""A Redis cache that fails open: it holds rate-limit counts and results that can be computed
again (photo comparisons, keypoints), never data that exists nowhere else.

With Redis down or hung, Django's RedisCache raises on every throttled request, so the whole API
and the physicians' reports answer 500. Here each operation gives up (after the socket timeout in
settings), logs, and answers as an empty cache would: a read misses, a write is dropped, a counter
starts again. Requests then go through unthrottled until Redis is back, which is the lesser harm.
"""

import logging
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# At most one warning per this many seconds per process, not one per request.
_LOG_EVERY_SECONDS = 30.0


class FailOpenRedisCache(RedisCache):
    _last_warning = 0.0

    def _unreachable(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - FailOpenRedisCache._last_warning >= _LOG_EVERY_SECONDS:
            FailOpenRedisCache._last_warning = now
            logger.warning("Cache unreachable (%s: %s); rate limits are not enforced until it is back", operation, exc)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except _UNREACHABLE as exc:
            self._unreachable("get", exc)
            return default

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        try:
            return super().get_many(keys, version)
        except _UNREACHABLE as exc:
            self._unreachable("get_many", exc)
            return {}

    def has_key(self, key: str, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except _UNREACHABLE as exc:
            self._unreachable("has_key", exc)
            return False

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except _UNREACHABLE as exc:
            self._unreachable("add", exc)
            return False

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except _UNREACHABLE as exc:
            self._unreachable("set", exc)

    def set_many(
        self, data: dict[str, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        try:
            return super().set_many(data, timeout, version)
        except _UNREACHABLE as exc:
            self._unreachable("set_many", exc)
            return list(data)

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except _UNREACHABLE as exc:
            self._unreachable("touch", exc)
            return False

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except _UNREACHABLE as exc:
            self._unreachable("incr", exc)
            return delta  # a counter that starts again: under any limit

    def delete(self, key: str, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except _UNREACHABLE as exc:
            self._unreachable("delete", exc)
            return False

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except _UNREACHABLE as exc:
            self._unreachable("delete_many", exc)

    # RedisCache.clear returns its client's bool; the stubs declare only BaseCache.clear, which returns None.
    def clear(self) -> bool:  # type: ignore[override]
        try:
            return super().clear()  # type: ignore[return-value]
        except _UNREACHABLE as exc:
            self._unreachable("clear", exc)
            return False
