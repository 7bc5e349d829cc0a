"""Four photos analysed together make one "ready" email, not four; none is lost or sent twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from inference.services import analysis_announce
from lesions import analysis_emails, services, tasks
from lesions.models import AnalysisEmail

pytestmark = pytest.mark.django_db


def _finish(lesion, capture) -> None:
    """A photo of `lesion` analysed by the worker; the email task it queues is not run (yet)."""
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    with capture():
        analysis_announce(finish_analysis(photo))


def _run_all() -> list[int]:
    """Every queued run, in the order the analyses finished (as their countdowns end)."""
    return [tasks.send_analysis_finished_emails(row.owner_id, row.pk) for row in AnalysisEmail.objects.order_by("pk")]


def test_four_analyses_finished_together_make_one_email(alice, lesion, django_capture_on_commit_callbacks):
    other = services.lesion_create(owner=alice, name="Right arm", body_site="hand")
    for target in (lesion, lesion, other, lesion):
        _finish(target, django_capture_on_commit_callbacks)

    row_ids = list(AnalysisEmail.objects.order_by("pk").values_list("pk", flat=True))
    assert _run_all() == [0, 0, 0, 4]  # the newest one's run tells of all four
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert message.subject == "The analyses of your 4 photos are ready"
    # A line per photo, below one headline per lesion (lesions/tests/test_email_headline.py).
    assert message.body.count('"Left shoulder", taken') == 3 and message.body.count('"Right arm", taken') == 1
    assert message.body.count('"Left shoulder": ') == 1 and message.body.count('"Right arm": ') == 1
    assert f"/lesions/{other.pk}/" in message.body

    assert not AnalysisEmail.objects.exists()  # told: the rows are gone
    for row_id in row_ids:  # a redelivered message sends nothing again
        assert tasks.send_analysis_finished_emails(alice.pk, row_id) == 0
    assert len(mail.outbox) == 1


def test_a_later_analysis_gets_its_own_email(lesion, django_capture_on_commit_callbacks):
    _finish(lesion, django_capture_on_commit_callbacks)
    assert _run_all() == [1]
    _finish(lesion, django_capture_on_commit_callbacks)
    assert _run_all() == [1]
    assert [m.subject for m in mail.outbox] == ['The analysis of your photo of "Left shoulder" is ready'] * 2


def test_a_deleted_newest_photo_does_not_lose_the_others_email(lesion, django_capture_on_commit_callbacks):
    for _ in range(3):
        _finish(lesion, django_capture_on_commit_callbacks)
    first, second, newest = AnalysisEmail.objects.order_by("pk")
    tasks.send_analysis_finished_emails(first.owner_id, first.pk)
    services.photo_delete(photo=newest.analysis.photo)
    assert tasks.send_analysis_finished_emails(second.owner_id, second.pk) == 2
    assert len(mail.outbox) == 1


def test_a_failed_send_is_given_back_for_the_retry(lesion, django_capture_on_commit_callbacks, monkeypatch):
    _finish(lesion, django_capture_on_commit_callbacks)
    _finish(lesion, django_capture_on_commit_callbacks)

    def refused(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refused)
    with pytest.raises(OSError):
        _run_all()
    monkeypatch.undo()
    assert AnalysisEmail.objects.filter(sent_at=None).count() == 2  # given back for the retry
    assert _run_all() == [0, 2]
    assert len(mail.outbox) == 1


def test_nothing_is_sent_when_the_patient_turned_emails_off(alice, lesion, django_capture_on_commit_callbacks):
    _finish(lesion, django_capture_on_commit_callbacks)
    alice.email_on_analysis = False
    alice.save()
    assert _run_all() == [0]
    assert mail.outbox == [] and not AnalysisEmail.objects.exists()


def test_rows_left_waiting_are_found_by_the_sweep(alice, lesion, django_capture_on_commit_callbacks):
    _finish(lesion, django_capture_on_commit_callbacks)
    _finish(lesion, django_capture_on_commit_callbacks)
    _, newest = AnalysisEmail.objects.order_by("pk")
    assert analysis_emails.analysis_emails_overdue() == []  # their runs are still to come

    # The queued runs were lost (the broker's messages gone) and an hour has passed.
    later = timezone.now() + timedelta(hours=1)
    assert analysis_emails.analysis_emails_overdue(now=later) == [(alice.pk, newest.pk)]
    assert tasks.send_analysis_finished_emails(alice.pk, newest.pk) == 2
    assert len(mail.outbox) == 1


def test_a_claim_whose_worker_died_is_given_back(alice, lesion, django_capture_on_commit_callbacks):
    _finish(lesion, django_capture_on_commit_callbacks)
    row = AnalysisEmail.objects.get()
    AnalysisEmail.objects.filter(pk=row.pk).update(sent_at=timezone.now())  # claimed, never sent
    later = timezone.now() + timedelta(hours=1)
    assert analysis_emails.analysis_emails_overdue(now=later) == [(alice.pk, row.pk)]
    assert tasks.send_analysis_finished_emails(alice.pk, row.pk) == 1
