"""The account's emails, sent by the worker (a slow mail server never holds up a page); the log prune.

Thin: each takes a user id, builds the message with accounts.emails and sends it, retrying
when the mail server or the database is unreachable.
"""

from celery import shared_task

from accounts import emails, retention
from accounts.models import User
from skinsite.lib.tasks import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def send_email_confirmation(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True, email_confirmed=False).first()
    if user is None:
        return False  # deleted, or confirmed since
    emails.email_confirmation(user=user).send()
    return True


@shared_task(**EMAIL_TASK)
def send_password_reset(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    emails.password_reset(user=user).send()
    return True


@shared_task
def prune_security_log() -> int:
    """Nightly: drop security-log entries past SECURITY_LOG_RETENTION_DAYS."""
    return retention.security_log_prune()


@shared_task(**EMAIL_TASK)
def send_sign_up_attempt_notice(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    emails.sign_up_attempt_notice(user=user).send()
    return True
