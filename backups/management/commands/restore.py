"""Bring an archive made by `manage.py backup` back into an empty database and storage."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = (
        "Restore a backup archive into an empty database and storage, checking every checksum. "
        "A target with accounts or stored files is refused unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="Replace whatever the database and storage hold (deleted first)."
        )
        parser.add_argument("--verify-only", action="store_true", help="Only check the archive against its manifest.")

    def handle(self, *args: Any, archive: Path, force: bool, verify_only: bool, **options: Any) -> None:
        try:
            if verify_only:
                manifest = services.archive_verify(path=archive)
                self.stdout.write(f"{archive}: {manifest['totals']['files']} files and the database match the manifest")
                return
            result = services.backup_restore(path=archive, force=force)
        except (services.RestoreRefused, services.ArchiveDamaged) as error:
            raise CommandError(" ".join(error.messages))
        totals = result.manifest["totals"]
        for warning in result.warnings:
            self.stderr.write(warning)
        self.stdout.write(
            f"Restored {archive} (made {result.manifest['created_at']}): {totals['rows']} rows, "
            f"{totals['files']} files, {result.seconds:.2f} s. Run `manage.py migrate` if this release is newer."
        )
