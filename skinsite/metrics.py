"""Prometheus metrics at /metrics (behind METRICS_TOKEN), correct with several web and worker processes.

Two kinds of series:

- **Counted as things happen** (request latency by route, email failures, upload-to-result time):
  prometheus_client objects. With `PROMETHEUS_MULTIPROC_DIR` set (`make run` and `make serve` set
  it), every process (each gunicorn worker, each Celery pool process) writes its values to a file
  there and /metrics adds them up (prometheus_client's multiprocess mode), so whichever gunicorn
  worker answers the scrape reports the whole machine. Without it, one process counts its own.
- **Computed at scrape time** from the database and the broker (analyses by status, refusals by
  reason, model version, queue lengths): the same answer from any process on any host. The apps
  that own those rows register a collector here (`register_collector`, from their AppConfig.ready),
  so this module imports no app. Each is one cheap query (grouped counts on indexed columns).

Every Django process imports this module (the web through its middleware, every worker through
inference's AppConfig.ready), so the email-failure receivers below are connected wherever email
tasks run. skinsite.requestlog's receivers are connected through LOGGING, which imports its filter.
"""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from celery import current_app
from celery.signals import task_failure, task_retry
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import ChannelError, OperationalError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "skinsite_http_request_duration_seconds",
    "Time to answer a request, by URL route (the pattern, not the path), method and status class.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EMAIL_FAILURES = Counter(
    "skinsite_email_failures_total",
    "Email tasks that failed: `retry` (will try again) or `gave_up` (the message was not sent).",
    ["task", "outcome"],
)
QUEUES = ("inference", "default", "email")


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    # The pattern keeps the label set small; unknown paths (scanners) all count as one.
    return match.route if match is not None and match.route else "unmatched"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") else "other"
        REQUEST_LATENCY.labels(_route(request), method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


@task_retry.connect
def _email_retried(sender: Any = None, request: Any = None, **kwargs: object) -> None:
    name = getattr(request, "task", None) or getattr(sender, "name", "")
    if name in settings.EMAIL_TASK_NAMES:
        EMAIL_FAILURES.labels(name, "retry").inc()


@task_failure.connect
def _email_failed(sender: Any = None, **kwargs: object) -> None:
    name = getattr(sender, "name", "")
    if name in settings.EMAIL_TASK_NAMES:
        EMAIL_FAILURES.labels(name, "gave_up").inc()


class QueueLengthCollector(Collector):
    """Messages waiting in each Celery queue, asked of the broker at scrape time."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("skinsite_broker_up", "1 when the broker answered this scrape.")
        lengths = GaugeMetricFamily("skinsite_celery_queue_length", "Messages waiting in a queue.", labels=["queue"])
        try:
            with current_app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                channel = connection.default_channel
                for queue in QUEUES:
                    try:
                        lengths.add_metric([queue], channel.queue_declare(queue=queue, passive=True).message_count)
                    except ChannelError:
                        lengths.add_metric([queue], 0)  # Redis drops an empty queue's key
            up.add_metric([], 1)
        except (OperationalError, OSError) as exc:
            logger.warning("Metrics: the broker did not answer (%s)", exc)
            up.add_metric([], 0)
            yield up
            return
        yield up
        yield lengths


# Filled by the apps' AppConfig.ready (see the module docstring), asked at every scrape.
_SCRAPED = CollectorRegistry(auto_describe=False)
_SCRAPED.register(QueueLengthCollector())


_REGISTERED: set[type] = {QueueLengthCollector}


def register_collector(collector: Collector) -> None:
    """Ask `collector` at every scrape (once per class: an AppConfig.ready run twice adds nothing)."""
    if type(collector) not in _REGISTERED:
        _REGISTERED.add(type(collector))
        _SCRAPED.register(collector)


def exposition() -> bytes:
    """Every series, in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(_SCRAPED)


def _authorised(request: HttpRequest) -> bool:
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {settings.METRICS_TOKEN}"
    return hmac.compare_digest(given.encode(), expected.encode())


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponseNotFound()  # off unless a token is set
    if not _authorised(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
