"""Sharing a report with a physician: links, their access log, and the notes physicians leave.

A link carries a random token (`secrets.token_urlsafe(32)`, 256 bits). Only its SHA-256 is
stored, so neither a database dump nor an operator can open a report; the raw token exists in
the patient's browser once, in the physician's email, and in the task message that sends it.
Looking a token up by its hash (a unique index) and comparing the hashes with
`hmac.compare_digest` leaves no timing signal about how close a guess was.

Services (writes) are keyword-only `<entity>_<verb>` functions; selectors (reads) take the
user or the share they are scoped to, so a view cannot forget the check.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from lesions.charts import timeline_chart_data
from lesions.models import Lesion, Photo, PhysicianNote, ShareAccess, ShareLink
from lesions.selectors import TimelineEntry, lesion_history

DEFAULT_EXPIRY_DAYS = 30
MIN_EXPIRY_DAYS = 1
MAX_EXPIRY_DAYS = 90
MESSAGE_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 4000
# token_urlsafe(32) is 43 characters; anything much longer is not ours and is not hashed.
_TOKEN_MAX_LENGTH = 64


class ShareLinkGone(Exception):
    """The link existed but was revoked or has expired (the page answers 410)."""

    def __init__(self, share: ShareLink):
        super().__init__(f"share link {share.pk} is {share.status}")
        self.share = share


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_link_url(token: str) -> str:
    """The absolute address of the report, for emails and the API (SITE_URL, not the request host)."""
    return settings.SITE_URL + reverse("report:report", args=[token])


# --- Services ---------------------------------------------------------------------------------


def share_link_create(
    *,
    owner: User,
    physician_email: str,
    lesion: Lesion | None = None,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    message: str = "",
    notify_on_new_analysis: bool = False,
) -> tuple[ShareLink, str]:
    """Share `lesion` (None: all of `owner`'s lesions) with a physician and email them the link.

    Returns the link and its raw token, which is not stored anywhere and so cannot be shown
    again. Raises ValidationError (by field) for a bad email address, expiry or message.
    """
    physician_email = physician_email.strip().lower()
    message = message.strip()
    errors: dict[str, str] = {}
    try:
        validate_email(physician_email)
    except ValidationError:
        errors["physician_email"] = "Enter the physician's email address, like name@clinic.example."
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
        errors["expires_in_days"] = "Enter a whole number of days."
    elif not MIN_EXPIRY_DAYS <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = f"A link can last from {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days."
    if len(message) > MESSAGE_MAX_LENGTH:
        errors["message"] = f"Keep the message under {MESSAGE_MAX_LENGTH} characters."
    if errors:
        raise ValidationError(errors)
    if lesion is not None and lesion.owner_id != owner.pk:
        # Views look the lesion up by owner already; this keeps a future caller honest.
        raise Http404("No such lesion.")

    token = secrets.token_urlsafe(32)
    share = ShareLink.objects.create(
        owner=owner,
        lesion=lesion,
        physician_email=physician_email,
        token_hash=token_hash(token),
        message=message,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
        notify_on_new_analysis=notify_on_new_analysis,
    )
    from lesions import tasks  # tasks import this module

    # The raw token rides in the task message: the email is the one place it must reach.
    transaction.on_commit(partial(tasks.send_share_created_email.delay, share.pk, token))
    return share, token


def share_link_revoke(*, share: ShareLink) -> ShareLink:
    """Kill the link now; its report answers 410 from the next request on. Idempotent."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
    return share


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
    from lesions import tasks

    transaction.on_commit(partial(tasks.send_note_email.delay, note.pk))
    return note


# --- Selectors --------------------------------------------------------------------------------


def share_link_resolve(*, token: str) -> ShareLink:
    """The link a physician's token opens. Http404 for an unknown token, ShareLinkGone if dead."""
    if not token or len(token) > _TOKEN_MAX_LENGTH:
        raise Http404("No such report.")
    wanted = token_hash(token)
    share = ShareLink.objects.select_related("owner", "lesion").filter(token_hash=wanted).first()
    if share is None or not hmac.compare_digest(share.token_hash, wanted):
        raise Http404("No such report.")
    if not share.is_active or not share.owner.is_active:
        raise ShareLinkGone(share)
    return share


def shares_for_user(*, user: User) -> QuerySet[ShareLink]:
    """Every link the user made, newest first, with how often and when it was last opened."""
    return (
        ShareLink.objects.filter(owner=user)
        .select_related("lesion")
        .prefetch_related("accesses")
        .annotate(access_count=Count("accesses"), last_accessed_at=Max("accesses__accessed_at"))
        # Explicit: Meta.ordering is not applied to an aggregated (GROUP BY) query.
        .order_by("-created_at", "-id")
    )


def share_get(*, user: User, share_id: int) -> ShareLink:
    return get_object_or_404(shares_for_user(user=user), pk=share_id)


def shared_lesions(*, share: ShareLink) -> QuerySet[Lesion]:
    """The lesions a link opens: its one lesion, or every lesion the patient has now."""
    lesions = Lesion.objects.filter(owner_id=share.owner_id)
    return lesions.filter(pk=share.lesion_id) if share.lesion_id else lesions.order_by("name", "pk")


def shared_lesion_get(*, share: ShareLink, lesion_id: int) -> Lesion:
    return get_object_or_404(shared_lesions(share=share), pk=lesion_id)


def shared_photo_get(*, share: ShareLink, photo_id: int) -> Photo:
    """A photo of a shared lesion; any other photo is not found, whoever owns it."""
    photos = Photo.objects.filter(lesion__in=shared_lesions(share=share))
    return get_object_or_404(photos.select_related("lesion"), pk=photo_id)


def notes_for_lesion(*, lesion: Lesion, share: ShareLink | None = None) -> QuerySet[PhysicianNote]:
    """Notes on a lesion, newest first; with `share`, only those left through that link."""
    notes = PhysicianNote.objects.filter(lesion=lesion)
    return notes.filter(share=share) if share is not None else notes


def share_links_to_notify(*, lesion: Lesion) -> list[ShareLink]:
    """Live links that asked for new-photo emails and cover `lesion`, one per physician.

    A physician who holds both a link to this lesion and one to all lesions gets one email,
    pointing at the link that lives longest.
    """
    links = (
        ShareLink.objects.filter(
            owner_id=lesion.owner_id,
            notify_on_new_analysis=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .filter(Q(lesion=lesion) | Q(lesion__isnull=True))
        .order_by("physician_email", "-expires_at")
    )
    by_email: dict[str, ShareLink] = {}
    for link in links:
        by_email.setdefault(link.physician_email, link)
    return list(by_email.values())


@dataclass(frozen=True)
class ReportSection:
    """One lesion of a report: its photos in order, their analyses, and the chart's numbers."""

    lesion: Lesion
    history: list[TimelineEntry]
    chart: dict


def report_sections(*, lesions: QuerySet[Lesion] | list[Lesion]) -> list[ReportSection]:
    """What the HTML report and the PDF show for each lesion, computed once for both."""
    sections = []
    for lesion in lesions:
        history = lesion_history(lesion=lesion)
        sections.append(ReportSection(lesion=lesion, history=history, chart=timeline_chart_data(history)))
    return sections
