"""/healthz and /readyz, for load balancers and orchestrators: unauthenticated, cheap, and telling nothing.

- `/healthz`: the process answers (no database, no broker): restart it when this fails.
- `/readyz`: it can serve patients: the database, the broker, the cache and the photo storage
  answer, and a worker with the model loaded was seen within READY_WORKER_MAX_AGE seconds. Take
  it out of the load balancer while this fails. The body says only "ready" or "not ready"; which
  check failed, and why, goes to the log.

The worker check lives with the rows it reads (inference registers it with `register_check` in its
AppConfig.ready), so this module imports no app.
"""

import logging
import os
import time
from collections.abc import Callable

from celery import current_app
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Seconds the broker may take to accept a connection before /readyz calls it down.
BROKER_TIMEOUT = 2.0


class NotReady(Exception):
    """A readiness check's answer: this dependency cannot be used now."""


def database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        # The filesystem broker "connects" to anything: its folder must exist.
        folder = conn.transport_options.get("data_folder_in")
        if folder and not os.path.isdir(folder):
            raise NotReady(f"broker folder {folder} is missing")


def cache_check() -> None:
    # FailOpenRedisCache swallows errors (a down cache must not fail requests), so read back.
    value = str(time.time())
    cache.set("readyz:probe", value, 30)
    if cache.get("readyz:probe") != value:
        raise NotReady("the cache did not keep a value")


def storage() -> None:
    if isinstance(default_storage, FileSystemStorage):
        location = default_storage.location
        if not (os.path.isdir(location) or os.access(os.path.dirname(location), os.W_OK)):
            raise NotReady(f"media folder {location} is not there")
        if os.path.isdir(location) and not os.access(location, os.W_OK):
            raise NotReady(f"media folder {location} is not writable")
    else:
        default_storage.exists("readyz-probe")  # one HEAD request; raises when S3 cannot be reached


_CHECKS: dict[str, Callable[[], None]] = {
    "database": database,
    "broker": broker,
    "cache": cache_check,
    "storage": storage,
}


def register_check(name: str, check: Callable[[], None]) -> None:
    """Add a readiness check: a function that returns when all is well and raises when not."""
    _CHECKS[name] = check


def failing_checks() -> list[str]:
    """The names of the checks that fail now (each logged with its reason)."""
    failing = []
    for name, check in _CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 (any failure means "not ready"; the reason goes to the log only)
            logger.warning("Not ready: %s check failed: %s", name, exc)
            failing.append(name)
    return failing


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    if failing_checks():
        return HttpResponse("not ready\n", status=503, content_type="text/plain")
    return HttpResponse("ready\n", content_type="text/plain")
