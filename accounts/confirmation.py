"""Signed email-confirmation links: `/accounts/confirm/<token>/`, valid for a few days.

The token signs the user's id and current address (one salt for this purpose only), so a link
stops working if the address changes, and nothing needs storing.
"""

from django.conf import settings
from django.core import signing

from accounts.models import User

_SALT = "accounts.email-confirmation"


def confirmation_token(*, user: User) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"id": user.pk, "email": user.email})


def user_for_confirmation_token(token: str) -> User | None:
    """The user the link was made for, if it is genuine, recent and their address unchanged."""
    try:
        data = signing.TimestampSigner(salt=_SALT).unsign_object(
            token, max_age=settings.EMAIL_CONFIRMATION_DAYS * 24 * 3600
        )
    except signing.BadSignature:  # SignatureExpired is a subclass
        return None
    return User.objects.filter(pk=data.get("id"), email=data.get("email"), is_active=True).first()
