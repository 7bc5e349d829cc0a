"""End to end through a real worker: upload → queue → worker → probabilities in the database.

These run against whatever database and broker the suite runs on (PostgreSQL and Redis in CI,
SQLite and the file-system broker on a bare machine), with a real `celery worker` process.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from conftest import jpeg_bytes, lesion_image_paths, upload
from inference.models import Analysis
from inference.services import analyses_sweep, current_model_version
from inference.tests.worker import wait_for
from lesions import services
from lesions.models import Photo
from training.contract import CLASSES

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _analysis(photo: Photo) -> Analysis:
    return Analysis.objects.get(photo=photo, model_version=current_model_version())


def _wait_finished(photo: Photo, timeout: float = 120) -> Analysis:
    return wait_for(
        lambda: (a := _analysis(photo)).is_finished and a,
        timeout=timeout,
        interval=0.2,
        what=f"the analysis of photo {photo.pk}",
    )


def test_uploaded_photo_is_analysed_by_the_worker(api_alice, shared_media, celery_worker):
    created = api_alice.post("/api/lesions/", {"name": "Back mole", "body_site": "back"}, format="json")
    lesion_id = created.json()["id"]
    image = lesion_image_paths()[0].read_bytes()

    started = time.monotonic()
    response = api_alice.post(f"/api/lesions/{lesion_id}/photos/", {"image": upload(image)}, format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["analysis"]["status"] == "pending"
    photo = Photo.objects.get(pk=response.json()["id"])

    analysis = _wait_finished(photo)
    elapsed = time.monotonic() - started
    assert analysis.status == "done", analysis.error
    assert sum(analysis.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert analysis.malignant_probability == pytest.approx(analysis.p_akiec + analysis.p_bcc + analysis.p_mel, abs=1e-6)
    assert analysis.predicted_class in CLASSES
    assert analysis.attempts == 1
    print(f"upload to finished analysis: {elapsed:.2f}s")

    body = api_alice.get(f"/api/photos/{photo.pk}/").json()
    assert body["analysis"]["status"] == "done"
    assert set(body["analysis"]["probabilities"]) == set(CLASSES)

    # The worker queued the patient's email and sent it (file backend): a real message to alice.
    def alice_mail() -> list[str]:
        texts = [p.read_text(errors="replace") for p in celery_worker.mail_dir.glob("*.log")]
        return [t for t in texts if "To: alice@example.com" in t and f"/lesions/{lesion_id}/" in t]

    mail = wait_for(alice_mail, timeout=60, what="the analysis-finished email")
    assert "they do not diagnose" in mail[0]


def test_worker_killed_mid_task_still_finishes_the_analysis(alice, shared_media, celery_worker):
    from inference.tasks import analyze_photo

    lesion = services.lesion_create(owner=alice, name="Arm", body_site="upper extremity")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[1].read_bytes()))
    _wait_finished(photo)
    Analysis.objects.filter(photo=photo).update(status="pending", attempts=0, finished_at=None, p_mel=None)
    analysis = _analysis(photo)

    # A second connection holds a write lock on the row, so the task blocks inside its first
    # database write: it is provably mid-task (received, running, nothing saved) when killed.
    locker = type(connections["default"])(dict(connection.settings_dict))  # own session, same database
    locker.set_autocommit(False)
    try:
        with locker.cursor() as cursor:
            cursor.execute("UPDATE lesions_analysis SET error = '' WHERE id = %s", [analysis.pk])
        log_before = len(celery_worker.log())
        analyze_photo.delay(photo.pk, analysis.model_version)
        wait_for(lambda: "analyze_photo[" in celery_worker.log()[log_before:], timeout=60, what="the task's receipt")
        time.sleep(2)  # let the child reach the lock
        killed = celery_worker.kill_child()
    finally:
        locker.rollback()
        locker.close()

    analysis = _wait_finished(photo)
    assert analysis.status == "done", analysis.error
    assert analysis.p_mel is not None
    log = celery_worker.log()[log_before:]
    assert "WorkerLostError" in log or f"pid:{killed}" in log, log


@pytest.mark.parametrize(
    "left_behind",
    [
        {"status": "pending", "attempts": 0},  # the message was lost (e.g. a broker restart)
        {"status": "running", "attempts": 1},  # the worker died and its message went with it
    ],
    ids=["lost-message", "dead-worker"],
)
def test_sweep_requeues_analyses_left_behind(left_behind, alice, shared_media, celery_worker):
    lesion = services.lesion_create(owner=alice, name="Leg", body_site="lower extremity")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[2].read_bytes()))
    _wait_finished(photo)
    long_ago = timezone.now() - timedelta(minutes=30)
    Analysis.objects.filter(photo=photo).update(
        **left_behind, queued_at=long_ago, started_at=long_ago, finished_at=None, p_mel=None
    )

    assert analyses_sweep() == 1
    analysis = _wait_finished(photo)
    assert analysis.status == "done", analysis.error
    assert analysis.p_mel is not None
    assert analysis.attempts == left_behind["attempts"] + 1


def test_a_photo_that_keeps_crashing_workers_ends_failed_with_a_reason(alice, shared_media, celery_worker):
    lesion = services.lesion_create(owner=alice, name="Neck", body_site="neck")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[3].read_bytes()))
    _wait_finished(photo)
    # Its previous runs all died: three attempts used, still "running".
    Analysis.objects.filter(photo=photo).update(
        status="running", attempts=3, started_at=timezone.now() - timedelta(hours=1), finished_at=None
    )
    assert analyses_sweep() == 1
    analysis = _wait_finished(photo)
    assert analysis.status == "failed"
    assert "stopped 3 times" in analysis.error
    assert Photo.objects.filter(pk=photo.pk).exists()  # the photo is kept


def test_a_missing_photo_file_fails_with_a_readable_reason(alice, shared_media, celery_worker):
    lesion = services.lesion_create(owner=alice, name="Chest", body_site="chest")
    with transaction.atomic():
        photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[4].read_bytes()))
        photo.image.storage.delete(photo.image.name)
    analysis = _wait_finished(photo)
    assert analysis.status == "failed"
    assert "missing" in analysis.error


def test_a_photo_that_is_not_a_lesion_ends_not_assessable(api_alice, shared_media, celery_worker):
    created = api_alice.post("/api/lesions/", {"name": "Holiday", "body_site": "back"}, format="json")
    image = jpeg_bytes(size=(640, 480), color=(200, 200, 200))  # a blank grey frame
    response = api_alice.post(
        f"/api/lesions/{created.json()['id']}/photos/", {"image": upload(image)}, format="multipart"
    )
    assert response.status_code == 202, response.content
    analysis = _wait_finished(Photo.objects.get(pk=response.json()["id"]))
    assert analysis.status == "not_assessable"
    assert analysis.error and analysis.probabilities is None
    body = api_alice.get(f"/api/photos/{analysis.photo_id}/").json()["analysis"]
    assert (body["status"], body["error"]) == ("not_assessable", analysis.error)
