"""Options every email task shares: retried with backoff on trouble that passes (SMTP, network, database)."""

from smtplib import SMTPException

from django.db import InterfaceError, OperationalError

# SMTP trouble, a refused or dropped connection (OSError), or the database blinking.
EMAIL_TASK = {
    "autoretry_for": (SMTPException, OSError, OperationalError, InterfaceError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}
