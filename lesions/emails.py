"""The email a patient gets about their own photos (the re-check digest: lesions.reminders).

Functions here only build messages; tasks in lesions.tasks send them. Emails say *that* there
is something to see and link to it; they never carry probabilities (see sharing.emails). Each one
about a lesion's photo leads with the lesion's headline, the same "what to do" sentence as its page.
"""

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from accounts.models import User
from inference.models import Analysis
from lesions import selectors
from lesions.models import Lesion
from skinsite.lib.emails import message
from skinsite.lib.urls import absolute_url


def lesion_url(lesion_id: int) -> str:
    # The patient's own page: it asks for a login first, so a forwarded email opens nothing.
    return absolute_url(reverse("lesions:detail", args=[lesion_id]))


# The bands' colours on the site (static/skinsite/skinsite.css), inline: mail clients drop style sheets.
BAND_COLOURS = {"high": "#c9302c", "medium": "#b45309", "low": "#15803d", None: "#6b7280"}


def lesion_headline(lesion: Lesion) -> dict[str, Any] | None:
    """The lesion's answer as an email leads with it (title, band, colour), or None while it has none."""
    assessment = selectors.lesion_assessment(lesion=lesion)
    if assessment is None:
        return None
    band = assessment.get("band")
    return {"title": assessment["title"], "band": band, "colour": BAND_COLOURS.get(band, BAND_COLOURS[None])}


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
            "headline": lesion_headline(lesion),
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
            "headline": lesion_headline(lesion),
            "url": lesion_url(lesion.pk),
            "settings_url": absolute_url(reverse("account-settings")),
        },
    )


def analyses_finished(*, owner: User, analyses: list[Analysis]) -> EmailMultiAlternatives:
    """To the patient: several analyses finished together (lesions.analysis_emails), one line each."""
    headlines: dict[int, dict[str, Any] | None] = {}
    for a in analyses:
        if a.photo.lesion_id not in headlines:
            headlines[a.photo.lesion_id] = lesion_headline(a.photo.lesion)
    items = [
        {
            "lesion": a.photo.lesion,
            "photo": a.photo,
            "analysis": a,
            "headline": headlines[a.photo.lesion_id],
            "url": lesion_url(a.photo.lesion_id),
        }
        for a in analyses
    ]
    return message(
        "analyses-finished",
        to=owner.email,
        context={
            "user": owner,
            "items": items,
            # One headline per lesion, leading the email, in the order its photos came.
            "headlines": [
                {"lesion": a.photo.lesion} | headline
                for a in analyses
                if (headline := headlines.pop(a.photo.lesion_id, None)) is not None
            ],
            "count": len(items),
            "url": absolute_url(reverse("lesions:dashboard")),
            "settings_url": absolute_url(reverse("account-settings")),
        },
    )
