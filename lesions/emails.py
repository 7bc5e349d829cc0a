"""Building the emails Skinsite sends, from templates in templates/emails/.

Each email is three templates: `<name>-subject.txt`, `<name>-body.txt` and `<name>-body.html`.
Functions here only build messages; tasks in lesions.tasks send them, so a slow or failing mail
server never holds up a page or the analysis worker.

Emails say *that* there is something to see and link to it; they never carry probabilities or a
physician's note. Email is neither private nor under the patient's control, and a result read
without the page's context (chart, notice) is easy to misread.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from lesions.models import Analysis, PhysicianNote, ShareLink
from lesions.reminders import DueLesion, unsubscribe_url


def absolute_url(path: str) -> str:
    """Links in emails use SITE_URL: a task has no request to take the host from."""
    return settings.SITE_URL + path


def _message(name: str, *, to: str, context: dict, headers: dict | None = None) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    # Subjects are one line whatever the template's whitespace.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def _lesion_url(lesion_id: int) -> str:
    # The patient's own page: it asks for a login first, so a forwarded email opens nothing.
    return absolute_url(reverse("lesions:detail", args=[lesion_id]))


def share_created(*, share: ShareLink, url: str) -> EmailMultiAlternatives:
    """To the physician: a patient shared a report, here is the link and until when it works."""
    return _message(
        "share-created",
        to=share.physician_email,
        context={"share": share, "patient_name": share.owner.name, "url": url},
    )


def new_analysis_for_physician(*, share: ShareLink, analysis: Analysis) -> EmailMultiAlternatives:
    """To the physician: a new photo of a lesion they can see was analysed.

    The report link cannot be repeated (only its hash is kept), so the email points to the
    earlier one and says until when it works.
    """
    photo = analysis.photo
    return _message(
        "new-analysis-physician",
        to=share.physician_email,
        context={"share": share, "patient_name": share.owner.name, "lesion": photo.lesion, "photo": photo},
    )


def analysis_finished(*, analysis: Analysis) -> EmailMultiAlternatives:
    """To the patient: the analysis of their photo is ready (or could not be done)."""
    photo = analysis.photo
    lesion = photo.lesion
    return _message(
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


def note_left(*, note: PhysicianNote) -> EmailMultiAlternatives:
    """To the patient: a physician left a note on one of their lesions."""
    lesion = note.lesion
    return _message(
        "note-left",
        to=lesion.owner.email,
        context={"user": lesion.owner, "lesion": lesion, "note": note, "url": _lesion_url(lesion.pk) + "#notes"},
    )


def reminder_digest(*, user: User, due: list[DueLesion], newly_due: Iterable[int] = ()) -> EmailMultiAlternatives:
    """To the patient: the lesions due for a new photo, each with since when and a link."""
    newly_due = set(newly_due)
    unsubscribe = unsubscribe_url(user=user)
    rows = [
        {"due": d, "url": _lesion_url(d.lesion.pk), "is_new": d.lesion.pk in newly_due}
        for d in due  # already longest overdue first
    ]
    return _message(
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
