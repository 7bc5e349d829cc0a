"""Who is asking (the client address behind our proxies) and fixed-window counters in the cache.

One definition of the client address for the API throttles, the web forms' limits and the
log-in lock-out: DRF's, which trusts exactly `API_NUM_PROXIES` hops of X-Forwarded-For, so a
client cannot dodge a limit by sending a header of its own.

The counters fail open: if the cache (Redis) is down, requests go through and a warning is
logged, instead of every log-in answering 500.
"""

import hashlib
import logging
import time

from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle
from rest_framework.throttling import SimpleRateThrottle as BaseRateThrottle

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The client's address, as the API throttles see it."""
    # The stubs ask for DRF's Request; get_ident reads only `request.META`, which Django's request has.
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]


def hashed(value: str) -> str:
    """A cache key part that keeps email addresses out of the cache's keys."""
    return hashlib.sha256(value.lower().encode()).hexdigest()[:32]


def hit(key: str, *, window: int) -> int:
    """Count one event in `key`'s current window of `window` seconds; the count so far (0 if the cache failed)."""
    bucket = f"rl:{key}:{int(time.time() // window)}"
    try:
        cache.add(bucket, 0, timeout=window * 2)
        try:
            return cache.incr(bucket)
        except ValueError:  # evicted between add and incr
            cache.set(bucket, 1, timeout=window * 2)
            return 1
    except Exception:
        logger.warning("Rate-limit cache unavailable; %s not counted", key, exc_info=True)
        return 0


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one event; True once more than `limit` happened in this window."""
    return hit(key, window=window) > limit


def rate_exceeded(key: str, rate: str) -> bool:
    """Count one event against a DRF-style rate ("10/hour"); True once it is exceeded."""
    limit, window = _parse_rate(rate)
    return over_limit(key, limit=limit, window=window)


def _parse_rate(rate: str) -> tuple[int, int]:
    """DRF's reading of a rate ("10/hour": 10 events in 3600 seconds), so it means here what it means to the API."""
    # parse_rate reads nothing of its instance, and __init__ would look up a throttle scope's rate in settings.
    throttle = BaseRateThrottle.__new__(BaseRateThrottle)
    limit, window = throttle.parse_rate(rate)
    assert limit is not None and window is not None  # None only for a None rate
    return limit, window
