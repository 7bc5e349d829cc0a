"""Fixtures shared by every app's tests: alice and bob, their clients, lesions and photos.

Tests that need a real Celery worker use the `celery_worker` and `shared_media` fixtures below (a
real process, `inference/tests/worker.py`, against the same database and broker). They live here,
not in one app's conftest, so every app's tests share one worker per session: two workers with
different media folders would each take half the messages and miss half the photos.
"""

import contextlib
import io
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from inference.tests.worker import WorkerProcess, database_url

BASE_DIR = Path(__file__).resolve().parent
TESTDATA = BASE_DIR / "testdata" / "ham10000"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Every test writes photos to its own folder, never into var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_api_throttles(settings):
    """API rate limits count in the cache: each test starts from zero, in its own memory cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def alice(db):
    from accounts.models import User

    # Confirmed, as most accounts are: an unconfirmed one may not share or get emails (tests that
    # need one set email_confirmed=False).
    return User.objects.create_user(
        email="alice@example.com", password=PASSWORD, display_name="Alice", email_confirmed=True
    )


@pytest.fixture
def bob(db):
    from accounts.models import User

    return User.objects.create_user(
        email="bob@example.com", password=PASSWORD, display_name="Bob", email_confirmed=True
    )


@pytest.fixture
def verified_login():
    """Log `user` in on `client` as the full log-in flow would (two-factor step included)."""

    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def login(client, user):
        device = TOTPDevice.objects.create(user=user, name="test app", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


def _api_client(user) -> APIClient:
    from accounts.tokens import token_create

    api = APIClient()
    _, key = token_create(user=user, name="test client")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def api_alice(alice) -> APIClient:
    return _api_client(alice)


@pytest.fixture
def api_bob(bob) -> APIClient:
    return _api_client(bob)


def lesion_image_paths() -> list[Path]:
    """The committed real HAM10000 test images (see testdata/ham10000/ATTRIBUTION.md)."""
    return sorted(TESTDATA.glob("*.jpg"))


def lesion_image(name: str) -> bytes:
    """One committed HAM10000 test image's bytes, by file name (`ISIC_0024314.jpg`)."""
    return (TESTDATA / name).read_bytes()


def jpeg_bytes(size=(200, 150), color=(180, 120, 100), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def upload(data: bytes, name: str = "mole.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


CHANGE_PAIR = BASE_DIR / "testdata" / "change_pair" / "ISIC_0025555.jpg"  # a 2nd image of ISIC_0024317's lesion


def grown_and_darkened(data: bytes) -> bytes:
    """The photo edited as if its lesion had grown about seven-fold and darkened (for change alerts).

    The lesion's outline (measurement.segmentation) is widened by 45 px with lobes, and the
    lesion darkened to near black; the skin around it is untouched, so the photos still align.
    """
    import numpy as np
    from scipy import ndimage

    from measurement.segmentation import segment_lesion

    image = Image.open(io.BytesIO(data)).convert("RGB")
    pixels = np.asarray(image).astype(float)
    mask = segment_lesion(image).mask
    rows, cols = np.mgrid[: mask.shape[0], : mask.shape[1]]
    angle = np.arctan2(rows - mask.shape[0] / 2, cols - mask.shape[1] / 2)
    grown = (ndimage.binary_dilation(mask, iterations=45) & (np.sin(angle * 3) > -0.6)) | ndimage.binary_dilation(
        mask, iterations=12
    )
    pixels[grown] *= 0.25
    pixels[mask] *= 0.35 / 0.25
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, format="JPEG", quality=92)
    return out.getvalue()


@pytest.fixture
def real_image_bytes() -> bytes:
    """A real dermoscopy image when the test images are present, else a plain JPEG."""
    paths = lesion_image_paths()
    return paths[0].read_bytes() if paths else jpeg_bytes()


def finish_analysis(photo, *, status: str = "done", **probabilities: float):
    """Mark the photo's analysis as the worker would: done with probabilities, or failed."""
    from inference.models import Analysis
    from training.contract import CLASSES

    analysis = photo.analyses.get()
    if status == "failed":
        analysis.status = Analysis.Status.FAILED
        analysis.error = "The stored photo could not be read."
        analysis.save()
        return analysis
    values = dict.fromkeys(CLASSES, 0.0) | (probabilities or {"nv": 0.8, "bkl": 0.1, "mel": 0.1})
    for code, p in values.items():
        setattr(analysis, f"p_{code}", p)
    analysis.predicted_class = max(values, key=values.get)
    analysis.malignant_probability = values["akiec"] + values["bcc"] + values["mel"]
    analysis.status = Analysis.Status.DONE
    analysis.save()
    return analysis


@pytest.fixture
def lesion(alice):
    from lesions import services

    return services.lesion_create(owner=alice, name="Left shoulder", body_site="back")


@pytest.fixture
def pair(lesion):
    """Two analysed photos of alice's lesion, half a year apart, the later one grown and darkened (no
    model run: the comparison measures photos whose analysis has no measures itself)."""
    from lesions import services

    march = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
    original = lesion_image("ISIC_0024314.jpg")
    first = services.photo_create(lesion=lesion, upload=upload(original), taken_at=march)
    later = services.photo_create(
        lesion=lesion, upload=upload(grown_and_darkened(original)), taken_at=march + timedelta(days=180)
    )
    finish_analysis(first)
    finish_analysis(later)
    return first, later


@pytest.fixture
def photo(lesion, real_image_bytes):
    """A stored photo of alice's lesion with a pending analysis (no task is sent)."""
    from lesions import services

    return services.photo_create(lesion=lesion, upload=upload(real_image_bytes))


@pytest.fixture
def done_photo(photo):
    """Alice's photo with a finished analysis (nevus 80%, benign keratosis 10%, melanoma 10%)."""
    finish_analysis(photo)
    return photo


@pytest.fixture
def share(alice, lesion, django_capture_on_commit_callbacks):
    """A live link to alice's lesion for dr@clinic.example, and its raw token (no email sent)."""
    from sharing import services as sharing_services

    with django_capture_on_commit_callbacks():
        link, token = sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="dr@clinic.example"
        )
    link.token = token  # handy in tests; never stored
    return link


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
def measured_again(eager_tasks, django_capture_on_commit_callbacks):
    """`with measured_again():` around a scale marked, a coin picked or a dermatoscope chosen or set up:
    what it queues once it commits (inference.tasks.remeasure_size) runs then, in this process, as the
    worker runs it. Without it the photo's size stays "measuring again" (a test's transaction never commits).
    Keep uploads out of the block: their analysis would run too."""
    import inference.tasks  # noqa: F401 - registers the task the service queues by name, so it runs eagerly

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


# --- A real Celery worker (moved here from inference/tests/conftest.py) -------------------------


def _purge_queues() -> None:
    """Drop messages a previous run left in the broker, so this worker only sees ours."""
    from skinsite.celery import app

    with app.connection_for_write() as conn:
        for queue in ("default", "inference", "email"):
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
        # One "analysis ready" email gathers what finished within this window (60 s by default):
        # the tests wait for that email, so they gather over 2 s.
        "ANALYSIS_EMAIL_BATCH_SECONDS": "2",
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


def open_report(client, token: str) -> str:
    """Follow a report link as a physician would: the token opens a report session on `client`.

    Returns the report's address without the token ("/report/<id>/"); for a token that opens
    nothing (404, 410, 429) the token's own address, so the test sees that answer.
    """
    response = client.get(f"/r/{token}/")
    return response["Location"] if response.status_code == 302 else f"/r/{token}/"
