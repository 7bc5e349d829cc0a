"""Physicians who asked for it hear about a new photo of a lesion they can see."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from accounts.selectors import account_can_send_email
from inference.models import Analysis
from inference.signals import analysis_finished
from sharing import tasks
from sharing.selectors import share_links_to_notify


@receiver(analysis_finished, dispatch_uid="sharing.email_the_physicians")
def _email_the_physicians(sender: type[Analysis], analysis: Analysis, first_result: bool, **kwargs: object) -> None:
    """One email per physician with a live link that covers the lesion, queued after the commit.

    Only a photo's first result is news; a failed or not-assessable analysis is not sent on.
    """
    if not first_result or analysis.status != Analysis.Status.DONE:
        return
    for share in share_links_to_notify(lesion=analysis.photo.lesion):
        transaction.on_commit(partial(tasks.send_new_analysis_email.delay, share.pk, analysis.pk))


@receiver(analysis_finished, dispatch_uid="sharing.email_the_change")
def _email_the_change(sender: type[Analysis], analysis: Analysis, first_result: bool, **kwargs: object) -> None:
    """The physicians who asked for new-photo emails also hear when a new photo shows a measured change."""
    if not first_result or analysis.status != Analysis.Status.DONE or not analysis.change_sentences:
        return
    if not account_can_send_email(analysis.photo.lesion.owner):
        return
    for share in share_links_to_notify(lesion=analysis.photo.lesion):
        transaction.on_commit(partial(tasks.send_change_alert_email.delay, share.pk, analysis.pk))
