"""The emails a patient gets about their own lesions, from templates in templates/emails/.

Functions here only build messages; tasks in lesions.tasks send them. Emails say *that* there
is something to see and link to it; they never carry probabilities (see sharing.emails).
"""

from collections.abc import Iterable

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from accounts.models import User
from inference.models import Analysis
from lesions.reminders import DueLesion, unsubscribe_url
from skinsite.lib.emails import message
from skinsite.lib.urls import absolute_url


def _lesion_url(lesion_id: int) -> str:
    # The patient's own page: it asks for a login first, so a forwarded email opens nothing.
    return absolute_url(reverse("lesions:detail", args=[lesion_id]))


def analysis_finished(*, analysis: Analysis) -> EmailMultiAlternatives:
    """To the patient: the analysis of their photo is ready (or could not be done)."""
    photo = analysis.photo
    lesion = photo.lesion
    return message(
        "analysis-finished",
        to=lesion.owner.email,
        context={
            "user": lesion.owner,
            "lesion": lesion,
            "photo": photo,
            "analysis": analysis,
            "url": _lesion_url(lesion.pk),
            "settings_url": absolute_url(reverse("account-settings")),
        },
    )


def reminder_digest(*, user: User, due: list[DueLesion], newly_due: Iterable[int] = ()) -> EmailMultiAlternatives:
    """To the patient: the lesions due for a new photo, each with since when and a link."""
    newly_due = set(newly_due)
    unsubscribe = unsubscribe_url(user=user)
    rows = [
        {"due": d, "url": _lesion_url(d.lesion.pk), "is_new": d.lesion.pk in newly_due}
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
