"""One email for several analyses finished together.

Each finished analysis the patient wants to hear about gets a row (`AnalysisEmail`), and a task
runs `ANALYSIS_EMAIL_BATCH_SECONDS` later for it. The run for the newest row sends one email
about every row not yet told of; earlier runs see a newer row and leave the sending to its run.
So a burst (four uploads, analysed within seconds of each other) makes one email, and every row
is sent by some run: the newest row's. A row whose photo was deleted goes with it (cascade); the
run of an older row then finds nothing newer and sends. The queue is only a hint: a periodic sweep
(`analysis_emails_overdue`) queues a run for rows left waiting (a lost message, a dead worker).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from accounts.selectors import account_can_send_email
from inference.models import Analysis
from lesions import emails
from lesions.models import AnalysisEmail

logger = logging.getLogger(__name__)


def analysis_email_queue(*, analysis: Analysis) -> AnalysisEmail:
    """Note that the patient is to be told of `analysis` (once: a repeated call returns the same row)."""
    row, _ = AnalysisEmail.objects.get_or_create(analysis=analysis, defaults={"owner": analysis.photo.lesion.owner})
    return row


def analysis_emails_send(*, owner_id: int, row_id: int) -> int:
    """Send the patient one email about their analyses not yet told of, unless a newer row's run will.

    Returns how many analyses the email told of (0: none sent). The rows are claimed in a short
    transaction (the user's row locked, so two runs cannot both claim them) and the email sent after
    the commit; if sending fails the claim is undone and the error goes up for the task's retry.
    """
    now = timezone.now()
    with transaction.atomic():
        owner = User.objects.select_for_update().filter(pk=owner_id).first()
        if owner is None:
            return 0
        rows = list(
            AnalysisEmail.objects.filter(owner=owner, sent_at=None)
            .select_related("analysis__photo__lesion")
            .order_by("pk")
        )
        if not rows or rows[-1].pk > row_id:
            return 0  # nothing left, or a newer row's run comes later and sends them all
        claimed = AnalysisEmail.objects.filter(pk__in=[row.pk for row in rows])
        claimed.update(sent_at=now)
        analyses = [row.analysis for row in rows if row.analysis.is_finished]
        if not analyses or not owner.email_on_analysis or not account_can_send_email(owner):
            claimed.delete()
            return 0  # turned off since, or the address is not confirmed: nothing is owed later either
        if len(analyses) == 1:
            email = emails.analysis_finished(analysis=analyses[0])
        else:
            email = emails.analyses_finished(owner=owner, analyses=analyses)
    try:
        email.send()
    except Exception:
        AnalysisEmail.objects.filter(pk__in=[row.pk for row in rows], sent_at=now).update(sent_at=None)
        raise
    # Told: the rows have done their job (a row left by a crash just here is never sent again).
    AnalysisEmail.objects.filter(pk__in=[row.pk for row in rows], sent_at=now).delete()
    logger.info("Told user %s of %d finished analyses in one email", owner_id, len(analyses))
    return len(analyses)


def analysis_emails_overdue(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(owner id, newest row id) for each patient with rows waiting far longer than a batch.

    A row still claimed that long after its claim lost its worker before the email went (a sent
    email deletes its rows): it is given back, so it is sent at least once (rarely, twice).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=max(10 * settings.ANALYSIS_EMAIL_BATCH_SECONDS, 600))
    AnalysisEmail.objects.filter(sent_at__lt=cutoff).update(sent_at=None)
    waiting = (
        AnalysisEmail.objects.filter(sent_at=None)
        .values("owner_id")
        .annotate(newest=Max("pk"), latest=Max("created_at"))
        .filter(latest__lt=cutoff)
    )
    return [(row["owner_id"], row["newest"]) for row in waiting]
