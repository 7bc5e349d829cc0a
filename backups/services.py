"""Backups that restore: one dated tar archive of the database, every stored file and a manifest.

An archive (`skinsite-backup-YYYYMMDD-HHMMSSZ.tar`) holds:

- `database/default.pgdump` (PostgreSQL's custom dump format) or `database/default.sqlite3`
  (SQLite's online backup), see backups.database;
- `files/<name>`: every file in Django's default storage (photos, thumbnails, heatmaps), read and
  written through the storage API, so a local folder and an S3 bucket are backed up alike;
- `manifest.json`, written last: format version, creation time, the database vendor, the applied
  migrations, the rows of every table, and the size and SHA-256 of the dump and of every file.

The database is dumped first, then the files are copied: a photo deleted in between is missing
from the archive (its row is not), one uploaded in between comes back without a row and is removed
by the daily storage reconciliation. Restoring checks every checksum before it touches anything.
"""

import contextlib
import hashlib
import io
import json
import logging
import platform
import shutil
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage, storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

from backups import database
from backups.retention import archives_to_delete
from lesions.storage import FOLDERS as PATIENT_FOLDERS

logger = logging.getLogger(__name__)
Item = TypeVar("Item")
Done = TypeVar("Done")

FORMAT = "skinsite-backup"
FORMAT_VERSION = 1
ARCHIVE_PREFIX = "skinsite-backup-"
ARCHIVE_SUFFIX = ".tar"
MANIFEST = "manifest.json"
FILES = "files/"
CHUNK = 1024 * 1024


class ArchiveDamaged(ValidationError):
    """The archive is not one of ours, or a member's size or checksum differs from its manifest."""


class RestoreRefused(ValidationError):
    """The target database or storage holds data, and the caller did not say to replace it."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    seconds: float
    warnings: list[str] = field(default_factory=list)


def archive_name(when: datetime) -> str:
    return f"{ARCHIVE_PREFIX}{when.astimezone(UTC):%Y%m%d-%H%M%S}Z{ARCHIVE_SUFFIX}"


def archive_time(name: str) -> datetime | None:
    """When an archive was made, from its file name; None for a name that is not an archive's."""
    if not (name.startswith(ARCHIVE_PREFIX) and name.endswith("Z" + ARCHIVE_SUFFIX)):
        return None
    stamp = name[len(ARCHIVE_PREFIX) : -len("Z" + ARCHIVE_SUFFIX)]
    try:
        return datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def stored_file_names(path: str = "") -> Iterator[str]:
    """Every file in the default storage, walked folder by folder (works for S3 prefixes too)."""
    try:
        folders, files = default_storage.listdir(path)
    except FileNotFoundError:
        return  # a local storage folder not made yet: nothing stored
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for folder in sorted(folders):
        yield from stored_file_names(f"{path}/{folder}" if path else folder)


class _Hashing(io.RawIOBase):
    """Reads through to `source`, counting bytes and hashing them (tarfile reads it once)."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add(archive: tarfile.TarFile, name: str, source: IO[bytes], size: int, mtime: float) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    hashing = _Hashing(source)
    archive.addfile(info, hashing)
    if hashing.size != size:
        raise OSError(f"{name} changed size while it was backed up ({size} → {hashing.size} bytes)")
    return {"size": size, "sha256": hashing.sha256.hexdigest()}


# Files are read from (and written to) storage by this many threads: with S3 each file is a
# request, and waiting for them one by one would make a large backup take hours.
STORAGE_THREADS = 8


def _spooled() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=CHUNK)


def _fetch(name: str) -> tuple[str, IO[bytes]]:
    """A stored file's bytes, copied (into memory, or a temporary file past 1 MB)."""
    copy = _spooled()
    with default_storage.open(name, "rb") as stored:
        shutil.copyfileobj(stored, copy, CHUNK)
    return name, copy


def _store(item: tuple[str, IO[bytes]]) -> str:
    name, copy = item
    with copy:
        copy.seek(0)
        saved = default_storage.save(name, File(copy, name=name))
    if saved != name:
        raise OSError(f"Storage saved {name} as {saved}.")
    return name


