"""The email a patient gets about their own photos (the re-check digest: lesions.reminders).

Functions here only build messages; tasks in lesions.tasks send them. Emails say *that* there
is something to see and link to it; they never carry probabilities (see sharing.emails).
"""

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from accounts.models import User
from inference.models import Analysis
from skinsite.lib.emails import message
from skinsite.lib.urls import absolute_url


def lesion_url(lesion_id: int) -> str:
    # The patient's own page: it asks for a login first, so a forwarded email opens nothing.
    return absolute_url(reverse("lesions:detail", args=[lesion_id]))


def change_alert(*, analysis: Analysis) -> EmailMultiAlternatives:
    """To the patient: a new photo shows a measured change; the page says what (the email does not)."""
    photo = analysis.photo
    lesion = photo.lesion
    return message(
        "change-alert",
        to=lesion.owner.email,
        context={
            "user": lesion.owner,
            "lesion": lesion,
            "photo": photo,
            "url": lesion_url(lesion.pk),
            "settings_url": absolute_url(reverse("account-settings")),
        },
    )


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
            "url": lesion_url(lesion.pk),
            "settings_url": absolute_url(reverse("account-settings")),
        },
    )


def analyses_finished(*, owner: User, analyses: list[Analysis]) -> EmailMultiAlternatives:
    """To the patient: several analyses finished together (lesions.analysis_emails), one line each."""
    items = [
        {"lesion": a.photo.lesion, "photo": a.photo, "analysis": a, "url": lesion_url(a.photo.lesion_id)}
        for a in analyses
    ]
    return message(
        "analyses-finished",
        to=owner.email,
        context={
            "user": owner,
            "items": items,
            "count": len(items),
            "url": absolute_url(reverse("lesions:dashboard")),
            "settings_url": absolute_url(reverse("account-settings")),
        },
    )
