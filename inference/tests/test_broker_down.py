"""Redis (the broker) down when a photo is uploaded: the photo is kept, the answer is not a 500,
and the sweep queues the analysis once the broker is back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import lesion_image_paths, upload
from faults.silent import SilentServer, free_port
from inference.services import analyses_sweep
from lesions.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs at the real commit, as in production


def _point_broker_at(port: int):
    """Aim the Celery app at a Redis on `port` (the app read its settings once, at first use)."""
    from skinsite.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    return saved


def _restore(saved) -> None:
    from skinsite.celery import app

    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = saved
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    saved = _point_broker_at(free_port())
    yield
    _restore(saved)


@pytest.fixture
def broker_hung():
    with SilentServer() as server:
        saved = _point_broker_at(server.port)
        yield server
        _restore(saved)


def _upload_over_api(api_alice, lesion) -> tuple[int, dict]:
    image = lesion_image_paths()[0].read_bytes()
    response = api_alice.post(f"/api/lesions/{lesion.pk}/photos/", {"image": upload(image)}, format="multipart")
    return response.status_code, response.json()


def test_api_upload_with_the_broker_down_is_accepted_and_kept(api_alice, lesion, broker_down, caplog):
    status, body = _upload_over_api(api_alice, lesion)
    assert status == 202, body
    photo = Photo.objects.get(pk=body["id"])
    assert photo.analyses.get().status == "pending"
    assert photo.image.storage.exists(photo.image.name)
    assert "the sweep will queue it" in caplog.text


def test_web_upload_with_the_broker_hung_answers_within_seconds(client_alice, lesion, broker_hung):
    import time

    started = time.monotonic()
    image = lesion_image_paths()[1].read_bytes()
    response = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(image)})
    assert response.status_code == 302
    assert broker_hung.accepted >= 1
    assert time.monotonic() - started < 30
    assert lesion.photos.count() == 1


def test_the_sweep_queues_what_could_not_be_sent(api_alice, lesion, broker_down, django_capture_on_commit_callbacks):
    _, body = _upload_over_api(api_alice, lesion)
    photo = Photo.objects.get(pk=body["id"])
    # The sweep runs in the worker's beat; it finds the never-queued row once it is stale, and
    # with the broker still down it neither crashes nor gives the row up.
    later = timezone.now() + timedelta(hours=1)
    assert analyses_sweep(now=later) == 1
    assert photo.analyses.get().status == "pending"


def test_the_settings_give_up_on_a_dead_or_hung_redis_broker_within_seconds():
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    probe = (
        "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'skinsite.settings'; django.setup()\n"
        "from django.conf import settings; print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "REDIS_URL")}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env=env | {"REDIS_URL": "redis://127.0.0.1:6399/0"},
        capture_output=True,
        text=True,
        check=True,
    )
    options = json.loads(out.stdout.strip().splitlines()[-1])
    assert 0 < options["socket_connect_timeout"] <= 5
    assert 0 < options["socket_timeout"] <= 5
