"""Celery tasks that send Skinsite's emails, and the daily re-check digest.

Thin: each takes ids, loads the rows, builds the message with lesions.emails and sends it.
A mail server that is down or slow is retried with backoff; a row deleted since the task was
queued (a revoked link, a deleted photo or account) means there is nothing left to say.
"""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from lesions import emails, reminders, sharing
from lesions.models import Analysis, PhysicianNote, ShareLink

logger = logging.getLogger(__name__)

# SMTP trouble, a refused or dropped connection (OSError), or the database blinking.
_EMAIL_TASK = {
    "autoretry_for": (SMTPException, OSError, OperationalError, InterfaceError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(**_EMAIL_TASK)
def send_share_created_email(share_id: int, token: str) -> bool:
    """Email the physician the report link (the only place the raw token is sent)."""
    share = ShareLink.objects.select_related("owner", "lesion").filter(pk=share_id).first()
    if share is None or not share.is_active:
        return False  # revoked before the mail went out: do not send a dead link
    emails.share_created(share=share, url=sharing.share_link_url(token)).send()
    return True


@shared_task(**_EMAIL_TASK)
def send_new_analysis_email(share_id: int, analysis_id: int) -> bool:
    """Tell a physician who asked for it that a new photo of a shared lesion was analysed."""
    share = ShareLink.objects.select_related("owner").filter(pk=share_id).first()
    analysis = Analysis.objects.select_related("photo__lesion").filter(pk=analysis_id).first()
    if share is None or analysis is None or not share.is_active or not share.notify_on_new_analysis:
        return False
    if not sharing.shared_lesions(share=share).filter(pk=analysis.photo.lesion_id).exists():
        return False
    emails.new_analysis_for_physician(share=share, analysis=analysis).send()
    return True


@shared_task(**_EMAIL_TASK)
def send_analysis_finished_email(analysis_id: int) -> bool:
    """Tell the patient their photo's analysis is done or has failed for good, if they want to know."""
    analysis = Analysis.objects.select_related("photo__lesion__owner").filter(pk=analysis_id).first()
    if analysis is None or not analysis.is_finished:
        return False
    if not analysis.photo.lesion.owner.email_on_analysis:
        return False  # turned off between the analysis and this task
    emails.analysis_finished(analysis=analysis).send()
    return True


@shared_task(**_EMAIL_TASK)
def send_note_email(note_id: int) -> bool:
    """Tell the patient a physician left a note on one of their lesions."""
    note = PhysicianNote.objects.select_related("lesion__owner").filter(pk=note_id).first()
    if note is None:
        return False
    emails.note_left(note=note).send()
    return True


@shared_task(**_EMAIL_TASK)
def send_reminder_digest(user_id: int) -> bool:
    """Send one patient today's re-check digest, if one is owed (at most one a day)."""
    return reminders.reminder_digest_send(user_id=user_id)


@shared_task(acks_late=True)
def send_due_reminders() -> int:
    """Daily (celery beat): queue one digest task per patient who may have lesions due.

    One task per patient, so one bad address or a mail server hiccup retries that digest only.
    """
    user_ids = reminders.users_with_reminders_due()
    for user_id in user_ids:
        send_reminder_digest.delay(user_id)
    logger.info("Queued re-check digests for %d users", len(user_ids))
    return len(user_ids)
