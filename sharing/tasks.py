"""Celery tasks that send sharing's emails, and the nightly prune of the report-access log.

Thin: each takes ids, loads the rows, builds the message with sharing.emails and sends it. A row
deleted since the task was queued (a revoked link, a deleted photo or account) means there is
nothing left to say. The task names are the ones they had in `lesions.tasks`, so messages queued
before an upgrade still find their task.
"""

from celery import shared_task

from accounts.selectors import account_can_send_email
from inference.models import Analysis
from sharing import emails, retention
from sharing.models import PhysicianNote, ShareLink
from sharing.selectors import share_link_url, shared_lesions
from skinsite.lib.tasks import EMAIL_TASK


@shared_task(name="lesions.tasks.send_share_created_email", **EMAIL_TASK)
def send_share_created_email(share_id: int, token: str) -> bool:
    """Email the physician the report link (the only place the raw token is sent)."""
    share = ShareLink.objects.select_related("owner", "lesion").filter(pk=share_id).first()
    if share is None or not share.is_active:
        return False  # revoked before the mail went out: do not send a dead link
    if not account_can_send_email(share.owner):
        return False  # no email in the name of an unconfirmed (or closed) account
    emails.share_created(share=share, url=share_link_url(token)).send()
    return True


@shared_task(name="lesions.tasks.send_new_analysis_email", **EMAIL_TASK)
def send_new_analysis_email(share_id: int, analysis_id: int) -> bool:
    """Tell a physician who asked for it that a new photo of a shared lesion was analysed."""
    share = ShareLink.objects.select_related("owner").filter(pk=share_id).first()
    analysis = Analysis.objects.select_related("photo__lesion").filter(pk=analysis_id).first()
    if share is None or analysis is None or not share.is_active or not share.notify_on_new_analysis:
        return False
    if not account_can_send_email(share.owner):
        return False
    if not shared_lesions(share=share).filter(pk=analysis.photo.lesion_id).exists():
        return False
    emails.new_analysis_for_physician(share=share, analysis=analysis).send()
    return True


@shared_task(**EMAIL_TASK)
def send_change_alert_email(share_id: int, analysis_id: int) -> bool:
    """Tell a physician who asked for new-photo emails that a shared lesion changed measurably."""
    share = ShareLink.objects.select_related("owner").filter(pk=share_id).first()
    analysis = Analysis.objects.select_related("photo__lesion").filter(pk=analysis_id).first()
    if share is None or analysis is None or not share.is_active or not share.notify_on_new_analysis:
        return False
    if not analysis.change_sentences or not account_can_send_email(share.owner):
        return False
    if not shared_lesions(share=share).filter(pk=analysis.photo.lesion_id).exists():
        return False
    emails.change_alert_for_physician(share=share, analysis=analysis).send()
    return True


@shared_task(name="lesions.tasks.send_note_email", **EMAIL_TASK)
def send_note_email(note_id: int) -> bool:
    """Tell the patient a physician left a note on one of their lesions."""
    note = PhysicianNote.objects.select_related("lesion__owner").filter(pk=note_id).first()
    if note is None or not account_can_send_email(note.lesion.owner):
        return False  # gone, or the patient's address is not confirmed
    emails.note_left(note=note).send()
    return True


@shared_task
def prune_report_access_log() -> int:
    """Nightly: drop report-access entries past REPORT_ACCESS_LOG_RETENTION_DAYS."""
    return retention.report_access_log_prune()
