"""The patient chooses which emails they get, in account settings."""

import pytest

pytestmark = pytest.mark.django_db


def test_new_accounts_get_analysis_emails_and_reminders(alice):
    assert alice.email_on_analysis is True
    assert alice.reminders_enabled is True
    assert alice.last_reminder_sent_at is None


def test_settings_page_offers_both_toggles(client_alice):
    page = client_alice.get("/accounts/settings/").content.decode()
    assert 'name="email_on_analysis"' in page and 'name="reminders_enabled"' in page
    assert "email me when an analysis finishes" in page.lower()


def test_turning_emails_off_and_on_again(client_alice, alice):
    response = client_alice.post("/accounts/settings/", {"display_name": "Alice"})  # both boxes unticked
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.email_on_analysis, alice.reminders_enabled) == (False, False)
    client_alice.post("/accounts/settings/", {"display_name": "Alice", "email_on_analysis": "on"})
    alice.refresh_from_db()
    assert (alice.email_on_analysis, alice.reminders_enabled) == (True, False)


def test_the_reminder_timestamp_cannot_be_set_from_the_form(client_alice, alice):
    client_alice.post("/accounts/settings/", {"display_name": "Alice", "last_reminder_sent_at": "2020-01-01T00:00:00Z"})
    alice.refresh_from_db()
    assert alice.last_reminder_sent_at is None
