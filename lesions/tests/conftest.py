"""Fixtures for the sharing, report, email and reminder tests (the root conftest has the users)."""

import pytest
from django.core.cache import cache

from conftest import finish_analysis
from lesions.models import Photo


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The report rate limits count in the cache, which outlives a test: start each from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in this process while the test lasts, so their emails land in mail.outbox.

    The Celery app read its configuration when it was first used, so the `settings` fixture
    would not reach it; this flips the app's own switch and puts it back.
    """
    from skinsite.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def done_photo(photo) -> Photo:
    """Alice's photo with a finished analysis (nevus 80%, benign keratosis 10%, melanoma 10%)."""
    finish_analysis(photo)
    return photo


@pytest.fixture
def share(alice, lesion, django_capture_on_commit_callbacks):
    """A live link to alice's lesion for dr@clinic.example, and its raw token (no email sent)."""
    from lesions import sharing

    with django_capture_on_commit_callbacks():
        link, token = sharing.share_link_create(owner=alice, lesion=lesion, physician_email="dr@clinic.example")
    link.token = token  # handy in tests; never stored
    return link
