"""What lesions does when something happens to its rows or to an analysis of its photos.

Photo files leave storage with their rows, however the rows were deleted: a photo can go on its
own, with its lesion, or with the whole account (cascades), and a post_delete receiver is the one
place all three pass through. The files are removed only after the transaction commits, so a
rolled-back delete never loses a photo; a storage error is retried by a task, and a periodic
reconciliation removes what still escaped (lesions.storage). An analysis's heatmap goes the same
way (photos cascade to their analyses), handled here so the retry lives in one app.
"""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.selectors import account_can_send_email
from inference.models import Analysis
from inference.signals import analysis_finished
from lesions import analysis_emails, tasks
from lesions.models import Photo


@receiver(post_delete, sender=Photo, dispatch_uid="lesions.photo_files_cleanup")
def _delete_photo_files(sender: type[Photo], instance: Photo, **kwargs: object) -> None:
    # After the commit; a storage error is retried by a task (see lesions.storage).
    tasks.stored_files_delete_after_commit([instance.image.name, instance.thumbnail.name])


@receiver(post_delete, sender=Analysis, dispatch_uid="inference.analysis_heatmap_cleanup")
def _delete_analysis_heatmap(sender: type[Analysis], instance: Analysis, **kwargs: object) -> None:
    tasks.stored_files_delete_after_commit([instance.heatmap.name])


@receiver(analysis_finished, dispatch_uid="lesions.email_the_patient")
def _email_the_patient(sender: type[Analysis], analysis: Analysis, first_result: bool, **kwargs: object) -> None:
    """Queue the patient's email about a first result (or a failure), if they want it, after the commit.

    A while later, so that analyses finished together make one email (lesions.analysis_emails).
    """
    owner = analysis.photo.lesion.owner
    if first_result and owner.email_on_analysis:
        row = analysis_emails.analysis_email_queue(analysis=analysis)
        send = partial(
            tasks.send_analysis_finished_emails.apply_async,
            args=[owner.pk, row.pk],
            countdown=settings.ANALYSIS_EMAIL_BATCH_SECONDS,
        )
        transaction.on_commit(send)


@receiver(analysis_finished, dispatch_uid="lesions.email_the_change")
def _email_the_change(sender: type[Analysis], analysis: Analysis, first_result: bool, **kwargs: object) -> None:
    """Queue the patient's change alert when a new photo's result shows a measured change."""
    if not first_result or analysis.status != Analysis.Status.DONE or not analysis.change_sentences:
        return
    owner = analysis.photo.lesion.owner
    if owner.email_on_analysis and account_can_send_email(owner):
        transaction.on_commit(partial(tasks.send_change_alert_email.delay, analysis.pk))
