"""Deployment settings: no published secret key, HTTPS by default off this machine, no mail in logs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from skinsite.lib.urls import absolute_url

BASE_DIR = Path(__file__).resolve().parents[2]
OLD_BUILT_IN_KEY = "insecure-local-only-key-set-SECRET_KEY-in-production-0123456789"
# The environment of a real deployment behind one TLS-terminating proxy.
PRODUCTION = {
    "SECRET_KEY": "k" * 20 + "-production-secret-of-fifty-chars-x",
    "ALLOWED_HOSTS": "skinsite.example.org",
    "SITE_URL": "https://skinsite.example.org",
    "API_NUM_PROXIES": "1",
    "EMAIL_URL": "smtp+tls://user:pw@smtp.example.org:587",
}
_OURS = (
    "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "SITE_URL", "PORT", "WEB_PORT", "HTTPS", "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "EMAIL_URL", "EMAIL_BACKEND",
    "ALLOWED_HOSTS", "API_NUM_PROXIES", "EMAIL_TIMEOUT", "SESSION_COOKIE_AGE",
)  # fmt: skip
PROBE = """
import json
from django.conf import settings as s
print(json.dumps({k: getattr(s, k) for k in (
    "SECRET_KEY", "SITE_URL", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_AGE", "EMAIL_BACKEND", "EMAIL_TIMEOUT")}))
"""


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    clean["SECRET_KEY_FILE"] = str(tmp_path / "secret_key")
    setup = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'skinsite.settings'); django.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", setup + code], cwd=BASE_DIR, env=clean | env, capture_output=True, text=True
    )


def _settings(tmp_path: Path, **env: str) -> dict:
    result = _run(PROBE, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_old_built_in_key_is_refused_with_debug_off(tmp_path):
    result = _run(PROBE, tmp_path, SECRET_KEY=OLD_BUILT_IN_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY is a published or short key" in result.stderr
    assert _run(PROBE, tmp_path, SECRET_KEY=OLD_BUILT_IN_KEY, DEBUG="true").returncode == 0


def test_without_a_key_one_is_made_on_first_start_and_kept(tmp_path):
    first = _settings(tmp_path)["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == first
    assert len(first) >= 50 and first != OLD_BUILT_IN_KEY
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert _settings(tmp_path)["SECRET_KEY"] == first  # sessions survive a restart


def test_site_url_follows_port(tmp_path):
    assert _settings(tmp_path, PORT="8765")["SITE_URL"] == "http://127.0.0.1:8765"
    assert _settings(tmp_path, PORT="8765", SITE_URL="https://x.example/")["SITE_URL"] == "https://x.example"


def test_make_run_gives_the_worker_the_web_port():
    """Honcho hands each process its own PORT; the worker (which sends the emails) needs the web's."""
    procfile = (BASE_DIR / "Procfile.dev").read_text()
    worker = next(line for line in procfile.splitlines() if line.startswith("worker:"))
    assert "PORT=${WEB_PORT" in worker
    assert "WEB_PORT=$(PORT)" in (BASE_DIR / "Makefile").read_text()


def test_links_use_the_request_unless_site_url_is_set(settings):
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8765")
    with override_settings(SITE_URL_SET=False, SITE_URL="http://127.0.0.1:8000"):
        assert absolute_url("/r/abc/", request) == "http://127.0.0.1:8765/r/abc/"
        assert absolute_url("/r/abc/") == "http://127.0.0.1:8000/r/abc/"
    with override_settings(SITE_URL_SET=True, SITE_URL="https://skinsite.example.org"):
        assert absolute_url("/r/abc/", request) == "https://skinsite.example.org/r/abc/"


def test_https_is_the_default_off_this_machine(tmp_path):
    prod = _settings(tmp_path, **PRODUCTION)
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert prod["SESSION_COOKIE_AGE"] <= 12 * 3600
    assert prod["EMAIL_TIMEOUT"] == 10
    local = _settings(tmp_path)  # make run: plain HTTP on 127.0.0.1 must keep working
    assert local["SECURE_SSL_REDIRECT"] is False and local["SESSION_COOKIE_SECURE"] is False
    assert local["SECURE_PROXY_SSL_HEADER"] is None  # no proxy: a client could forge the header


@pytest.mark.parametrize("how", [{"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
                                 {"EMAIL_URL": "consolemail://"}])  # fmt: skip
def test_the_console_email_backend_is_refused_with_debug_off(tmp_path, how):
    result = _run(PROBE, tmp_path, **how)
    assert result.returncode != 0 and "console email backend" in result.stderr
    assert _run(PROBE, tmp_path, DEBUG="true", **how).returncode == 0


def test_the_default_local_mail_goes_to_files_not_logs(tmp_path):
    assert _settings(tmp_path)["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=clean | PRODUCTION,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
