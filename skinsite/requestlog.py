"""One request id from the web request through the tasks it queues, and JSON log lines (LOG_FORMAT=json).

- `RequestIdMiddleware` takes the proxy's `X-Request-ID` when it looks like one (else makes one),
  keeps it for the request's log lines and answers it in `X-Request-ID`.
- A task queued during the request carries the id in its message headers (`before_task_publish`);
  the worker sets it again while the task runs (`task_prerun`), so the worker's lines carry it too.
- `RequestIdFilter` puts it on every log record as `request_id` ("-" outside any request or task);
  `JsonFormatter` writes one JSON object a line.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What a proxy's id may look like: anything else (too long, odd characters) is replaced, so a
# client cannot write into the logs.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        token = request_id.set(given if _VALID.match(given) else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response[HEADER] = request_id.get()
            return response
        finally:
            request_id.reset(token)


@before_task_publish.connect
def _id_into_the_message(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
    if headers is not None and request_id.get() != "-":
        headers.setdefault("request_id", request_id.get())


@task_prerun.connect
def _id_from_the_message(task: Any = None, **kwargs: object) -> None:
    # Custom headers land on the task's request (Celery's message protocol 2); some versions nest them.
    request = getattr(task, "request", None)
    given = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get("request_id")
    request_id.set(given if isinstance(given, str) and _VALID.match(given) else "-")


@task_postrun.connect
def _id_done(**kwargs: object) -> None:
    request_id.set("-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
