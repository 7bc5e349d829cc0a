"""Reads on accounts."""

from django.db.models import QuerySet

from accounts.models import SecurityEvent, User


def security_events_for_user(*, user: User, limit: int = 50) -> QuerySet[SecurityEvent]:
    """The newest entries of the user's security log."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def account_can_send_email(user: User) -> bool:
    """Whether Skinsite may send email on this account's behalf or to it about its data (a shared
    report to a physician, analysis and note emails): only once its address is confirmed.

    Sharing calls this before creating a share link or queueing such an email.
    """
    return bool(user.is_active and user.email_confirmed)
