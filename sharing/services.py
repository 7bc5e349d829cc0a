"""Writes for sharing a report with a physician: links, their access log, and physicians' notes.

A link carries a random token (`secrets.token_urlsafe(32)`, 256 bits). Only its SHA-256 is
stored, so neither a database dump nor an operator can open a report; the raw token exists in
the patient's browser once, in the physician's email, and in the task message that sends it (and,
for SHARE_REPEAT_SECONDS, in the cache, so that a repeated submit gets the same link back).

Creating a link counts the owner's links of the last day and inserts the new one with the owner's
user row locked (SELECT ... FOR UPDATE), so parallel requests of one account cannot all pass a
daily cap before any of them is inserted.
"""

import math
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from accounts.models import SecurityEvent, User
from accounts.selectors import account_can_send_email
from accounts.services import security_event_record
from lesions.models import Lesion
from sharing import tasks
from sharing.models import PhysicianNote, ShareAccess, ShareLink
from sharing.selectors import ShareLinkGone, shared_lesions, token_hash

DEFAULT_EXPIRY_DAYS = 30
MIN_EXPIRY_DAYS = 1
MAX_EXPIRY_DAYS = 90
MESSAGE_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 4000
PATIENT_NAME_MAX_LENGTH = 100
EXPIRY_NOT_A_NUMBER = "Enter a whole number of days."
PATIENT_NAME_REQUIRED = "Enter the name the physician should see (your email address is never shown)."
EMAIL_NOT_CONFIRMED = (
    "Confirm your email address before sharing a report: open the link we emailed you, "
    "or ask for a new one on your account page (/accounts/settings/)."
)


class EmailNotConfirmed(ValidationError):
    """The account's address is not confirmed yet, so Skinsite sends no email in its name."""

    def __init__(self) -> None:
        super().__init__(EMAIL_NOT_CONFIRMED, code="email_not_confirmed")


