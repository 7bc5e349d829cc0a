"""Celery tasks: thin wrappers that take ids and call `inference.services`."""

import logging
import os
import socket
import threading
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections

from inference import services

logger = logging.getLogger(__name__)


@worker_process_init.connect
def _load_model_before_the_first_task(**kwargs: object) -> None:
    """Load TensorFlow and the model, and trace the graph, when a pool process starts.

    Each process keeps its model (inference.engine caches it), so this runs once per process. A
    missing or broken model must not keep the worker from starting: the analyses then fail with
    a readable reason instead.
    """
    if not settings.INFERENCE_PRELOAD_MODEL:
        return  # a worker that only sends emails (make serve, docker/compose.yml)
    from PIL import Image

    from inference.engine import get_classifier

    try:
        classifier = get_classifier(settings.MODEL_DIR)
        # The first forward pass and the first Grad-CAM each trace a graph (seconds); do both now.
        sample = Image.new("RGB", (classifier.input_size,) * 2, (150, 110, 90))
        classifier.predict_batch([sample])
        classifier.heatmap(sample)
    except Exception:
        logger.exception("Could not preload the model from %s", settings.MODEL_DIR)
        return  # no heartbeat: /readyz reports no worker with a model
    _start_heartbeat(classifier.version)


def _heartbeat_forever(name: str, model_version: str) -> None:
    while True:
        try:
            services.worker_heartbeat_record(name=name, model_version=model_version)
        except DatabaseError as exc:
            logger.warning("Could not record the worker heartbeat: %s", exc)
        finally:
            close_old_connections()  # this thread's own connection: never keep a broken one
        threading.Event().wait(settings.WORKER_HEARTBEAT_SECONDS)


def _start_heartbeat(model_version: str) -> None:
    """Tell /readyz, every WORKER_HEARTBEAT_SECONDS, that this process is alive with its model loaded.

    A thread, not a periodic task: a task would wait behind a long inference queue, and a busy
    worker would look dead.
    """
    name = f"{socket.gethostname()}:{os.getpid()}"
    threading.Thread(target=_heartbeat_forever, args=(name, model_version), name="heartbeat", daemon=True).start()


# A photo's task survives a killed worker (its message goes back to the queue) and a database blink
# (retried with back-off), within the analysis time limits.
DURABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 5,
    "soft_time_limit": settings.ANALYSIS_SOFT_TIME_LIMIT,
    "time_limit": settings.ANALYSIS_SOFT_TIME_LIMIT + 30,
}


@shared_task(bind=True, **DURABLE)
def analyze_photo(self: Task, photo_id: int, model_version: str | None = None) -> str | None:
    """Analyse one photo with one model version (idempotent; safe to deliver twice)."""
    try:
        analysis = services.analysis_run(photo_id=photo_id, model_version=model_version)
    except services.RetryableAnalysisError as exc:
        raise self.retry(exc=exc, countdown=5 * (self.request.retries + 1)) from exc
    return analysis.status if analysis else None


@shared_task(**DURABLE)
def remeasure_size(photo_id: int) -> int | None:
    """Measure one photo's size in mm again after its scale changed (idempotent; safe to deliver twice)."""
    return services.size_remeasure_run(photo_id=photo_id)


@shared_task
def sweep_stale_analyses() -> int:
    """Re-queue analyses, and sizes being measured again, that a lost message or a dead worker left behind."""
    return services.analyses_sweep() + services.size_remeasure_sweep()
