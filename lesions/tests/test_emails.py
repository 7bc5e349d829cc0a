"""The emails a patient gets about their own photos, sent for real (locmem backend) by their task after the commit."""

import pytest
from django.core import mail

from conftest import finish_analysis
from inference.models import Analysis
from inference.services import analysis_announce

pytestmark = pytest.mark.django_db


def _html(message) -> str:
    (content, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return content


def _analysis_finished(analysis: Analysis, capture) -> None:
    """What the worker does when an analysis ends, with the queued tasks run after the commit."""
    with capture(execute=True):
        analysis_announce(analysis)


# --- To the patient -----------------------------------------------------------------------------


def test_patient_is_told_when_an_analysis_is_ready(
    client, lesion, done_photo, eager_tasks, django_capture_on_commit_callbacks
):
    _analysis_finished(done_photo.analyses.get(), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == 'The analysis of your photo of "Left shoulder" is ready'
    url = f"http://127.0.0.1:8000/lesions/{lesion.pk}/"
    assert url in message.body and url in _html(message)
    assert "do not diagnose" in message.body
    assert "Melanocytic" not in message.body  # the result is on the site, behind the login
    assert "/accounts/settings/" in message.body  # how to turn these off
    # The link goes through the login.
    response = client.get(f"/lesions/{lesion.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_patient_is_told_when_an_analysis_failed_for_good(photo, eager_tasks, django_capture_on_commit_callbacks):
    analysis = finish_analysis(photo, status="failed")
    _analysis_finished(analysis, django_capture_on_commit_callbacks)
    assert [m.subject for m in mail.outbox] == ['Your photo of "Left shoulder" could not be analysed']


def test_no_analysis_email_when_the_patient_turned_it_off(
    alice, done_photo, eager_tasks, django_capture_on_commit_callbacks
):
    alice.email_on_analysis = False
    alice.save()
    _analysis_finished(done_photo.analyses.get(), django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_photo_analysed_again_by_a_new_model_is_not_news(done_photo, eager_tasks, django_capture_on_commit_callbacks):
    again = Analysis.objects.create(photo=done_photo, model_version="v-next")
    again.status, again.predicted_class = "done", "nv"
    again.save()
    _analysis_finished(again, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_nothing_is_sent_before_the_commit(done_photo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        analysis_announce(done_photo.analyses.get())
    assert len(callbacks) == 1
    assert mail.outbox == []