class ShareLimitReached(ValidationError):
    """Too many links, or too many different physicians, in the last 24 hours (429 on the web and
    the API); `retry_after`: seconds until the cap lets one more through."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, code="share_limit")
        self.retry_after = retry_after


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _check_daily_limits(*, owner: User, physician_email: str) -> None:
    # Counted in the database, not the cache: a cap on email sent in a patient's name must
    # survive a cache restart. Revoked links count too, or revoke-and-resend would dodge it.
    now = timezone.now()
    recent = ShareLink.objects.filter(owner=owner, created_at__gte=now - timedelta(days=1))
    created = sorted(recent.values_list("created_at", flat=True))
    if len(created) >= settings.SHARE_LINKS_PER_DAY:
        # One more fits once the oldest links counted leave the last 24 hours.
        oldest_to_leave = created[len(created) - settings.SHARE_LINKS_PER_DAY]
        raise ShareLimitReached(
            f"You can share at most {settings.SHARE_LINKS_PER_DAY} reports a day. Try again tomorrow.",
            retry_after=_seconds_until(oldest_to_leave + timedelta(days=1), now),
        )
    last_shared: dict[str, datetime] = {}
    for email, at in recent.values_list("physician_email", "created_at"):
        last_shared[email] = max(at, last_shared.get(email, at))
    if physician_email not in last_shared and len(last_shared) >= settings.SHARE_RECIPIENTS_PER_DAY:
        raise ShareLimitReached(
            f"You can share with at most {settings.SHARE_RECIPIENTS_PER_DAY} different physicians a day. "
            "Try again tomorrow.",
            retry_after=_seconds_until(min(last_shared.values()) + timedelta(days=1), now),
        )


def _repeat_key(share: ShareLink) -> str:
    return f"share-repeat:{share.pk}:{share.token_hash}"


def _repeated(
    *,
    owner: User,
    lesion: Lesion | None,
    physician_email: str,
    patient_name: str,
    message: str,
    expires_in_days: int,
    notify_on_new_analysis: bool,
) -> tuple[ShareLink, str] | None:
    """The link an identical submit made in the last SHARE_REPEAT_SECONDS, and its token, if any.

    A double click or a client's retry must not email the physician twice. The token is found in
    the cache only (the database keeps its hash); without it (evicted, cache down) the caller makes
    a new link, as before there was this check.
    """
    now = timezone.now()
    candidates = ShareLink.objects.filter(
        owner=owner,
        lesion=lesion,
        physician_email=physician_email,
        patient_name=patient_name,
        message=message,
        notify_on_new_analysis=notify_on_new_analysis,
        revoked_at__isnull=True,
        created_at__gte=now - timedelta(seconds=settings.SHARE_REPEAT_SECONDS),
    ).order_by("-created_at")
    for share in candidates:
        if round((share.expires_at - share.created_at) / timedelta(days=1)) != expires_in_days:
            continue
        token = cache.get(_repeat_key(share))
        if token and token_hash(token) == share.token_hash:
            return share, token
    return None


def share_link_create(
    *,
    owner: User,
    physician_email: str,
    lesion: Lesion | None = None,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    message: str = "",
    notify_on_new_analysis: bool = False,
    patient_name: str | None = None,
    request: HttpRequest | None = None,
) -> tuple[ShareLink, str]:
    """Share `lesion` (None: all of `owner`'s lesions) with a physician and email them the link.

    `patient_name` is what the physician sees (None or blank: the display name; required when
    there is none, so the email address is never shown). Returns the link and its raw token,
    which the database never holds (only its hash; the cache keeps it for SHARE_REPEAT_SECONDS to
    answer a repeated submit), so it cannot be shown again later. Raises EmailNotConfirmed until the
    owner's address is confirmed, ShareLimitReached past the daily caps (SHARE_LINKS_PER_DAY,
    SHARE_RECIPIENTS_PER_DAY), and ValidationError (by field) for a bad address, name, expiry or
    message. The owner's security log notes the new link. An identical submit within
    SHARE_REPEAT_SECONDS gets the link made first (and its token) back, and sends no second email.
    """
    if not account_can_send_email(owner):
        raise EmailNotConfirmed()
    physician_email = physician_email.strip().lower()
    message = message.strip()
    patient_name = (patient_name or "").strip() or owner.display_name.strip()
    errors: dict[str, str] = {}
    if not patient_name:
        errors["patient_name"] = PATIENT_NAME_REQUIRED
    elif len(patient_name) > PATIENT_NAME_MAX_LENGTH:
        errors["patient_name"] = f"Keep the name under {PATIENT_NAME_MAX_LENGTH} characters."
    elif "@" in patient_name:
        errors["patient_name"] = "Enter a name, not an email address."
    try:
        validate_email(physician_email)
    except ValidationError:
        errors["physician_email"] = "Enter the physician's email address, like name@clinic.example."
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
        errors["expires_in_days"] = EXPIRY_NOT_A_NUMBER
    elif not MIN_EXPIRY_DAYS <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = f"A link can last from {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days."
    if len(message) > MESSAGE_MAX_LENGTH:
        errors["message"] = f"Keep the message under {MESSAGE_MAX_LENGTH} characters."
    if errors:
        raise ValidationError(errors)
    if lesion is not None and lesion.owner_id != owner.pk:
        # Views look the lesion up by owner already; this keeps a future caller honest.
        raise Http404("No such lesion.")
    with transaction.atomic():
        # The owner's row, locked until commit: one account's requests count and insert one at a
        # time, so parallel ones cannot all pass a cap (or all make the same link) before any is stored.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        repeated = _repeated(
            owner=owner,
            lesion=lesion,
            physician_email=physician_email,
            patient_name=patient_name,
            message=message,
            expires_in_days=expires_in_days,
            notify_on_new_analysis=notify_on_new_analysis,
        )
        if repeated is not None:
            return repeated
        _check_daily_limits(owner=owner, physician_email=physician_email)

        token = secrets.token_urlsafe(32)
        share = ShareLink.objects.create(
            owner=owner,
            lesion=lesion,
            physician_email=physician_email,
            patient_name=patient_name,
            token_hash=token_hash(token),
            message=message,
            expires_at=timezone.now() + timedelta(days=expires_in_days),
            notify_on_new_analysis=notify_on_new_analysis,
        )
        # Before the commit: a repeat waiting on the lock must find it once it gets the lock.
        cache.set(_repeat_key(share), token, settings.SHARE_REPEAT_SECONDS)
        # The raw token rides in the task message: the email is the one place it must reach.
        transaction.on_commit(partial(tasks.send_share_created_email.delay, share.pk, token))
        security_event_record(
            user=owner, kind=SecurityEvent.Kind.SHARE_LINK_CREATED, request=request, detail=physician_email
        )
    return share, token


def share_link_revoke(*, share: ShareLink, request: HttpRequest | None = None) -> ShareLink:
    """Kill the link now; its report answers 410 from the next request on. Idempotent (and
    logged once in the owner's security log)."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
        security_event_record(
            user=share.owner, kind=SecurityEvent.Kind.SHARE_LINK_REVOKED, request=request, detail=share.physician_email
        )
    return share


def share_link_opened(*, share: ShareLink, request: HttpRequest | None = None) -> None:
    """Note in the owner's security log that the physician opened the link (once per report session)."""
    security_event_record(
        user=share.owner, kind=SecurityEvent.Kind.SHARE_LINK_OPENED, request=request, detail=share.physician_email
    )


def share_access_record(*, share: ShareLink, kind: str = ShareAccess.Kind.REPORT) -> ShareAccess:
    """Log that the physician opened the report, downloaded the PDF or left a note."""
    return ShareAccess.objects.create(share=share, kind=kind)


def physician_note_create(*, share: ShareLink, lesion: Lesion, body: str) -> PhysicianNote:
    """Store a physician's note on a shared lesion and email the patient about it.

    The link must be live and the lesion inside its scope; callers resolve both through the
    token, and this checks again because a note lands on a patient's record.
    """
    if not share.is_active:
        raise ShareLinkGone(share)
    if not shared_lesions(share=share).filter(pk=lesion.pk).exists():
        raise Http404("This lesion is not part of the shared report.")
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the note before sending it."})
    if len(body) > NOTE_MAX_LENGTH:
        raise ValidationError({"body": f"Keep the note under {NOTE_MAX_LENGTH} characters."})
    note = PhysicianNote.objects.create(lesion=lesion, share=share, author_email=share.physician_email, body=body)
    share_access_record(share=share, kind=ShareAccess.Kind.NOTE)
    transaction.on_commit(partial(tasks.send_note_email.delay, note.pk))
    return note
