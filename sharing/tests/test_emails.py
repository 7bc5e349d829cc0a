"""The emails sharing sends (to physicians, and to patients about notes), sent for real (locmem backend)."""

from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from inference.models import Analysis
from inference.services import analysis_announce
from sharing import selectors as sharing_selectors
from sharing import services as sharing_services
from sharing import tasks
from sharing.models import PhysicianNote

pytestmark = pytest.mark.django_db


def _html(message) -> str:
    (content, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return content


def _analysis_finished(analysis: Analysis, capture) -> None:
    """What the worker does when an analysis ends, with the queued tasks run after the commit."""
    with capture(execute=True):
        analysis_announce(analysis)


# --- To the physician ---------------------------------------------------------------------------


def test_physician_gets_the_link_when_a_report_is_shared(
    client, alice, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share, token = sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="dr@clinic.example", message="Since May it itches."
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dr@clinic.example"]
    assert message.subject == "Alice shared a skin lesion report with you"
    url = sharing_selectors.share_link_url(token)
    for body in (message.body, _html(message)):
        assert url in body
        assert "Since May it itches." in body
        assert share.expires_at.strftime("%Y") in body
        assert "Left shoulder" in body
    # The physician opens the link from the email, and ends up on an address without the token.
    report = client.get(url.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert report.status_code == 200
    assert report.redirect_chain == [(f"/report/{share.pk}/", 302)]


def test_no_email_for_a_link_revoked_before_it_went_out(alice, lesion, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        share, token = sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="dr@clinic.example"
        )
    sharing_services.share_link_revoke(share=share)
    assert len(callbacks) == 1
    assert tasks.send_share_created_email.apply(args=(share.pk, token)).get() is False
    assert mail.outbox == []


def test_physician_hears_about_a_new_photo_only_if_the_patient_allowed_it(
    alice, lesion, done_photo, eager_tasks, django_capture_on_commit_callbacks
):
    alice.email_on_analysis = False
    alice.save()
    with django_capture_on_commit_callbacks():
        sharing_services.share_link_create(owner=alice, lesion=lesion, physician_email="quiet@clinic.example")
        told, _ = sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="told@clinic.example", notify_on_new_analysis=True
        )
    _analysis_finished(done_photo.analyses.get(), django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["told@clinic.example"]]
    message = mail.outbox[0]
    assert message.subject == 'Alice added a photo of "Left shoulder"'
    assert told.expires_at.strftime("%-d %B %Y") in message.body
    assert "Melanocytic" not in message.body and "%" not in message.body  # no results in email
    assert "/r/" not in message.body  # the link is never repeated


def test_one_email_per_physician_and_none_after_revoking(
    alice, lesion, done_photo, eager_tasks, django_capture_on_commit_callbacks
):
    alice.email_on_analysis = False
    alice.save()
    with django_capture_on_commit_callbacks():
        # A link to this lesion and one to all lesions, to the same physician.
        sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="dr@clinic.example", notify_on_new_analysis=True
        )
        sharing_services.share_link_create(
            owner=alice, physician_email="dr@clinic.example", notify_on_new_analysis=True
        )
    _analysis_finished(done_photo.analyses.get(), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    mail.outbox.clear()
    for share in alice.share_links.all():
        sharing_services.share_link_revoke(share=share)
    _analysis_finished(done_photo.analyses.get(), django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_link_revoked_after_the_task_was_queued_sends_nothing(
    alice, lesion, done_photo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        share, _ = sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="dr@clinic.example", notify_on_new_analysis=True
        )
    sharing_services.share_link_revoke(share=share)
    assert tasks.send_new_analysis_email.apply(args=(share.pk, done_photo.analyses.get().pk)).get() is False
    assert mail.outbox == []


# --- To the patient ----------------------------------------------------------------------------


def test_patient_is_told_about_a_physicians_note(share, lesion):
    note = PhysicianNote.objects.create(lesion=lesion, share=share, author_email="dr@clinic.example", body="Fine.")
    assert tasks.send_note_email.apply(args=(note.pk,)).get() is True
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == 'A physician left a note on "Left shoulder"'
    assert f"http://127.0.0.1:8000/lesions/{lesion.pk}/#notes" in message.body
    assert "dr@clinic.example" in _html(message)
    assert "Fine." not in message.body  # read on the site, behind the login


# --- Retries ------------------------------------------------------------------------------------


class FlakyBackend(EmailBackend):
    """A mail server that drops the connection on the first try."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures < 1:
            FlakyBackend.failures += 1
            raise SMTPServerDisconnected("connection lost")
        return super().send_messages(messages)


def test_a_mail_server_hiccup_is_retried(settings, share, lesion):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = 0
    note = PhysicianNote.objects.create(lesion=lesion, share=share, author_email="dr@clinic.example", body="Fine.")
    # apply() runs the retry in place (without the backoff wait), as a worker would later.
    result = tasks.send_note_email.apply(args=(note.pk,), throw=False)
    assert result.get() is True
    assert FlakyBackend.failures == 1
    assert len(mail.outbox) == 1
