"""The scheduled backup (celery beat, only when BACKUP_SCHEDULE is on)."""

from celery import shared_task

from backups import services


@shared_task
def backup_periodic() -> str:
    """Write one archive into BACKUP_DIR and prune the old ones; returns the archive's path."""
    return str(services.backup_periodic().path)
