"""No file is left behind: a failed storage delete is retried, and a reconciliation (beat task and
`manage.py storage_orphans`) removes files no row names, once they are older than the grace period."""

import os
import time
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services, tasks

pytestmark = pytest.mark.django_db


class FlakyStorage(FileSystemStorage):
    """A storage whose next `failures` deletes raise, as S3 or a network disk can."""

    failures = 0

    def delete(self, name):
        if FlakyStorage.failures:
            FlakyStorage.failures -= 1
            raise OSError("storage unavailable")
        return super().delete(name)


@pytest.fixture
def flaky_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.FlakyStorage", "OPTIONS": {"location": tmp_path / "media"}},
    }
    FlakyStorage.failures = 0
    yield FlakyStorage
    FlakyStorage.failures = 0


def _age(name: str, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(default_storage.path(name), (then, then))


def test_a_failed_delete_is_retried_until_the_files_are_gone(
    flaky_storage, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    heatmapped = finish_analysis(photo)
    heatmapped.heatmap.save("heatmap.jpg", ContentFile(jpeg_bytes()))
    names = [photo.image.name, photo.thumbnail.name, heatmapped.heatmap.name]
    assert all(default_storage.exists(name) for name in names)
    flaky_storage.failures = 1  # the delete right after the commit fails; the queued task's works
    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(photo=photo)  # answers normally although storage failed
    assert not any(default_storage.exists(name) for name in names)


def test_the_retry_task_keeps_failing_keys_and_succeeds_later(flaky_storage, lesion):
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    flaky_storage.failures = 1
    with pytest.raises(tasks.FilesNotDeleted):
        tasks.delete_stored_files.run([photo.image.name])
    assert default_storage.exists(photo.image.name)
    assert tasks.delete_stored_files.run([photo.image.name, "photos/already-gone.jpg"]) == 2
    assert not default_storage.exists(photo.image.name)


def test_reconciliation_removes_old_orphans_only(lesion, settings):
    settings.STORAGE_ORPHAN_GRACE_HOURS = 24
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    # A heatmap written before its row was saved, and a commit that failed after photo_create.
    orphan_heatmap = default_storage.save("heatmaps/left-behind.jpg", ContentFile(jpeg_bytes()))
    orphan_photo = default_storage.save("photos/rolled-back.jpg", ContentFile(jpeg_bytes()))
    young = default_storage.save("photos/in-flight.jpg", ContentFile(jpeg_bytes()))
    for name in (orphan_heatmap, orphan_photo, photo.image.name, photo.thumbnail.name):
        _age(name, hours=48)

    report = StringIO()
    call_command("storage_orphans", stdout=report)
    assert orphan_heatmap in report.getvalue() and orphan_photo in report.getvalue()
    assert "2 orphaned files" in report.getvalue()
    assert young not in report.getvalue() and photo.image.name not in report.getvalue()
    assert default_storage.exists(orphan_photo)  # reporting removes nothing

    assert tasks.reconcile_storage.run() == 2
    assert not default_storage.exists(orphan_heatmap) and not default_storage.exists(orphan_photo)
    assert default_storage.exists(young)
    assert default_storage.exists(photo.image.name) and default_storage.exists(photo.thumbnail.name)


def test_the_command_deletes_with_delete(lesion):
    orphan = default_storage.save("thumbnails/lost.jpg", ContentFile(jpeg_bytes()))
    _age(orphan, hours=48)
    out = StringIO()
    call_command("storage_orphans", "--delete", stdout=out)
    assert "Removed 1 of 1" in out.getvalue()
    assert not default_storage.exists(orphan)


def test_the_reconciliation_is_in_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["reconcile-storage"]
    assert entry["task"] == "lesions.tasks.reconcile_storage"
