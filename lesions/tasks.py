"""Celery tasks that email patients about their photos, and the daily re-check digest.

Thin: each takes ids, loads the rows, builds the message (lesions.emails, lesions.reminders) and
sends it. A mail server that is down or slow is retried with backoff; a row deleted since the
task was queued (a deleted photo or account) means there is nothing left to say.
"""

import logging

from celery import shared_task

from accounts.selectors import account_can_send_email
from inference.models import Analysis
from lesions import emails, reminders
from skinsite.lib.tasks import EMAIL_TASK

logger = logging.getLogger(__name__)


@shared_task(**EMAIL_TASK)
def send_analysis_finished_email(analysis_id: int) -> bool:
    """Tell the patient their photo's analysis is done or has failed for good, if they want to know."""
    analysis = Analysis.objects.select_related("photo__lesion__owner").filter(pk=analysis_id).first()
    if analysis is None or not analysis.is_finished:
        return False
    if not analysis.photo.lesion.owner.email_on_analysis:
        return False  # turned off between the analysis and this task
    emails.analysis_finished(analysis=analysis).send()
    return True


@shared_task(**EMAIL_TASK)
def send_change_alert_email(analysis_id: int) -> bool:
    """Tell the patient a new photo shows a measured change, if they want emails and may get them."""
    analysis = Analysis.objects.select_related("photo__lesion__owner").filter(pk=analysis_id).first()
    if analysis is None or not analysis.change_sentences:
        return False
    owner = analysis.photo.lesion.owner
    if not owner.email_on_analysis or not account_can_send_email(owner):
        return False  # turned off (or the address became unconfirmed) since the analysis
    emails.change_alert(analysis=analysis).send()
    return True


@shared_task(**EMAIL_TASK)
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
