"""Log-ins and failed log-ins go to the user's security log, whichever view did them."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import services
from accounts.models import SecurityEvent, User


@receiver(user_logged_in, dispatch_uid="accounts-security-log-login")
def _logged_in(sender: type[User], request: HttpRequest, user: User, **kwargs: object) -> None:
    services.security_event_record(user=user, kind=SecurityEvent.Kind.LOGIN, request=request)


@receiver(user_login_failed, dispatch_uid="accounts-security-log-login-failed")
def _login_failed(
    sender: str, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: object
) -> None:
    # Only an existing account has a log to write to; an unknown address is not noted anywhere.
    email = (credentials.get("username") or credentials.get("email") or "").lower()
    user = User.objects.filter(email=email).first() if email else None
    if user is not None:
        services.security_event_record(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED, request=request)
