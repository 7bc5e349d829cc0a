"""Writes on accounts."""

import ipaddress

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from accounts import tasks, tokens
from accounts.models import SecurityEvent, User
from skinsite.ratelimit import client_address


def user_create(*, email: str, password: str, display_name: str = "") -> User:
    """Create a patient account and email it a confirmation link (after commit); raises django
    ValidationError by field: `email` (taken, malformed) or `password` (too weak)."""
    user = User(email=User.objects.normalize_email(email).lower(), display_name=display_name)
    user.full_clean(exclude=["password"])  # unique email, valid format
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    email_confirmation_request(user=user)
    return user


def email_confirmation_request(*, user: User) -> None:
    """Send `user` a fresh confirmation link, from the worker once this transaction commits."""
    transaction.on_commit(lambda: tasks.send_email_confirmation.delay(user.pk))


def email_confirm(*, user: User, request: HttpRequest | None = None) -> None:
    """Mark the address confirmed: from now on Skinsite may send emails on the account's behalf."""
    if user.email_confirmed:
        return
    user.email_confirmed = True
    user.save(update_fields=["email_confirmed"])
    security_event_record(user=user, kind=SecurityEvent.Kind.EMAIL_CONFIRMED, request=request)


def user_update(*, user: User, **fields: object) -> User:
    """Change the account's display name, year of birth or sex; raises django ValidationError."""
    allowed = {"display_name", "birth_year", "sex"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot update {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    # Only what changed: a concurrent save of the notification settings is not undone.
    user.save(update_fields=list(fields))
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete the account with every lesion, photo and analysis.

    The image files leave storage when the transaction commits (see lesions.signals), so a
    failed delete keeps both the rows and the files.
    """
    user.delete()


def security_event_record(
    *, user: User, kind: SecurityEvent.Kind | str, request: HttpRequest | None = None, detail: str = ""
) -> SecurityEvent:
    """Add an entry to `user`'s security log (shown on their account page).

    `kind` is a `SecurityEvent.Kind`; with a request, the client address (behind our trusted
    proxies, as the rate limits see it) and the browser are noted too. `detail` is shown as is,
    e.g. a device's name or a physician's address; it is cut at 200 characters.
    """
    ip, agent = None, ""
    if request is not None:
        address = client_address(request)
        try:
            ip = str(ipaddress.ip_address(address))
        except ValueError:
            ip = None
        agent = request.headers.get("User-Agent", "")[:200]
    return SecurityEvent.objects.create(
        user=user, kind=SecurityEvent.Kind(kind), ip_address=ip, user_agent=agent, detail=detail[:200]
    )


def user_password_changed(*, user: User, request: HttpRequest | None = None, reset: bool = False) -> None:
    """After any password change (the user's own, a reset link, an operator in the admin): every
    device token stops working, so a thief's token does not outlive the old password, and the
    security log says so."""
    tokens.tokens_revoke_all(user=user)
    kind = SecurityEvent.Kind.PASSWORD_RESET if reset else SecurityEvent.Kind.PASSWORD_CHANGED
    security_event_record(user=user, kind=kind, request=request)


def password_reset_request(*, email: str) -> None:
    """Email a reset link to the active account with this address, if any, from the worker.

    Says nothing about whether the account exists: the page answers the same either way.
    """
    user = User.objects.filter(email=email.lower(), is_active=True).first()
    if user is not None and user.has_usable_password():
        transaction.on_commit(lambda: tasks.send_password_reset.delay(user.pk))