def _spooled_members(archive: tarfile.TarFile, manifest: dict[str, Any]) -> Iterator[tuple[str, IO[bytes]]]:
    """The archive's files in manifest order, each copied out (a tar is read by one thread)."""
    for entry in manifest["files"]:
        member = archive.extractfile(FILES + entry["name"])
        if member is None:
            raise ArchiveDamaged(f"{entry['name']} is missing from the archive.")
        copy = _spooled()
        shutil.copyfileobj(member, copy, CHUNK)
        yield entry["name"], copy


def _in_parallel(work: Callable[[Item], Done], items: Iterable[Item]) -> Iterator[Done]:
    """`work` over `items` in STORAGE_THREADS threads, results in order, a bounded number ahead."""
    with ThreadPoolExecutor(max_workers=STORAGE_THREADS) as pool:
        pending: deque[Future[Done]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= 2 * STORAGE_THREADS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def backup_create(*, directory: Path | None = None, now: datetime | None = None) -> BackupResult:
    """Write one archive of the database and every stored file into `directory` (BACKUP_DIR).

    The archive is written under a `.partial` name and renamed when complete, so a crash never
    leaves something that looks like a backup. Returns its path and manifest.
    """
    started = time.monotonic()
    directory = Path(directory or settings.BACKUP_DIR)
    # Archives hold every patient's photos and password hashes: readable by this user only.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = (now or datetime.now(UTC)).astimezone(UTC)
    path = directory / archive_name(created)
    partial = path.with_name(path.name + ".partial")
    vendor = database.vendor()
    dump_name = database.DUMP_NAMES[vendor]
    try:
        partial.touch(mode=0o600)
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            with database.dump() as (dump_file, counts, migrations):
                dump_file.seek(0, io.SEEK_END)
                dump_size = dump_file.tell()
                dump_file.seek(0)
                dump_entry = _add(archive, dump_name, dump_file, dump_size, created.timestamp())
            files = []
            for name, copy in _in_parallel(_fetch, stored_file_names()):
                with copy:
                    size = copy.seek(0, io.SEEK_END)
                    copy.seek(0)
                    entry = _add(archive, FILES + name, copy, size, created.timestamp())
                files.append({"name": name, **entry})
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": created.isoformat(),
                "host": platform.node(),
                "database": {"vendor": vendor, "file": dump_name, **dump_entry},
                "storage": storage_backend(),
                "migrations": migrations,
                "tables": counts,
                "files": files,
                "totals": {
                    "rows": sum(counts.values()),
                    "files": len(files),
                    "file_bytes": sum(f["size"] for f in files),
                },
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            _add(archive, MANIFEST, io.BytesIO(data), len(data), created.timestamp())
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    seconds = time.monotonic() - started
    logger.info("Backup %s: %d rows, %d files, %.1f s", path, manifest["totals"]["rows"], len(files), seconds)
    return BackupResult(path=path, manifest=manifest, seconds=seconds)


def archive_manifest(*, path: Path) -> dict[str, Any]:
    """The manifest of an archive, checked to be one of ours in a format this code reads."""
    try:
        with tarfile.open(path, "r:") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as error:
        raise ArchiveDamaged(f"{path} is not a readable Skinsite backup: {error}")
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise ArchiveDamaged(f"{path} is not a Skinsite backup of format version {FORMAT_VERSION}.")
    return manifest


def storage_backend() -> str:
    backend = type(storages["default"])
    return f"{backend.__module__}.{backend.__qualname__}"


def _members(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Archive member name → its expected size and checksum."""
    members = {manifest["database"]["file"]: manifest["database"]}
    members.update({FILES + f["name"]: f for f in manifest["files"]})
    return members


def archive_verify(*, path: Path) -> dict[str, Any]:
    """Read every member of the archive and check it against the manifest; returns the manifest."""
    manifest = archive_manifest(path=path)
    expected = _members(manifest)
    seen = set()
    with tarfile.open(path, "r:") as archive:
        for member in archive:
            if member.name == MANIFEST:
                continue
            if member.name not in expected:
                raise ArchiveDamaged(f"{member.name} is in the archive but not in its manifest.")
            source = archive.extractfile(member)
            if source is None:
                raise ArchiveDamaged(f"{member.name} is not a file.")
            digest = hashlib.sha256()
            size = 0
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
            want = expected[member.name]
            if size != want["size"] or digest.hexdigest() != want["sha256"]:
                raise ArchiveDamaged(
                    f"{member.name} differs from its size or checksum in the manifest: the archive is damaged."
                )
            seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveDamaged(f"{len(missing)} files of the manifest are missing from the archive, e.g. {missing[0]}.")
    return manifest


def target_contents() -> tuple[int, int]:
    """(accounts in the database, patients' files in storage): what a restore must not overwrite.

    A freshly migrated site counts as empty: it has no accounts, and its only stored files are the
    education pages' example images, which the archive holds too.
    """
    users = 0
    user_table = get_user_model()._meta.db_table
    if user_table in database.table_names():
        users = get_user_model().objects.count()
    files = sum(1 for folder in PATIENT_FOLDERS for _ in stored_file_names(folder))
    return users, files


def _unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    """Migrations applied in the archive that this code does not have (a newer release's data)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in sorted(manifest["migrations"].items())
        for name in names
        if (app, name) not in known
    ]


def backup_restore(*, path: Path, force: bool = False) -> RestoreResult:
    """Bring an archive back into this site's database and storage.

    Every member is checked against the manifest first. A target that holds accounts or stored
    files is refused unless `force`, which drops every table and deletes every stored file first;
    an archive from a newer release (migrations this code does not know) is refused unless `force`.
    The database is then emptied and loaded, the files written, and the row counts compared.
    """
    started = time.monotonic()
    manifest = archive_verify(path=path)
    vendor = database.vendor()
    if manifest["database"]["vendor"] != vendor:
        raise RestoreRefused(f"The archive holds a {manifest['database']['vendor']} database; this site uses {vendor}.")
    unknown = _unknown_migrations(manifest)
    if unknown and not force:
        raise RestoreRefused(
            f"The archive was made by a newer Skinsite ({len(unknown)} unknown migrations, e.g. {unknown[0]}); "
            "restore it with that release, or pass --force."
        )
    users, files = target_contents()
    if (users or files) and not force:
        raise RestoreRefused(
            f"The target is not empty ({users} accounts in the database, {files} photo and heatmap files in storage). "
            "Restore into an empty database and storage, or pass --force (FORCE=1) to replace them."
        )
    for name in list(stored_file_names()):
        default_storage.delete(name)
    database.drop_all_tables()
    with tarfile.open(path, "r:") as archive, tempfile.TemporaryDirectory() as folder:
        dump_path = Path(folder) / "dump"
        source = archive.extractfile(manifest["database"]["file"])
        assert source is not None  # checked by archive_verify
        with dump_path.open("wb") as out:
            while chunk := source.read(CHUNK):
                out.write(chunk)
        database.restore(dump_path)
        for _ in _in_parallel(_store, _spooled_members(archive, manifest)):
            pass
    connections[DEFAULT_DB_ALIAS].close()
    warnings = []
    counts = database.row_counts()
    differing = sorted(t for t, n in manifest["tables"].items() if counts.get(t) != n)
    if differing:
        raise ArchiveDamaged(f"After the restore, the rows of {', '.join(differing)} differ from the manifest.")
    if unknown:
        warnings.append(f"The archive has {len(unknown)} migrations this code does not know.")
    seconds = time.monotonic() - started
    logger.info("Restored %s: %d rows, %d files, %.1f s", path, sum(counts.values()), len(manifest["files"]), seconds)
    return RestoreResult(manifest=manifest, seconds=seconds, warnings=warnings)


def backups_prune(*, directory: Path | None = None, keep_daily: int, keep_weekly: int) -> list[Path]:
    """Delete the archives in `directory` that the retention rule does not keep; returns them."""
    directory = Path(directory or settings.BACKUP_DIR)
    archives = {}
    for path in directory.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}"):
        when = archive_time(path.name)
        if when is not None:
            archives[path] = when
    doomed = archives_to_delete(archives, keep_daily=keep_daily, keep_weekly=keep_weekly)
    for path in doomed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return sorted(doomed)


def backup_periodic() -> BackupResult:
    """The scheduled backup: one archive into BACKUP_DIR, then the old ones pruned."""
    result = backup_create()
    removed = backups_prune(keep_daily=settings.BACKUP_KEEP_DAILY, keep_weekly=settings.BACKUP_KEEP_WEEKLY)
    if removed:
        logger.info("Removed %d old backups: %s", len(removed), ", ".join(p.name for p in removed))
    return result
