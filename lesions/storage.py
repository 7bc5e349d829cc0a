"""Photo, thumbnail and heatmap files in storage, kept in step with the rows that point at them.

Files leave storage after their rows are deleted (lesions.receivers), but a
storage error at that moment, a heatmap written before its row was saved, or a commit that fails
after `photo_create` wrote its files would leave files that no row points at. So deletion is
retried by a task (lesions.tasks.delete_stored_files), and a periodic reconciliation
(lesions.tasks.reconcile_storage, also `manage.py storage_orphans`) removes whatever is left:
files under our folders that no row names, older than STORAGE_ORPHAN_GRACE_HOURS (a file written
by a transaction still in flight is younger than that).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from inference.models import Analysis
from lesions.models import Photo

logger = logging.getLogger(__name__)

# Where lesions.models and inference.models put their files (random names under these folders).
FOLDERS = ("photos", "thumbnails", "heatmaps")


def stored_files_delete(*, names: list[str]) -> list[str]:
    """Delete these storage keys; returns the ones that could not be deleted (to retry).

    A key already gone counts as deleted, so a retry or a second delivery is harmless.
    """
    failed = []
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.warning("Could not delete %s from storage; will retry", name, exc_info=True)
            failed.append(name)
    return failed


@dataclass(frozen=True)
class StoredFile:
    name: str
    modified_at: datetime


def _stored_files() -> list[StoredFile]:
    files = []
    for folder in FOLDERS:
        try:
            _, names = default_storage.listdir(folder)
        except FileNotFoundError:
            continue  # nothing was ever stored there
        for filename in names:
            name = f"{folder}/{filename}"
            files.append(StoredFile(name=name, modified_at=default_storage.get_modified_time(name)))
    return files


def storage_orphans(*, now: datetime | None = None, grace: timedelta | None = None) -> list[StoredFile]:
    """Files under our folders that no photo or analysis names, older than the grace period.

    Storage is listed before the database is read: a file whose row commits in between is then
    either too young to be listed as an orphan or already named by its row.
    """
    now = now or timezone.now()
    grace = grace if grace is not None else timedelta(hours=settings.STORAGE_ORPHAN_GRACE_HOURS)
    old_files = [f for f in _stored_files() if f.modified_at <= now - grace]
    if not old_files:
        return []
    known: set[str] = set()
    for image, thumbnail in Photo.objects.values_list("image", "thumbnail").iterator():
        known.update((image, thumbnail))
    known.update(Analysis.objects.exclude(heatmap="").values_list("heatmap", flat=True).iterator())
    return [f for f in old_files if f.name not in known]


def storage_orphans_delete(*, now: datetime | None = None, grace: timedelta | None = None) -> list[str]:
    """Remove the orphans `storage_orphans` finds; returns the names removed."""
    orphans = [f.name for f in storage_orphans(now=now, grace=grace)]
    failed = stored_files_delete(names=orphans)
    removed = [name for name in orphans if name not in failed]
    if removed:
        logger.info("Removed %d orphaned files from storage", len(removed))
    return removed
