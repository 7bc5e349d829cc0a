"""The report-access log is kept for REPORT_ACCESS_LOG_RETENTION_DAYS; the nightly task deletes what is older."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sharing import tasks
from sharing.models import PhysicianNote, ShareAccess, ShareLink

pytestmark = pytest.mark.django_db


def _opened(share, days_ago: int, kind: str = "report") -> ShareAccess:
    access = ShareAccess.objects.create(share=share, kind=kind)
    # auto_now_add ignores a value given at creation: age the row afterwards.
    ShareAccess.objects.filter(pk=access.pk).update(accessed_at=timezone.now() - timedelta(days=days_ago))
    return access


def test_openings_past_the_retention_go_and_the_link_and_notes_stay(share, lesion, settings):
    settings.REPORT_ACCESS_LOG_RETENTION_DAYS = 365
    old_report, old_pdf = _opened(share, 366), _opened(share, 500, kind="pdf")
    recent = _opened(share, 364)
    note = PhysicianNote.objects.create(lesion=lesion, share=share, author_email="dr@clinic.example", body="Fine.")
    PhysicianNote.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(days=800))

    assert tasks.prune_report_access_log() == 2

    assert list(share.accesses.values_list("pk", flat=True)) == [recent.pk]
    assert not ShareAccess.objects.filter(pk__in=[old_report.pk, old_pdf.pk]).exists()
    assert ShareLink.objects.filter(pk=share.pk).exists()
    assert PhysicianNote.objects.filter(pk=note.pk).exists()


def test_the_retention_is_a_setting(share, settings):
    settings.REPORT_ACCESS_LOG_RETENTION_DAYS = 7
    _opened(share, 8)
    _opened(share, 6)
    assert tasks.prune_report_access_log() == 1
    assert share.accesses.count() == 1
