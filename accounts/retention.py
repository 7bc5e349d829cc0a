"""How long the security log is kept: SECURITY_LOG_RETENTION_DAYS, pruned nightly by accounts.tasks.

Apart from accounts.services, which imports accounts.tasks: the task calls this, and a service
module the task imported would make a circle.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import SecurityEvent


def security_log_prune(*, now: datetime | None = None) -> int:
    """Delete the security log's entries older than SECURITY_LOG_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SECURITY_LOG_RETENTION_DAYS)
    deleted, _ = SecurityEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
