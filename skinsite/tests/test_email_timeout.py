"""A mail server that accepts the connection and never answers does not hold a worker forever."""

import threading
import time
from smtplib import SMTPException

from django.core.mail import get_connection

from faults.silent import SilentServer


def test_email_timeout_is_set_by_default():
    import importlib

    import skinsite.settings as project_settings

    assert importlib.reload(project_settings).EMAIL_TIMEOUT == 10


def test_sending_to_a_hung_smtp_server_gives_up_after_email_timeout(settings):
    settings.EMAIL_TIMEOUT = 1  # the project default is 10 s; 1 s keeps the test short
    outcome: dict = {}

    with SilentServer() as server:

        def send() -> None:
            connection = get_connection(
                "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=server.port
            )
            try:
                connection.open()
            except Exception as exc:  # noqa: BLE001 - recorded and checked below
                outcome["error"] = exc

        started = time.monotonic()
        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        thread.join(timeout=15)
        elapsed = time.monotonic() - started

    assert not thread.is_alive(), "the SMTP connection hung"
    assert elapsed < 10
    # A time-out, which the email tasks retry with backoff (they retry on SMTPException and OSError).
    assert isinstance(outcome.get("error"), (SMTPException, OSError)), outcome
    assert "timed out" in str(outcome["error"])
