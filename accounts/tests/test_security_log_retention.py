"""The security log is kept for SECURITY_LOG_RETENTION_DAYS; the nightly task deletes what is older."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import tasks
from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db


def test_entries_past_the_retention_are_deleted_and_the_rest_kept(alice, bob, settings):
    settings.SECURITY_LOG_RETENTION_DAYS = 365
    now = timezone.now()
    old = SecurityEvent.objects.create(user=alice, kind="login", created_at=now - timedelta(days=366))
    old_bob = SecurityEvent.objects.create(user=bob, kind="login_failed", created_at=now - timedelta(days=400))
    recent = SecurityEvent.objects.create(user=alice, kind="login", created_at=now - timedelta(days=364))
    today = SecurityEvent.objects.create(user=bob, kind="password_changed")

    assert tasks.prune_security_log() == 2

    assert set(SecurityEvent.objects.values_list("pk", flat=True)) == {recent.pk, today.pk}
    assert not SecurityEvent.objects.filter(pk__in=[old.pk, old_bob.pk]).exists()


def test_the_retention_is_a_setting(alice, settings):
    settings.SECURITY_LOG_RETENTION_DAYS = 30
    SecurityEvent.objects.create(user=alice, kind="login", created_at=timezone.now() - timedelta(days=31))
    SecurityEvent.objects.create(user=alice, kind="login", created_at=timezone.now() - timedelta(days=29))
    assert tasks.prune_security_log() == 1
    assert SecurityEvent.objects.count() == 1
