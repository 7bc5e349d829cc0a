"""How long the report-access log is kept: REPORT_ACCESS_LOG_RETENTION_DAYS, pruned nightly by sharing.tasks.

Apart from sharing.services, which imports sharing.tasks: the task calls this, and a service
module the task imported would make a circle.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sharing.models import ShareAccess


def report_access_log_prune(*, now: datetime | None = None) -> int:
    """Delete report openings older than REPORT_ACCESS_LOG_RETENTION_DAYS; returns how many.

    The links themselves, and physicians' notes, stay: only the record of when a report was opened goes.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.REPORT_ACCESS_LOG_RETENTION_DAYS)
    deleted, _ = ShareAccess.objects.filter(accessed_at__lt=cutoff).delete()
    return deleted
