"""Celery tasks that email patients about their photos, and the daily re-check digest.

Thin: each takes ids, loads the rows, builds the message (lesions.emails, lesions.reminders) and
sends it. A mail server that is down or slow is retried with backoff; a row deleted since the
task was queued (a deleted photo or account) means there is nothing left to say.
"""

import logging

from celery import shared_task
from django.db import transaction

from accounts.selectors import account_can_send_email
from inference.models import Analysis
from lesions import analysis_emails, emails, reminders, storage
from skinsite.lib.tasks import EMAIL_TASK

logger = logging.getLogger(__name__)


@shared_task(**EMAIL_TASK)
def send_analysis_finished_emails(owner_id: int, row_id: int) -> int:
    """Tell the patient of their analyses finished lately in one email, unless a later run will."""
    return analysis_emails.analysis_emails_send(owner_id=owner_id, row_id=row_id)


@shared_task(acks_late=True)
def send_overdue_analysis_emails() -> int:
    """Periodic (celery beat): queue the run that sends analysis emails left waiting (lost messages)."""
    overdue = analysis_emails.analysis_emails_overdue()
    for owner_id, row_id in overdue:
        send_analysis_finished_emails.delay(owner_id, row_id)
    return len(overdue)


@shared_task(**EMAIL_TASK)
def send_analysis_finished_email(analysis_id: int) -> bool:
    """Tell the patient their photo's analysis is done or has failed for good, if they want to know.

    No longer queued (send_analysis_finished_emails batches them); kept for messages queued before.
    """
    analysis = Analysis.objects.select_related("photo__lesion__owner").filter(pk=analysis_id).first()
    if analysis is None or not analysis.is_finished:
        return False
    owner = analysis.photo.lesion.owner
    if not owner.email_on_analysis or not account_can_send_email(owner):
        return False  # turned off since, or the address is not confirmed
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


class FilesNotDeleted(OSError):
    """Some storage keys could not be deleted; the task is retried for them."""


@shared_task(
    autoretry_for=(FilesNotDeleted,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,
)
def delete_stored_files(names: list[str]) -> int:
    """Delete storage keys whose rows are gone, retried with backoff while storage fails.

    After the last retry the files are still found by the periodic reconciliation.
    """
    failed = storage.stored_files_delete(names=names)
    if failed:
        # Retry only what failed: the task's arguments become the keys still there.
        raise FilesNotDeleted(f"{len(failed)} files not deleted: {', '.join(failed)}")
    return len(names)


def stored_files_delete_after_commit(names: list[str]) -> None:
    """Once the transaction commits, delete these keys now, and hand any that fail to the task.

    The deletion is already committed: a storage or broker error here must not turn the user's
    answer into a 500, so it is logged, and the reconciliation is the last resort.
    """
    names = [name for name in names if name]
    if not names:
        return

    def delete() -> None:
        failed = storage.stored_files_delete(names=names)
        if failed:
            try:
                delete_stored_files.delay(failed)
            except Exception:
                logger.warning("Could not queue the deletion of %s; reconciliation will", failed, exc_info=True)

    transaction.on_commit(delete)


@shared_task(acks_late=True)
def reconcile_storage() -> int:
    """Periodic (celery beat): remove stored files no row names, older than the grace period."""
    return len(storage.storage_orphans_delete())


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
