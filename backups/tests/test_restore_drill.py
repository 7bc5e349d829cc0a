"""The restore drill: seed a site, back it up, wipe it, restore it, and find everything as it was.

Every step is its own process on the site's own database and storage, as an operator would run
`make backup` and `make restore`: PostgreSQL (a database of its own on the CI server, never the
suite's) with photos on S3 (moto's server), and the embedded SQLite with a local folder. After the
restore every table's rows and every file's checksum must equal the ones before the backup, and a
patient logs in (password and authenticator code) and opens a photo.
"""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from lesions.tests.test_s3_storage import CREDENTIALS, s3_endpoint  # noqa: F401  (moto's server fixture)

BASE_DIR = Path(__file__).resolve().parents[2]
BUCKET = "skinsite-drill-photos"


def _site_env(**extra: str) -> dict[str, str]:
    """The environment of a site of its own: nothing of the suite's database, broker or storage."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DATABASE_URL", "MEDIA_ROOT", "REDIS_URL", "CACHE_URL", "CELERY_", "BACKUP_"))
    }
    return keep | {
        "SECRET_KEY": "drill-" + "k" * 50,
        "CELERY_BROKER_URL": "memory://",  # tasks the seeding queues (analyses, emails) go nowhere
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **extra,
    }


def _run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _step(env: dict[str, str], tmp_path: Path, step: str, *args: str) -> dict:
    out = tmp_path / f"{step}.json"
    _run(env, "-m", "backups.drill", step, "--out", str(out), *args)
    return json.loads(out.read_text())


def drill(env: dict[str, str], tmp_path: Path, wipe) -> Path:
    """Seed, snapshot, back up, wipe, restore, snapshot again; returns the archive."""
    _run(env, "manage.py", "migrate", "--noinput", "-v0")
    seeded = _step(env, tmp_path, "seed", "--patients", "3", "--photos", "7")
    before = _step(env, tmp_path, "snapshot")
    assert len(before["files"]) >= 14  # 7 photos, 7 thumbnails, 7 heatmaps (and the guide's images)
    seeded_tables = (
        "accounts_user",
        "accounts_apitoken",
        "lesions_lesion",
        "lesions_photo",
        "lesions_analysis",  # inference.Analysis
        "lesions_sharelink",  # sharing's tables keep the names they had in lesions
        "lesions_shareaccess",
        "lesions_physiciannote",
        "otp_totp_totpdevice",
        "otp_static_staticdevice",
    )
    for table in seeded_tables:
        assert before["tables"][table], f"the drill seeded nothing into {table}"

    backup = _run(env, "manage.py", "backup", "--dir", str(tmp_path / "backups"))
    archive = Path(backup.stdout.splitlines()[0])
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("skinsite-backup-")
    assert archive.stat().st_mode & 0o077 == 0  # patients' data: the owner's alone

    wipe()
    restored = _run(env, "manage.py", "restore", str(archive))
    assert "Restored" in restored.stdout

    after = _step(env, tmp_path, "snapshot")
    assert after["files"] == before["files"]
    assert sorted(after["tables"]) == sorted(before["tables"])
    for table, rows in before["tables"].items():
        assert after["tables"][table] == rows, f"{table} differs after the restore"

    opened = _step(env, tmp_path, "login", "--email", seeded["emails"][1], "--photo-id", str(seeded["photo_ids"][1]))
    assert (opened["password_step"], opened["code_step"], opened["photo_status"]) == (302, 302, 200)
    assert opened["photo_sha256"] == opened["stored_file_sha256"]

    # Now the site holds accounts and photos: a second restore is refused unless forced.
    refused = _run(env, "manage.py", "restore", str(archive), check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    forced = _run(env, "manage.py", "restore", "--force", str(archive))
    assert "Restored" in forced.stdout
    assert _step(env, tmp_path, "snapshot") == before  # the log-in's session and log entries are gone again
    return archive


# --- PostgreSQL and S3 ---------------------------------------------------------------------------


def _server_url() -> str:
    """The PostgreSQL server of the suite (DATABASE_URL), else the machine's own."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


def _admin(database: str = "postgres"):
    import psycopg2

    parts = urlsplit(_server_url())
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=database,
        connect_timeout=3,
    )
    connection.autocommit = True
    return connection


@pytest.fixture
def drill_database():
    """A database of the drill's own (created and dropped here), never the suite's."""
    import psycopg2

    try:
        admin = _admin()
    except psycopg2.OperationalError as error:
        if os.environ.get("CI"):
            raise  # CI has PostgreSQL: the drill must run there
        pytest.skip(f"no PostgreSQL server: {error}")
    name = f"skinsite_drill_{os.getpid()}"
    parts = urlsplit(_server_url())

    def create():
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')

    create()
    yield parts._replace(path=f"/{name}").geturl(), create
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def drill_bucket(s3_endpoint):  # noqa: F811
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", config=Config(signature_version="s3v4"), **CREDENTIALS
    )
    client.create_bucket(Bucket=BUCKET)

    def empty():
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=BUCKET, Key=obj["Key"])

    yield s3_endpoint, empty
    empty()


def test_postgres_and_s3_back_up_and_restore_every_row_and_file(tmp_path, drill_database, drill_bucket):
    url, recreate_database = drill_database
    endpoint, empty_bucket = drill_bucket
    env = _site_env(
        DATABASE_URL=url,
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=endpoint,
        AWS_S3_REGION_NAME="us-east-1",
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
    )

    def wipe():
        recreate_database()
        empty_bucket()

    archive = drill(env, tmp_path, wipe)
    with tarfile.open(archive) as contents:
        dump = contents.extractfile("database/default.pgdump").read(5)
    assert dump == b"PGDMP"  # PostgreSQL's own custom format


# --- SQLite and a local folder -------------------------------------------------------------------


def test_sqlite_and_a_local_folder_back_up_and_restore(tmp_path):
    database = tmp_path / "site" / "skinsite.sqlite3"
    media = tmp_path / "site" / "media"
    database.parent.mkdir()
    env = _site_env(DATABASE_URL=f"sqlite:///{database}", MEDIA_ROOT=str(media))

    def wipe():
        for path in database.parent.glob("skinsite.sqlite3*"):  # the -wal and -shm files too
            path.unlink()
        for path in sorted(media.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()

    archive = drill(env, tmp_path, wipe)
    with tarfile.open(archive) as contents:
        assert contents.extractfile("database/default.sqlite3").read(16) == b"SQLite format 3\x00"

    # A damaged archive is refused before anything is touched.
    damaged = tmp_path / "damaged.tar"
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as contents:
        photo = next(m for m in contents.getmembers() if m.name.startswith("files/photos/"))
    data[photo.offset_data + 100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    refused = _run(env, "manage.py", "restore", "--force", str(damaged), check=False)
    assert refused.returncode != 0 and "differs from its size or checksum" in refused.stderr
    assert _run(env, "manage.py", "restore", "--verify-only", str(archive)).returncode == 0

    # An archive made by a newer release (a migration this code does not have) is refused too.
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as source, tarfile.open(newer, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["migrations"]["lesions"].append("9999_from_the_future")
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    wipe()
    refused = _run(env, "manage.py", "restore", str(newer), check=False)
    assert refused.returncode != 0 and "newer Skinsite" in refused.stderr
