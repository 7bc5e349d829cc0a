import contextlib
import os

import pytest

from inference.tests.worker import WorkerProcess, database_url


def _purge_queues() -> None:
    """Drop messages a previous run left in the broker, so this worker only sees ours."""
    from skinsite.celery import app

    with app.connection_for_write() as conn:
        for queue in ("default", "inference"):
            with contextlib.suppress(Exception):  # the queue may not exist yet
                conn.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def worker_media(tmp_path_factory):
    return tmp_path_factory.mktemp("worker-media")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, worker_media, tmp_path_factory):
    """A real `celery worker` process on the test database, for the whole session."""
    from django.db import connection

    mail_dir = tmp_path_factory.mktemp("worker-mail")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(worker_media),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "ANALYSIS_MAX_ATTEMPTS": "3",
    }
    _purge_queues()
    worker = WorkerProcess(env, tmp_path_factory.mktemp("worker-log") / "worker.log").start()
    worker.mail_dir = mail_dir
    yield worker
    worker.stop()


@pytest.fixture
def shared_media(settings, celery_worker, worker_media):
    """Point this test's storage at the folder the worker reads photos from."""
    settings.MEDIA_ROOT = worker_media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": worker_media}},
    }
    return worker_media
