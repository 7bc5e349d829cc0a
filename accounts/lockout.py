"""Brute-force limit on password log-ins: per client address and per account, in the cache.

After `LOGIN_FAILURE_LIMIT` wrong passwords (or two-factor codes) for one account, or
`LOGIN_FAILURE_LIMIT_PER_ADDRESS` from one client address, within `LOGIN_LOCKOUT_SECONDS`,
log-in is refused for `LOGIN_LOCKOUT_SECONDS`, even with the right password; the lock then
expires by itself. Why the cache and not django-axes: the project already counts API requests
there (one place to point at Redis with several processes), and the web forms, the admin and
the API token endpoint share these few functions. The counters fail open with the cache.

An attacker can lock a victim's account for a while this way; the password reset still works.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from skinsite.ratelimit import client_address, hashed

logger = logging.getLogger(__name__)


def _subjects(request: HttpRequest, email: str) -> list[tuple[str, int]]:
    return [
        (f"login:addr:{client_address(request)}", settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
        (f"login:acct:{hashed(email)}", settings.LOGIN_FAILURE_LIMIT),
    ]


def login_locked_for(*, request: HttpRequest, email: str) -> int:
    """Seconds until log-in to `email` from this client may be tried again; 0 when it may now."""
    now = time.time()
    try:
        until = cache.get_many([f"{key}:locked" for key, _ in _subjects(request, email)]).values()
    except Exception:
        logger.warning("Log-in lock-out cache unavailable", exc_info=True)
        return 0
    return max([int(u - now) + 1 for u in until if u > now], default=0)


def login_failure_record(*, request: HttpRequest, email: str) -> int:
    """Count a wrong password or code; the seconds of the lock this failure started (0 if none)."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    locked = 0
    try:
        for key, limit in _subjects(request, email):
            cache.add(f"{key}:failures", 0, timeout=window)
            if cache.incr(f"{key}:failures") >= limit:
                cache.set(f"{key}:locked", time.time() + window, timeout=window)
                cache.delete(f"{key}:failures")  # a fresh count once the lock expires
                locked = window
    except Exception:
        logger.warning("Log-in lock-out cache unavailable", exc_info=True)
    return locked


def login_success_record(*, request: HttpRequest, email: str) -> None:
    """The account's own count starts again (the address's does not: it may be guessing others)."""
    try:
        cache.delete(f"login:acct:{hashed(email)}:failures")
    except Exception:
        logger.warning("Log-in lock-out cache unavailable", exc_info=True)


def locked_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        f"Too many failed log-ins. For your account's safety, log-in is locked for {minutes} "
        f"minute{'s' if minutes != 1 else ''}. Forgot your password? Reset it by email meanwhile."
    )
