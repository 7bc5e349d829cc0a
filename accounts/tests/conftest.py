import pytest


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in this process while the test lasts, so their emails land in mail.outbox."""
    from skinsite.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def sent_mail(eager_tasks, django_capture_on_commit_callbacks):
    """A context manager: what it wraps commits, and the emails queued meanwhile are sent."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
