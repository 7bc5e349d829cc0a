"""Two deliveries of one analysis (a redelivery, a sweep's re-queue) never both run it.

Only a row left running longer than ANALYSIS_STALE_SECONDS (its worker died) is taken over.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference.models import Analysis
from inference.services import analysis_run

pytestmark = pytest.mark.django_db


def test_a_second_delivery_leaves_a_running_analysis_alone(photo, django_capture_on_commit_callbacks):
    # The first delivery claimed it a moment ago and is running the model now.
    Analysis.objects.filter(photo=photo).update(status="running", attempts=1, started_at=timezone.now())

    with django_capture_on_commit_callbacks() as queued:
        assert analysis_run(photo_id=photo.pk) is None

    analysis = photo.analyses.get()
    assert analysis.status == "running"
    assert analysis.attempts == 1  # not counted twice
    assert queued == []  # no second "analysis finished" email


def test_a_running_analysis_whose_worker_died_is_taken_over(photo, settings, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS + 60)
    Analysis.objects.filter(photo=photo).update(status="running", attempts=1, started_at=long_ago)

    with django_capture_on_commit_callbacks():
        analysis = analysis_run(photo_id=photo.pk)

    assert analysis is not None
    assert analysis.status in ("done", "not_assessable")
    assert analysis.attempts == 2
