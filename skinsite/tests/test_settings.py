"""The same code runs embedded (SQLite, file broker, local disk) or scaled out, by environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "db_name": settings.DATABASES["default"]["NAME"],
    "broker": settings.CELERY_BROKER_URL,
    "storage": settings.STORAGES["default"]["BACKEND"],
    "storage_options": {k: str(v) for k, v in settings.STORAGES["default"]["OPTIONS"].items()},
    "email": settings.EMAIL_BACKEND,
    "max_upload": settings.MAX_UPLOAD_MB,
}))
"""

SCALED_OUT_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "AWS_STORAGE_BUCKET_NAME", "EMAIL_URL", "EMAIL_BACKEND",
    "MAX_UPLOAD_MB",
)  # fmt: skip


def _settings_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in SCALED_OUT_VARIABLES}
    code = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'skinsite.settings'); django.setup()\n"
    result = subprocess.run(
        [sys.executable, "-c", code + PROBE],
        cwd=BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults_need_no_server():
    conf = _settings_with()
    assert conf["db"] == "django.db.backends.sqlite3"
    assert conf["broker"] == "filesystem://"
    assert conf["storage"] == "django.core.files.storage.FileSystemStorage"
    assert conf["max_upload"] == 20


def test_environment_switches_to_postgresql_redis_s3_and_smtp():
    conf = _settings_with(
        DATABASE_URL="postgres://skinsite:pw@db.internal:5432/skinsite",
        REDIS_URL="redis://cache.internal:6379/0",
        AWS_STORAGE_BUCKET_NAME="photos",
        AWS_S3_ENDPOINT_URL="http://minio:9000",
        EMAIL_URL="smtp+tls://user:pw@smtp.example.org:587",
        MAX_UPLOAD_MB="5",
    )
    assert conf["db"] == "django.db.backends.postgresql"
    assert conf["db_name"] == "skinsite"
    assert conf["broker"] == "redis://cache.internal:6379/0"
    assert conf["storage"] == "storages.backends.s3.S3Storage"
    assert conf["storage_options"]["bucket_name"] == "photos"
    assert conf["storage_options"]["default_acl"] == "private"
    assert conf["storage_options"]["querystring_auth"] == "True"
    assert conf["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert conf["max_upload"] == 5


def test_the_web_process_never_imports_tensorflow():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'skinsite.settings'); django.setup()\n"
        "from django.test import Client\n"
        "import skinsite.urls, lesions.api, lesions.views, inference.services, inference.tasks, sharing.api\n"
        "Client().get('/')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
