"""Writes on accounts."""

import ipaddress

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import tasks, tokens
from accounts.models import COIN_MAX_MM, COIN_MIN_MM, COIN_OTHER, SecurityEvent, User
from measurement.scale import COINS
from skinsite.ratelimit import client_address, hashed, rate_exceeded


def user_sign_up(*, email: str, password: str, display_name: str = "") -> User | None:
    """Sign-up that does not say which addresses have accounts (the web page and the API).

    A new address gets an account and is emailed a confirmation link (after commit); the new user
    is returned. An address that has an account gets none: its owner is emailed (after commit) that
    someone tried to sign up with it, with a link to reset the password, and None is returned.
    The caller answers the same either way. Raises django ValidationError by field, the same
    either way: `email` (malformed) or `password` (too weak).
    """
    candidate = User(email=User.objects.normalize_email(email).lower(), display_name=display_name)
    candidate.full_clean(exclude=["password"], validate_unique=False)  # the format, not who has it
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    if not User.objects.filter(email=candidate.email).exists():
        candidate.set_password(password)
        try:
            with transaction.atomic():
                candidate.save()
        except IntegrityError:
            pass  # the same address signed up a moment ago: it has an account now
        else:
            email_confirmation_request(user=candidate)
            return candidate
    else:
        make_password(password)  # the time a new account's hash takes, so the answer's time says nothing
    owner = User.objects.filter(email=candidate.email, is_active=True).first()
    # At most PASSWORD_RESET_THROTTLE notices per address, whoever asks: sign-ups are not a way to
    # flood someone's inbox (the answer stays the same past the limit).
    if owner is not None and not rate_exceeded(
        f"signup-notice:{hashed(owner.email)}", settings.PASSWORD_RESET_THROTTLE
    ):
        transaction.on_commit(lambda: tasks.send_sign_up_attempt_notice.delay(owner.pk))
    return None


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


UNKNOWN_COIN = "Choose a coin from the list, or “another coin” and its size in mm."
COIN_SIZE_NEEDED = "Give the size of your coin in mm (from edge to edge, through the middle)."
COIN_SIZE_RANGE = f"A coin is between {COIN_MIN_MM:.0f} and {COIN_MAX_MM:.0f} mm across. Check the number."


def coin_diameter_check(value: object, *, field: str = "coin_other_mm") -> float:
    """A coin's diameter in mm as a patient typed it, or ValidationError under `field`."""
    try:
        diameter = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError({field: COIN_SIZE_NEEDED}) from None
    if not COIN_MIN_MM <= diameter <= COIN_MAX_MM:  # NaN fails this too
        raise ValidationError({field: COIN_SIZE_RANGE})
    return round(diameter, 2)


def user_coin_set(*, user: User, coin: str, coin_other_mm: float | None = None) -> User:
    """Choose the coin the patient lays beside a lesion for its size in mm: a key of
    measurement.scale.COINS, "other" with its diameter in mm, or "" for none.

    Photos uploaded later with "a coin is in the photo" take its diameter. Raises ValidationError by
    field (`coin`, `coin_other_mm`).
    """
    if coin == COIN_OTHER:
        user.coin, user.coin_other_mm = coin, coin_diameter_check(coin_other_mm)
    elif coin == "" or coin in COINS:
        user.coin, user.coin_other_mm = coin, None
    else:
        raise ValidationError({"coin": UNKNOWN_COIN})
    user.save(update_fields=["coin", "coin_other_mm"])
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
