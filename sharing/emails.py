"""The emails sharing sends: to physicians (a new report, a new photo) and to patients (a note).

Emails say *that* there is something to see and link to it; they never carry probabilities or a
physician's note. Email is neither private nor under the patient's control, and a result read
without the page's context (chart, notice) is easy to misread.
"""

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from inference.models import Analysis
from sharing.models import PhysicianNote, ShareLink
from skinsite.lib.emails import message
from skinsite.lib.urls import absolute_url


def share_created(*, share: ShareLink, url: str) -> EmailMultiAlternatives:
    """To the physician: a patient shared a report, here is the link and until when it works."""
    return message(
        "share-created",
        to=share.physician_email,
        context={"share": share, "patient_name": share.shown_name, "url": url},
    )


def new_analysis_for_physician(*, share: ShareLink, analysis: Analysis) -> EmailMultiAlternatives:
    """To the physician: a new photo of a lesion they can see was analysed.

    The report link cannot be repeated (only its hash is kept), so the email points to the
    earlier one and says until when it works.
    """
    photo = analysis.photo
    return message(
        "new-analysis-physician",
        to=share.physician_email,
        context={"share": share, "patient_name": share.shown_name, "lesion": photo.lesion, "photo": photo},
    )


def change_alert_for_physician(*, share: ShareLink, analysis: Analysis) -> EmailMultiAlternatives:
    """To the physician: a new photo of a lesion they can see shows a measured change."""
    photo = analysis.photo
    return message(
        "change-alert-physician",
        to=share.physician_email,
        context={"share": share, "patient_name": share.owner.name, "lesion": photo.lesion, "photo": photo},
    )


def note_left(*, note: PhysicianNote) -> EmailMultiAlternatives:
    """To the patient: a physician left a note on one of their lesions."""
    lesion = note.lesion
    # The patient's own page: it asks for a login first, so a forwarded email opens nothing.
    url = absolute_url(reverse("lesions:detail", args=[lesion.pk])) + "#notes"
    return message(
        "note-left",
        to=lesion.owner.email,
        context={"user": lesion.owner, "lesion": lesion, "note": note, "url": url},
    )
