"""Re-check reminders: which lesions are due for a new photo, the daily digest email, unsubscribing.

The pages (setting a lesion's interval, the unsubscribe link) are in lesions.views, the tasks
(the daily fan-out and one digest per patient) in lesions.tasks.

A lesion with a re-check interval is due that many months after its latest photo (or after it
was added, if it has none). The digest goes out at most once a day per patient, and only when
it has something to say: a lesion that became due since the last digest, or, while lesions stay
overdue, a weekly nudge. An overdue mole does not earn a daily email for months.
"""

import calendar
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import account_can_send_email
from lesions.emails import lesion_url
from lesions.models import Lesion
from skinsite.lib.emails import message
from skinsite.lib.urls import absolute_url

logger = logging.getLogger(__name__)

INTERVAL_CHOICES = (0, 1, 3, 6, 12)
# While lesions stay overdue and nothing new became due, repeat the digest this often.
REPEAT_AFTER = timedelta(days=7)
UNSUBSCRIBE_SALT = "unsubscribe"
# An old reminder's unsubscribe link keeps working for a year; after that, account settings.
UNSUBSCRIBE_MAX_AGE = timedelta(days=365)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class DueLesion:
    lesion: Lesion
    due_at: datetime
    last_photo_at: datetime | None
    as_of: datetime

    @property
    def days_overdue(self) -> int:
        return max((self.as_of - self.due_at).days, 0)


def due_lesions_for_user(*, user: User, now: datetime | None = None) -> list[DueLesion]:
    """The user's lesions whose re-check interval has passed, longest overdue first."""
    now = now or timezone.now()
    lesions = Lesion.objects.filter(owner=user, recheck_interval_months__gt=0).annotate(
        last_photo_at=Max("photos__taken_at")
    )
    due = []
    for lesion in lesions:
        due_at = add_months(lesion.last_photo_at or lesion.created_at, lesion.recheck_interval_months)
        if due_at <= now:
            due.append(DueLesion(lesion=lesion, due_at=due_at, last_photo_at=lesion.last_photo_at, as_of=now))
    return sorted(due, key=lambda d: d.due_at)


def lesion_recheck_interval_set(*, lesion: Lesion, months: int | None) -> Lesion:
    """Set how often the patient wants to photograph `lesion` again (0: no reminders).

    Raises ValidationError for anything but one of INTERVAL_CHOICES (None: no number was given).
    """
    if months not in INTERVAL_CHOICES:
        raise ValidationError({"recheck_interval_months": "Choose how often to be reminded from the list."})
    lesion.recheck_interval_months = months
    lesion.save(update_fields=["recheck_interval_months", "updated_at"])
    return lesion


def unsubscribe_token(*, user: User) -> str:
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(user.pk))


def unsubscribe_url(*, user: User) -> str:
    return absolute_url(reverse("lesions:reminders-unsubscribe", args=[unsubscribe_token(user=user)]))


def user_from_unsubscribe_token(token: str) -> User | None:
    """The user an unsubscribe link was made for; None if it is forged, too old or the user is gone."""
    try:
        value = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return User.objects.filter(pk=int(value)).first() if value.isdigit() else None


def reminders_unsubscribe(*, user: User) -> User:
    """Turn re-check emails off (they can be turned on again in account settings)."""
    if user.reminders_enabled:
        user.reminders_enabled = False
        user.save(update_fields=["reminders_enabled"])
    return user


def users_with_reminders_due(*, now: datetime | None = None) -> list[int]:
    """Ids of users who may get a digest today: reminders on, an interval set, none sent today.

    Whether something is actually due is decided per user by `reminder_digest_send`.
    """
    now = now or timezone.now()
    start_of_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    users = User.objects.filter(is_active=True, reminders_enabled=True, lesions__recheck_interval_months__gt=0)
    users = users.exclude(last_reminder_sent_at__gte=start_of_today)
    return sorted(set(users.values_list("pk", flat=True)))


def reminder_digest(*, user: User, due: list[DueLesion], newly_due: Iterable[int] = ()) -> EmailMultiAlternatives:
    """The digest email: the lesions due for a new photo, each with since when and a link."""
    newly_due = set(newly_due)
    unsubscribe = unsubscribe_url(user=user)
    rows = [
        {"due": d, "url": lesion_url(d.lesion.pk), "is_new": d.lesion.pk in newly_due}
        for d in due  # already longest overdue first
    ]
    return message(
        "reminder-digest",
        to=user.email,
        context={
            "user": user,
            "rows": rows,
            "dashboard_url": absolute_url(reverse("lesions:dashboard")),
            "settings_url": absolute_url(reverse("account-settings")),
            "unsubscribe_url": unsubscribe,
        },
        # RFC 8058 one-click unsubscribe: mail clients POST to the same signed URL.
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )


def reminder_digest_send(*, user_id: int, now: datetime | None = None) -> bool:
    """Email `user` one digest of their due lesions if one is owed today; True if it was sent.

    The digest is claimed in a short transaction (the user's row locked, `last_reminder_sent_at`
    written) and sent after the commit, so a slow mail server never holds a database lock (on
    SQLite, the whole database's write lock). Two deliveries of the task cannot both claim it. If
    sending fails the claim is undone (unless something newer replaced it) and the error goes up
    for the task's retry, which finds the digest still owed. Only to a confirmed address.
    """
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not user.reminders_enabled or not account_can_send_email(user):
            return False
        last = user.last_reminder_sent_at
        if last is not None and timezone.localdate(last) >= timezone.localdate(now):
            return False  # never more than one a day
        due = due_lesions_for_user(user=user, now=now)
        newly_due = {d.lesion.pk for d in due if last is None or d.due_at > last}
        if not due or (not newly_due and last is not None and now - last < REPEAT_AFTER):
            return False
        email = reminder_digest(user=user, due=due, newly_due=newly_due)
        user.last_reminder_sent_at = now
        user.save(update_fields=["last_reminder_sent_at"])
    try:
        email.send()
    except Exception:
        User.objects.filter(pk=user_id, last_reminder_sent_at=now).update(last_reminder_sent_at=last)
        raise
    logger.info("Sent a re-check digest to user %s (%d lesions due)", user_id, len(due))
    return True
