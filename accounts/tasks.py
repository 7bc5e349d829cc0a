"""The account's emails, sent by the worker (a slow mail server never holds up a page).

Thin: each takes a user id, builds the message with accounts.emails and sends it, retrying
when the mail server or the database is unreachable.
"""

from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts import emails
from accounts.models import User

_EMAIL_TASK = {
    "autoretry_for": (SMTPException, OSError, OperationalError, InterfaceError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(**_EMAIL_TASK)
def send_email_confirmation(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True, email_confirmed=False).first()
    if user is None:
        return False  # deleted, or confirmed since
    emails.email_confirmation(user=user).send()
    return True


@shared_task(**_EMAIL_TASK)
def send_password_reset(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    emails.password_reset(user=user).send()
    return True
