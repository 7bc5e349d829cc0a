"""What happens around a lesion that someone should hear about (emails are sent from tasks)."""

from functools import partial

from django.db import transaction

from lesions.models import Analysis


def analysis_finished(analysis: Analysis) -> None:
    """Called by the worker once an analysis is done or has failed for good.

    Queues the patient's email (if they want it) and, for a new result, one email per physician
    who asked to hear about new photos of this lesion. Nothing is sent inline and nothing is
    queued before the analysis row is committed.
    """
    from lesions import tasks  # via lesions.selectors they import inference, which imports us
    from sharing import selectors as sharing_selectors
    from sharing import tasks as sharing_tasks

    photo = analysis.photo
    lesion = photo.lesion
    # A photo analysed again (a new model version) is not news: only its first result is.
    if photo.analyses.filter(status=Analysis.Status.DONE).exclude(pk=analysis.pk).exists():
        return
    if lesion.owner.email_on_analysis:
        transaction.on_commit(partial(tasks.send_analysis_finished_email.delay, analysis.pk))
    if analysis.status == Analysis.Status.DONE:
        for share in sharing_selectors.share_links_to_notify(lesion=lesion):
            transaction.on_commit(partial(sharing_tasks.send_new_analysis_email.delay, share.pk, analysis.pk))
