"""Browser flows: a real Chromium against a live server, and the real Celery worker process."""

from inference.tests.conftest import celery_worker, shared_media, worker_media  # noqa: F401 - fixtures
