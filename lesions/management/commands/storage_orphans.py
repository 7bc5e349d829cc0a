"""Report (and with --delete remove) stored files that no photo or analysis names.

The same reconciliation celery beat runs daily (lesions.tasks.reconcile_storage); this is for an
operator who wants to see what it would do, or to run it now.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from lesions import storage


class Command(BaseCommand):
    help = "List stored photo, thumbnail and heatmap files that no row names; --delete removes them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="Remove the orphans found.")
        parser.add_argument(
            "--grace-hours",
            type=int,
            default=settings.STORAGE_ORPHAN_GRACE_HOURS,
            help="Only files older than this (default STORAGE_ORPHAN_GRACE_HOURS).",
        )

    def handle(self, *args: Any, delete: bool, grace_hours: int, **options: Any) -> None:
        grace = timedelta(hours=grace_hours)
        orphans = storage.storage_orphans(grace=grace)
        for orphan in orphans:
            self.stdout.write(f"{orphan.name}\t{orphan.modified_at:%Y-%m-%d %H:%M}")
        if not delete:
            self.stdout.write(f"{len(orphans)} orphaned files (run with --delete to remove them).")
            return
        removed = storage.storage_orphans_delete(grace=grace)
        self.stdout.write(f"Removed {len(removed)} of {len(orphans)} orphaned files.")
