"""Physicians who asked for it hear about a new photo of a lesion they can see."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from inference.models import Analysis
from inference.signals import analysis_finished
from sharing import tasks
from sharing.selectors import share_links_to_notify


@receiver(analysis_finished, dispatch_uid="sharing.email_the_physicians")
def _email_the_physicians(sender, analysis: Analysis, first_result: bool, **kwargs) -> None:
    """One email per physician with a live link that covers the lesion, queued after the commit.

    Only a photo's first result is news; a failed or not-assessable analysis is not sent on.
    """
    if not first_result or analysis.status != Analysis.Status.DONE:
        return
    for share in share_links_to_notify(lesion=analysis.photo.lesion):
        transaction.on_commit(partial(tasks.send_new_analysis_email.delay, share.pk, analysis.pk))
