"""Write one dated archive of the database and every stored file (see backups.services)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from backups import services


class Command(BaseCommand):
    help = "Back up the database and every stored photo and heatmap into one archive in BACKUP_DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="Folder (default BACKUP_DIR).")
        parser.add_argument(
            "--prune", action="store_true", help="Then delete archives beyond BACKUP_KEEP_DAILY / BACKUP_KEEP_WEEKLY."
        )

    def handle(self, *args: Any, dir: Path | None, prune: bool, **options: Any) -> None:
        result = services.backup_create(directory=dir)
        totals = result.manifest["totals"]
        self.stdout.write(
            f"{result.path}\n{totals['rows']} rows in {len(result.manifest['tables'])} tables, "
            f"{totals['files']} files ({totals['file_bytes']} bytes), "
            f"archive {result.path.stat().st_size} bytes, {result.seconds:.2f} s"
        )
        if prune:
            removed = services.backups_prune(
                directory=dir, keep_daily=settings.BACKUP_KEEP_DAILY, keep_weekly=settings.BACKUP_KEEP_WEEKLY
            )
            for path in removed:
                self.stdout.write(f"removed {path}")
