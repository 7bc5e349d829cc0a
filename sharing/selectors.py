"""Reads for sharing, each scoped to the user or the link it serves, so a view cannot forget the check.

A physician's token is looked up by its SHA-256 (a unique index) and the hashes are compared
with `hmac.compare_digest`, which leaves no timing signal about how close a guess was.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from inference.models import Analysis
from lesions.charts import timeline_chart_data
from lesions.models import Lesion, Photo
from lesions.selectors import (
    TimelineEntry,
    assessable_photos,
    lesion_assessment,
    lesion_history,
    lesion_size_history,
)
from sharing.models import PhysicianNote, ShareLink
from skinsite.lib.urls import absolute_url

# token_urlsafe(32) is 43 characters; anything much longer is not ours and is not hashed.
_TOKEN_MAX_LENGTH = 64


class ShareLinkGone(ValidationError):
    """The link existed but was revoked or has expired: the report answers 410, not 404."""

    def __init__(self, share: ShareLink):
        super().__init__("This link no longer works: it was revoked or has expired.", code="gone")
        self.share = share


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_link_url(token: str) -> str:
    """The absolute address of the report, for emails and the API (SITE_URL, not the request host)."""
    return absolute_url(reverse("sharing:report-open", args=[token]))


def _live(share: ShareLink) -> ShareLink:
    if not share.is_active or not share.owner.is_active:
        raise ShareLinkGone(share)
    return share


def share_link_resolve(*, token: str) -> ShareLink:
    """The link a physician's token opens. Http404 for an unknown token, ShareLinkGone if dead."""
    if not token or len(token) > _TOKEN_MAX_LENGTH:
        raise Http404("No such report.")
    wanted = token_hash(token)
    share = ShareLink.objects.select_related("owner", "lesion").filter(token_hash=wanted).first()
    if share is None or not hmac.compare_digest(share.token_hash, wanted):
        raise Http404("No such report.")
    return _live(share)


def share_link_for_session(*, share_id: int, token_hash: str) -> ShareLink:
    """The link a report session was opened for, checked again on every request: Http404 if it is
    gone (or is not the link the session's token opened), ShareLinkGone once revoked or expired."""
    share = ShareLink.objects.select_related("owner", "lesion").filter(pk=share_id).first()
    if share is None or not hmac.compare_digest(share.token_hash, token_hash):
        raise Http404("No such report.")
    return _live(share)


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
    """A photo of a shared lesion; any other photo, or one refused as not assessable (no result: the
    patient keeps it, the physician is not shown it), is not found, whoever owns it."""
    photos = assessable_photos(Photo.objects.filter(lesion__in=shared_lesions(share=share)))
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
    """One lesion of a report: its assessable photos in order, their analyses, the chart's numbers,
    the lesion's answer (`lesions.selectors.lesion_assessment`, None before any result) and its size
    in mm over time (`lesions.selectors.lesion_size_history`: only photos with a scale)."""

    lesion: Lesion
    history: list[TimelineEntry]
    chart: dict
    assessment: dict[str, Any] | None
    sizes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def latest_size(self) -> dict[str, Any] | None:
        """The most recent size in mm, for the report's summary; None when no photo has one."""
        return self.sizes[-1] if self.sizes else None

    @property
    def followed_since(self) -> datetime | None:
        """When the first photo was taken: the lesion row may be younger (added, or shared, later)."""
        return self.history[0].photo.taken_at if self.history else None


def report_sections(
    *, lesions: QuerySet[Lesion] | list[Lesion], with_not_assessable: bool = False
) -> list[ReportSection]:
    """What the HTML report and the PDF show for each lesion, computed once for both.

    Photos refused as not assessable are no result: the physician's report leaves them out. The
    patient's own PDF (`with_not_assessable=True`) keeps them, marked, as their timeline does; the
    chart and the lesion's answer never use them.
    """
    sections = []
    for lesion in lesions:
        history = lesion_history(lesion=lesion)
        assessable = [e for e in history if e.analysis is None or e.analysis.status != Analysis.Status.NOT_ASSESSABLE]
        sections.append(
            ReportSection(
                lesion=lesion,
                history=history if with_not_assessable else assessable,
                chart=timeline_chart_data(assessable),
                assessment=lesion_assessment(lesion=lesion, history=assessable),
                sizes=lesion_size_history(lesion, history=assessable),
            )
        )
    return sections
