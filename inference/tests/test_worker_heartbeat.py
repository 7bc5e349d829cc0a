"""A real worker that loaded the model makes /readyz ready, through its heartbeat.

(Without one, or with a stale one, /readyz fails: skinsite/tests/test_health.py, without a worker
whose next heartbeat could race the assertion.)
"""

import pytest

from inference.models import WorkerHeartbeat
from inference.services import current_model_version
from inference.tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_running_worker_with_the_model_makes_readyz_ready(client, celery_worker, settings):
    # Rows are flushed between tests; the worker writes its heartbeat again within WORKER_HEARTBEAT_SECONDS.
    wait_for(
        lambda: WorkerHeartbeat.objects.exists(),
        timeout=settings.WORKER_HEARTBEAT_SECONDS * 3 + 60,
        interval=0.5,
        what="the worker's heartbeat",
    )
    assert list(WorkerHeartbeat.objects.values_list("model_version", flat=True).distinct()) == [current_model_version()]
    assert client.get("/readyz").status_code == 200
