"""The scheduled backup: off by default; on, a daily beat entry that writes an archive and prunes."""

import json

from backups.tests.test_restore_drill import _run, _site_env

PROBE = (
    "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'skinsite.settings'; django.setup()\n"
    "from django.conf import settings; entry = settings.CELERY_BEAT_SCHEDULE.get('backup')\n"
    "print(json.dumps(entry and {'task': entry['task'], 'schedule': str(entry['schedule'])}))"
)


def _beat_entry(**env: str):
    return json.loads(_run(_site_env(**env), "-c", PROBE).stdout.strip().splitlines()[-1])


def test_there_is_no_scheduled_backup_unless_asked_for():
    assert _beat_entry() is None


def test_backup_schedule_adds_a_daily_entry_at_backup_hour():
    entry = _beat_entry(BACKUP_SCHEDULE="true", BACKUP_HOUR="4")
    assert entry["task"] == "backups.tasks.backup_periodic"
    assert entry["schedule"].startswith("<crontab: 0 4 * * *")


def test_the_scheduled_task_writes_an_archive_and_keeps_the_newest_per_day(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    old = ["skinsite-backup-20200101-020000Z.tar", "skinsite-backup-20200102-020000Z.tar"]
    for name in [*old, "notes.txt"]:
        (backups / name).write_bytes(b"")
    env = _site_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        BACKUP_DIR=str(backups),
        BACKUP_KEEP_DAILY="2",
        BACKUP_KEEP_WEEKLY="0",
    )
    _run(env, "manage.py", "migrate", "--noinput", "-v0")
    task = "import django; django.setup(); from backups.tasks import backup_periodic; print(backup_periodic())"
    made = _run(env | {"DJANGO_SETTINGS_MODULE": "skinsite.settings"}, "-c", task).stdout.strip().splitlines()[-1]
    left = sorted(p.name for p in backups.iterdir())
    # Today's new archive and the newest old one are the 2 days kept; other files are not ours to touch.
    assert left == sorted([old[1], "notes.txt", made.rsplit("/", 1)[-1]])


def test_the_beat_entry_names_a_registered_task():
    from backups.tasks import backup_periodic
    from skinsite.celery import app

    assert backup_periodic.name == "backups.tasks.backup_periodic"
    assert backup_periodic.name in app.tasks
