"""Two-factor authentication: a TOTP authenticator app plus ten single-use recovery codes.

Built on django-otp (its TOTP and static-token devices); this module holds the few services the
pages and the API call. Optional for patients, required for staff: the admin only lets in a
session verified with a code (skinsite.admin), and a staff account without an authenticator is
sent to set one up at log-in.
"""

import base64
import io

import segno
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import SecurityEvent, User

RECOVERY_CODE_COUNT = 10
_APP_NAME = "Authenticator app"


def two_factor_enabled(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being set up (not yet confirmed by a first code); made on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=_APP_NAME, confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The key to type into an authenticator app by hand, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// link as an SVG QR code, for an <img> (no script, no third-party service)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


@transaction.atomic
def two_factor_enable(*, user: User, device: TOTPDevice, code: str, request: HttpRequest | None = None) -> list[str]:
    """Confirm the pending authenticator with its first code; returns new recovery codes (shown once).

    Raises ValueError if the code is wrong.
    """
    if device.user_id != user.pk or device.confirmed or not device.verify_token(code.replace(" ", "")):
        raise ValueError("That code is not right. Check the time on your phone and try the newest code.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = recovery_codes_create(user=user)
    services.security_event_record(user=user, kind=SecurityEvent.Kind.TWO_FACTOR_ENABLED, request=request)
    return codes


@transaction.atomic
def recovery_codes_create(*, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; each works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def two_factor_disable(*, user: User, request: HttpRequest | None = None) -> None:
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    services.security_event_record(user=user, kind=SecurityEvent.Kind.TWO_FACTOR_DISABLED, request=request)


def two_factor_verify(*, user: User, code: str, request: HttpRequest | None = None) -> Device | None:
    """The device that accepts `code` (an authenticator code or an unused recovery code), or None."""
    code = code.strip().replace(" ", "").lower()
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(code):
                if isinstance(device, StaticDevice):
                    left = recovery_codes_left(user=user)
                    services.security_event_record(
                        user=user,
                        kind=SecurityEvent.Kind.RECOVERY_CODE_USED,
                        request=request,
                        detail=f"{left} left",
                    )
                return device
    return None
