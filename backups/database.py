"""The database part of an archive: PostgreSQL's own dump format, or SQLite's online backup.

django-dbbackup's connectors run the tools: `pg_dump --format=custom` and `pg_restore` (one
transaction) for PostgreSQL, sqlite3's online backup API for SQLite. Written here, because the
library does not do it: the row counts read in the same snapshot the dump is taken from, emptying
the target before a restore, and SQLite's restore through the backup API into the live file (the
connector writes over the file, which a WAL-mode database with its -wal file beside it does not
survive).
"""

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dbbackup.db.base import get_connector
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Dump file name in the archive, by vendor.
DUMP_NAMES = {"postgresql": "database/default.pgdump", "sqlite": "database/default.sqlite3"}


def vendor() -> str:
    vendor_name = connections[DEFAULT_DB_ALIAS].vendor
    if vendor_name not in DUMP_NAMES:
        raise RuntimeError(f"Backups support PostgreSQL and SQLite, not {vendor_name}.")
    return vendor_name


def _quote(name: str) -> str:
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(name)


def table_names() -> list[str]:
    """Every table in the database (Django's and any other), sorted."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        return sorted(connections[DEFAULT_DB_ALIAS].introspection.table_names(cursor))


def row_counts() -> dict[str, int]:
    """Rows in every table of the database, as it is now."""
    counts = {}
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        for table in table_names():
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # table names from introspection
            counts[table] = int(cursor.fetchone()[0])
    return counts


def applied_migrations() -> dict[str, list[str]]:
    """The migrations recorded in the database, by app (empty before the first migrate)."""
    if "django_migrations" not in table_names():
        return {}
    applied: dict[str, list[str]] = {}
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            applied.setdefault(app, []).append(name)
    return applied


@contextlib.contextmanager
def dump() -> Iterator[tuple[IO[bytes], dict[str, int], dict[str, list[str]]]]:
    """The database's dump, with its row counts and migrations, all of one moment.

    PostgreSQL: a REPEATABLE READ transaction exports its snapshot and pg_dump reads that same
    snapshot (`--snapshot`), so the counts in the manifest are the dump's even while the site
    writes. SQLite: the online backup is a copy, and the counts are read from the copy.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    connector = get_connector(DEFAULT_DB_ALIAS)
    if vendor() == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts, migrations = row_counts(), applied_migrations()
            connector.dump_suffix = f"--snapshot={snapshot}"
            dump_file = connector.create_dump()
        try:
            yield dump_file, counts, migrations
        finally:
            dump_file.close()
        return
    dump_file = connector.create_dump()
    try:
        with _sqlite_copy(dump_file) as path:
            counts, migrations = _sqlite_counts(path)
        dump_file.seek(0)
        yield dump_file, counts, migrations
    finally:
        dump_file.close()


@contextlib.contextmanager
def _sqlite_copy(dump_file: IO[bytes]) -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copy.sqlite3"
        with path.open("wb") as out:
            shutil.copyfileobj(dump_file, out)
        yield path


def _sqlite_counts(path: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    with contextlib.closing(sqlite3.connect(path)) as copy:
        tables = sorted(
            name
            for (name,) in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        )
        counts = {t: copy.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        migrations: dict[str, list[str]] = {}
        if "django_migrations" in tables:
            for app, name in copy.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
                migrations.setdefault(app, []).append(name)
    return counts, migrations


def drop_all_tables() -> None:
    """Empty the database: drop every table (sequences and indexes go with them)."""
    connection = connections[DEFAULT_DB_ALIAS]
    tables = table_names()
    if not tables:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(_quote(t) for t in tables) + " CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {_quote(table)}")
            cursor.execute("PRAGMA foreign_keys = ON")


def restore(dump_path: Path) -> None:
    """Load a dump made by `dump()` into the (emptied) database of this vendor."""
    connection = connections[DEFAULT_DB_ALIAS]
    if vendor() == "postgresql":
        connector = get_connector(DEFAULT_DB_ALIAS)
        # The archive may come from a server where another role owned the tables: the restoring
        # role owns what it creates, and grants are the operator's business.
        connector.pg_options = ["--no-owner", "--no-privileges", "--exit-on-error"]
        connection.close()  # pg_restore runs in its own session, in one transaction
        with dump_path.open("rb") as dump_file:
            connector.restore_dump(dump_file)
        return
    connection.close()
    Path(connection.settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(dump_path)) as source,
        contextlib.closing(sqlite3.connect(connection.settings_dict["NAME"])) as target,
    ):
        source.backup(target)
    connection.close()
