"""Re-check reminders: which lesions are due, one useful digest a day at most, one-click unsubscribe."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail, signing
from django.utils import timezone

from conftest import jpeg_bytes, upload
from lesions import reminders, services, tasks
from lesions.models import Lesion

pytestmark = pytest.mark.django_db


def _lesion(owner, name: str, *, months: int, added_days_ago: int = 0, photo_days_ago: int | None = None) -> Lesion:
    lesion = services.lesion_create(owner=owner, name=name, body_site="back")
    Lesion.objects.filter(pk=lesion.pk).update(
        recheck_interval_months=months, created_at=timezone.now() - timedelta(days=added_days_ago)
    )
    if photo_days_ago is not None:
        taken_at = timezone.now() - timedelta(days=photo_days_ago)
        services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), taken_at=taken_at)
    return Lesion.objects.get(pk=lesion.pk)


def _digest(user_id: int, now: datetime | None = None) -> bool:
    return reminders.reminder_digest_send(user_id=user_id, now=now)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2025, 1, 31, 9, tzinfo=UTC), 1, datetime(2025, 2, 28, 9, tzinfo=UTC)),
        (datetime(2024, 1, 31, 9, tzinfo=UTC), 1, datetime(2024, 2, 29, 9, tzinfo=UTC)),
        (datetime(2025, 11, 15, 9, tzinfo=UTC), 3, datetime(2026, 2, 15, 9, tzinfo=UTC)),
        (datetime(2025, 5, 1, 9, tzinfo=UTC), 12, datetime(2026, 5, 1, 9, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(start, months, expected):
    assert reminders.add_months(start, months) == expected


def test_a_lesion_is_due_an_interval_after_its_latest_photo(alice):
    _lesion(alice, "Overdue", months=3, photo_days_ago=100)
    _lesion(alice, "Recent", months=3, photo_days_ago=20)
    _lesion(alice, "No photo yet", months=1, added_days_ago=35)
    _lesion(alice, "No reminder", months=0, photo_days_ago=400)
    due = reminders.due_lesions_for_user(user=alice)
    assert [d.lesion.name for d in due] == ["Overdue", "No photo yet"]  # longest overdue first
    assert due[0].days_overdue in range(7, 12)  # 3 months are 89 to 92 days
    assert due[1].last_photo_at is None


def test_the_daily_digest_lists_what_is_due_since_when_with_links(client, alice, bob, eager_tasks):
    overdue = _lesion(alice, "Left shoulder mole", months=3, photo_days_ago=100)
    new = _lesion(alice, "Scalp", months=1, added_days_ago=31)
    _lesion(alice, "Not yet", months=6, photo_days_ago=10)
    _lesion(bob, "Bob's mole", months=0, photo_days_ago=500)

    assert tasks.send_due_reminders.apply().get() == 1  # bob has no interval set
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "2 lesions are due for a new photo"
    (html, _), *_ = message.alternatives
    for body in (message.body, html):
        assert "Left shoulder mole" in body and "Scalp" in body and "Not yet" not in body
        assert "Due since" in body and "no photo yet" in body and "every 3 months" in body
        assert f"http://127.0.0.1:8000/lesions/{overdue.pk}/" in body
        assert f"http://127.0.0.1:8000/lesions/{new.pk}/" in body
        assert "/lesions/reminders/unsubscribe/" in body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/lesions/reminders/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    # The links go through the login.
    response = client.get(f"/lesions/{overdue.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_never_more_than_one_digest_a_day(alice, eager_tasks):
    _lesion(alice, "Mole", months=1, photo_days_ago=60)
    tasks.send_due_reminders.apply()
    tasks.send_due_reminders.apply()
    assert tasks.send_reminder_digest.apply(args=(alice.pk,)).get() is False
    assert len(mail.outbox) == 1
    alice.refresh_from_db()
    assert alice.last_reminder_sent_at is not None


def test_an_overdue_lesion_is_repeated_weekly_not_daily(alice):
    _lesion(alice, "Mole", months=1, photo_days_ago=60)
    now = timezone.now()
    assert _digest(alice.pk, now) is True
    for day in range(1, 7):
        assert _digest(alice.pk, now + timedelta(days=day)) is False, day
    assert _digest(alice.pk, now + timedelta(days=7)) is True
    assert len(mail.outbox) == 2


def test_a_newly_due_lesion_is_sent_the_next_day(alice):
    _lesion(alice, "Old", months=1, photo_days_ago=60)
    now = timezone.now()
    assert _digest(alice.pk, now) is True
    _lesion(alice, "New", months=1, photo_days_ago=29)  # due in about two days
    assert _digest(alice.pk, now + timedelta(days=1)) is False
    assert _digest(alice.pk, now + timedelta(days=3)) is True
    latest = mail.outbox[-1]
    assert "New" in latest.body and "Old" in latest.body
    assert re.search(r"New \(Back\) - new", latest.body)


def test_nothing_due_sends_nothing(alice):
    _lesion(alice, "Fine", months=12, photo_days_ago=30)
    assert _digest(alice.pk) is False
    assert tasks.send_due_reminders.apply().get() == 1
    assert mail.outbox == []


def test_no_digest_when_reminders_are_off(alice):
    _lesion(alice, "Mole", months=1, photo_days_ago=60)
    alice.reminders_enabled = False
    alice.save()
    assert tasks.send_due_reminders.apply().get() == 0
    assert _digest(alice.pk) is False
    assert mail.outbox == []


def test_the_daily_task_is_in_the_beat_schedule():
    from skinsite.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["send-recheck-reminders"]
    assert entry["task"] == "lesions.tasks.send_due_reminders"
    assert entry["task"] in app.tasks


# --- Unsubscribe ------------------------------------------------------------------------------


def _unsubscribe_path(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/lesions/reminders/unsubscribe/[^\s>]+/)", message.body).group(1)


def test_one_click_unsubscribe_from_the_email_without_logging_in(client, alice):
    _lesion(alice, "Mole", months=1, photo_days_ago=60)
    _digest(alice.pk)
    path = _unsubscribe_path(mail.outbox[0])
    page = client.get(path)
    html = page.content.decode()
    # One button to click, and no script that would let a scanner's browser click it.
    assert page.status_code == 200 and "Stop reminders</button>" in html and "<script" not in html
    alice.refresh_from_db()
    assert alice.reminders_enabled  # mail scanners follow links: a GET changes nothing
    response = client.post(path)  # the button, and what mail clients POST (RFC 8058)
    assert response.status_code == 200 and "Reminders turned off" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.reminders_enabled


def test_a_forged_or_foreign_unsubscribe_link_does_nothing(client, alice):
    forged = signing.TimestampSigner(salt="reports").sign(str(alice.pk))  # right key, wrong purpose
    tampered = reminders.unsubscribe_token(user=alice)[:-1] + "x"
    for token in (forged, tampered, str(alice.pk)):
        assert client.post(f"/lesions/reminders/unsubscribe/{token}/").status_code == 400
    alice.refresh_from_db()
    assert alice.reminders_enabled


def test_a_year_old_unsubscribe_link_has_expired(client, alice, monkeypatch):
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 400 * 86400)
    old = reminders.unsubscribe_token(user=alice)
    monkeypatch.setattr(signing.time, "time", real_time)
    response = client.post(f"/lesions/reminders/unsubscribe/{old}/")
    assert response.status_code == 400 and "account settings" in response.content.decode()


# --- The patient's side -------------------------------------------------------------------------


def test_patient_sets_the_interval_on_the_lesion_page(client_alice, lesion):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert f'action="/lesions/{lesion.pk}/recheck/"' in page
    response = client_alice.post(f"/lesions/{lesion.pk}/recheck/", {"recheck_interval_months": "6"})
    assert response.status_code == 302
    lesion.refresh_from_db()
    assert lesion.recheck_interval_months == 6
    assert 'value="6" selected' in client_alice.get(f"/lesions/{lesion.pk}/").content.decode()


def test_an_interval_not_on_the_list_is_refused(client_alice, lesion):
    client_alice.post(f"/lesions/{lesion.pk}/recheck/", {"recheck_interval_months": "2"})
    lesion.refresh_from_db()
    assert lesion.recheck_interval_months == 0
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Choose how often to be reminded from the list." in page


def test_bob_cannot_set_alices_interval(client, bob, lesion):
    client.force_login(bob)
    assert client.post(f"/lesions/{lesion.pk}/recheck/", {"recheck_interval_months": "1"}).status_code == 404
    lesion.refresh_from_db()
    assert lesion.recheck_interval_months == 0


def test_dashboard_shows_due_lesions_first(client_alice, alice):
    _lesion(alice, "Due a while", months=1, photo_days_ago=90)
    _lesion(alice, "Newest, not due", months=0)
    _lesion(alice, "Due just now", months=1, photo_days_ago=35)
    page = client_alice.get("/lesions/").content.decode()
    order = re.findall(r"<strong>(Due a while|Newest, not due|Due just now)</strong>", page)
    assert order == ["Due a while", "Due just now", "Newest, not due"]


class _OutsideTransactionBackend:
    """A mail backend that notes whether it was called inside a database transaction."""

    calls: list[bool] = []
    fail = False

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        from django.db import connection

        _OutsideTransactionBackend.calls.append(connection.in_atomic_block)
        if _OutsideTransactionBackend.fail:
            raise ConnectionError("the mail server hung up")
        return len(messages)


@pytest.mark.django_db(transaction=True)
def test_the_digest_is_sent_after_the_commit_and_a_failure_leaves_it_owed(alice, settings):
    # A slow mail server must not hold the user's row (on SQLite, the database) locked.
    settings.EMAIL_BACKEND = f"{__name__}._OutsideTransactionBackend"
    _lesion(alice, "Back", months=1, added_days_ago=60)
    _OutsideTransactionBackend.calls, _OutsideTransactionBackend.fail = [], True
    with pytest.raises(ConnectionError):
        _digest(alice.pk)
    alice.refresh_from_db()
    assert alice.last_reminder_sent_at is None  # still owed: the retry sends it
    _OutsideTransactionBackend.fail = False
    assert _digest(alice.pk) is True
    assert _OutsideTransactionBackend.calls == [False, False]
    alice.refresh_from_db()
    assert alice.last_reminder_sent_at is not None
