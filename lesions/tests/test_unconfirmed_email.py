"""An account whose address is not confirmed gets no analysis, note or re-check email (issue 11):
anyone can sign up with someone else's address."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from inference.services import analysis_announce
from lesions import reminders
from lesions.models import Lesion
from sharing import services as sharing_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def unconfirmed_alice(alice):
    alice.email_confirmed = False
    alice.save()
    return alice


def test_no_analysis_email_to_an_unconfirmed_address(
    unconfirmed_alice, done_photo, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        analysis_announce(done_photo.analyses.get())
    assert mail.outbox == []


def test_no_note_email_to_an_unconfirmed_address(alice, share, lesion, eager_tasks, django_capture_on_commit_callbacks):
    alice.email_confirmed = False
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        sharing_services.physician_note_create(share=share, lesion=lesion, body="Looks fine.")
    assert mail.outbox == []


def test_no_reminder_digest_to_an_unconfirmed_address(unconfirmed_alice, lesion):
    Lesion.objects.filter(pk=lesion.pk).update(
        recheck_interval_months=1, created_at=timezone.now() - timedelta(days=60)
    )
    assert reminders.reminder_digest_send(user_id=unconfirmed_alice.pk) is False
    assert mail.outbox == []
    unconfirmed_alice.email_confirmed = True
    unconfirmed_alice.save()
    assert reminders.reminder_digest_send(user_id=unconfirmed_alice.pk) is True
    assert len(mail.outbox) == 1
