"""Every command works as the first one on a fresh clone, where var/ does not exist yet: celery
beat of `make serve` (and so `make load` and `make faults`) opens its schedule under var/, and
with SECRET_KEY, DATABASE_URL, REDIS_URL and CACHE_URL all set nothing else would make it.

The test suite itself makes var/ (the test database lives there), which hid this: here the tree
is a copy without it. `.ci/run` also starts `make serve` on a real clone (.ci/fresh-clone)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from faults.stack import procfile_commands

BASE_DIR = Path(__file__).resolve().parents[2]


def _fresh_tree(tmp_path: Path) -> Path:
    """The working tree without var/: skinsite/ copied (settings find var/ beside it), the rest linked."""
    tree = tmp_path / "skinsite-clone"
    tree.mkdir()
    for entry in BASE_DIR.iterdir():
        if entry.name in {"var", "staticfiles", ".git", ".venv"} or entry.name.startswith("."):
            continue
        if entry.name == "skinsite":
            shutil.copytree(entry, tree / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (tree / entry.name).symlink_to(entry)
    return tree


def _deployed_env(tmp_path: Path) -> dict[str, str]:
    """As `make load` runs it: every service named, so no default writes under var/."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))} | {
        "SECRET_KEY": "fresh-clone-test-only-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Nothing listens there: beat sends nothing in its first seconds, and nothing else connects.
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "CACHE_URL": "redis://127.0.0.1:9/1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


def test_celery_beat_starts_on_a_fresh_clone(tmp_path):
    tree = _fresh_tree(tmp_path)
    assert not (tree / "var").exists()
    log = tmp_path / "beat.log"
    with log.open("w") as out:
        beat = subprocess.Popen(
            procfile_commands(tree / "Procfile.serve")["beat"],
            shell=True,
            cwd=tree,
            env=_deployed_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and beat.poll() is None and "beat: Starting" not in log.read_text():
            time.sleep(0.2)
        time.sleep(3)  # opening the schedule comes right after "Starting"
        text = log.read_text()
        assert beat.poll() is None, text
        assert "beat: Starting" in text and "Errno" not in text, text
        assert list((tree / "var").glob("celerybeat-schedule-serve*"))
    finally:
        if beat.poll() is None:
            os.killpg(beat.pid, 15)
            beat.wait(timeout=20)
