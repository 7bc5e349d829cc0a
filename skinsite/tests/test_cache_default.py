"""Without CACHE_URL, lock-outs and rate limits outlive a restart of `make run`'s processes: the
embedded default cache is a folder under var/, not one process's memory."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
_SETUP = "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'skinsite.settings'; django.setup()\n"


def _run(code: str) -> str:
    """Run `code` in a new process (a restart), with the embedded defaults: no CACHE_URL."""
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", _SETUP + code], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_the_default_cache_is_a_folder_under_var():
    cache = json.loads(_run("from django.conf import settings; print(json.dumps(settings.CACHES['default']))"))
    assert cache["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert Path(cache["LOCATION"]) == BASE_DIR / "var" / "cache"
    # Django's default of 300 entries would cull (forget) a third of the counts at once.
    assert cache["OPTIONS"]["MAX_ENTRIES"] >= 10_000


def test_a_lock_out_outlives_a_restart():
    email = f"restart-{uuid.uuid4().hex}@example.com"
    setup = (
        "from django.conf import settings\n"
        "from django.core.cache import cache\n"
        "from django.test import RequestFactory\n"
        "from accounts import lockout\n"
        "from skinsite.ratelimit import hashed\n"
        f"email = {email!r}\n"
        "r = RequestFactory().get('/', REMOTE_ADDR='203.0.113.7')\n"
    )
    fail = "for _ in range(settings.LOGIN_FAILURE_LIMIT):\n    lockout.login_failure_record(request=r, email=email)\n"
    try:
        _run(setup + fail + "print('ok')")
        assert int(_run(setup + "print(lockout.login_locked_for(request=r, email=email))")) > 0
    finally:
        subjects = "('addr:203.0.113.7', 'acct:' + hashed(email))"
        keys = f"[f'login:{{s}}:{{w}}' for s in {subjects} for w in ('failures', 'locked')]"
        _run(setup + f"cache.delete_many({keys})\nprint('ok')")
