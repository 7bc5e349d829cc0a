"""Which backups to keep: the newest of each of the last N days and of each of the last M weeks.

A day or week counts only if it has an archive, so a machine that was off for a week still keeps
N archives. Weeks are ISO weeks (Monday to Sunday, in UTC). The newest archive is always kept.
"""

from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def _newest_per_period(
    ordered: list[tuple[Key, datetime]], period_of: Callable[[datetime], Hashable], limit: int
) -> set[Key]:
    kept: set[Key] = set()
    periods: set[Hashable] = set()
    for key, when in ordered:
        period = period_of(when)
        if period in periods:
            continue
        if len(periods) >= limit:
            break
        periods.add(period)
        kept.add(key)
    return kept


def archives_to_keep(archives: Mapping[Key, datetime], *, keep_daily: int, keep_weekly: int) -> set[Key]:
    ordered = sorted(archives.items(), key=lambda item: item[1], reverse=True)
    if not ordered:
        return set()
    daily = _newest_per_period(ordered, lambda when: when.date(), keep_daily)
    weekly = _newest_per_period(ordered, lambda when: when.isocalendar()[:2], keep_weekly)
    return daily | weekly | {ordered[0][0]}


def archives_to_delete(archives: Mapping[Key, datetime], *, keep_daily: int, keep_weekly: int) -> set[Key]:
    kept = archives_to_keep(archives, keep_daily=keep_daily, keep_weekly=keep_weekly)
    return {key for key in archives if key not in kept}
