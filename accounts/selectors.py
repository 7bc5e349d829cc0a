"""Reads on accounts."""

from django.db.models import QuerySet

from accounts.models import SecurityEvent, User


def security_events_for_user(*, user: User, limit: int = 50) -> QuerySet[SecurityEvent]:
    """The newest entries of the user's security log."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")[:limit]
