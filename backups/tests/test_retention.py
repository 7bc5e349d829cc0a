"""Which archives the scheduled backup keeps: the newest of each of the last days and weeks."""

from datetime import UTC, datetime, timedelta

from backups.retention import archives_to_delete, archives_to_keep
from backups.services import archive_name, archive_time


def _daily(days: int, *, start=datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) -> dict[str, datetime]:
    return {f"a{d}": start - timedelta(days=d) for d in range(days)}


def test_it_keeps_the_last_days_and_one_a_week_before_them():
    archives = _daily(60)  # 2026-12-07 (a Monday) back to 2026-10-09, one a day
    kept = archives_to_keep(archives, keep_daily=7, keep_weekly=4)
    # The last 7 days, and the newest of each of the last 4 ISO weeks (Mondays' and Sundays').
    assert kept == {f"a{d}" for d in range(7)} | {"a8", "a15"}
    assert archives_to_delete(archives, keep_daily=7, keep_weekly=4) == set(archives) - kept


def test_only_the_newest_of_a_day_counts_for_that_day():
    start = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    archives = {"manual": start + timedelta(hours=5), "scheduled": start, "yesterday": start - timedelta(days=1)}
    assert archives_to_keep(archives, keep_daily=2, keep_weekly=0) == {"manual", "yesterday"}


def test_days_without_a_backup_do_not_use_up_the_count():
    archives = {"now": datetime(2026, 12, 7, tzinfo=UTC), "old": datetime(2026, 11, 1, tzinfo=UTC)}
    assert archives_to_keep(archives, keep_daily=2, keep_weekly=0) == set(archives)


def test_the_newest_archive_is_kept_even_with_nothing_to_keep():
    archives = _daily(3)
    assert archives_to_keep(archives, keep_daily=0, keep_weekly=0) == {"a0"}
    assert archives_to_keep({}, keep_daily=3, keep_weekly=3) == set()


def test_archive_names_carry_their_time_in_utc():
    when = datetime(2026, 12, 7, 18, 5, 9, tzinfo=UTC)
    assert archive_name(when) == "skinsite-backup-20261207-180509Z.tar"
    assert archive_time(archive_name(when)) == when
    assert archive_time("skinsite-backup-20261207-180509Z.tar.partial") is None
    assert archive_time("notes.txt") is None
