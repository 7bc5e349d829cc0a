"""Celery tasks: thin wrappers that take ids and call `inference.services`."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from inference import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,  # a killed worker's message goes back to the queue
    autoretry_for=(OperationalError, InterfaceError),  # the database blinked
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT,
    time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT + 30,
)
def analyze_photo(self, photo_id: int, model_version: str | None = None) -> str | None:
    """Analyse one photo with one model version (idempotent; safe to deliver twice)."""
    try:
        analysis = services.analysis_run(photo_id=photo_id, model_version=model_version)
    except services.RetryableAnalysisError as exc:
        raise self.retry(exc=exc, countdown=5 * (self.request.retries + 1)) from exc
    return analysis.status if analysis else None


@shared_task
def sweep_stale_analyses() -> int:
    """Re-queue analyses that a lost message or a dead worker left behind."""
    return services.analyses_sweep()
