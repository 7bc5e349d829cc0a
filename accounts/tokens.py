"""API tokens: one per device, named, with a last-used time, revocable; only a hash is stored.

Why not django-rest-knox or DRF's authtoken: DRF's `Token` stores the key in clear text and allows
one per user, so a lost phone cannot be cut off without logging out every other device. Knox
hashes its tokens and allows several, but has no name or last-used time without swapping in a
custom token model, and its login view answers a different shape than our `{token}` contract. What
we need is a table, a hash lookup and a DRF authentication class, about sixty lines we can read.

Tokens are 256 random bits (`secrets.token_urlsafe(32)`), so a plain SHA-256 is enough: there is
nothing to brute-force that a slow password hash would protect. Looking a token up by its hash
through a unique index also means no secret is ever compared character by character.

Clients keep sending `Authorization: Token <token>`, as with DRF's authtoken before.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiToken, User

# Writing last_used_at on every request would turn each read into a write; a minute is plenty to
# tell "in use" from "lost last month".
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A script that logs in on every run would pile up tokens; beyond this many, the least recently
# used ones go (a device in daily use is never the one evicted).
MAX_TOKENS_PER_USER = 50
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


def key_hash(key: str) -> str:
    """What is stored for a token, and what a presented token is looked up by."""
    return hashlib.sha256(key.encode()).hexdigest()


# --- Services ---------------------------------------------------------------------------------


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a new token for one of `user`'s devices.

    Returns the row and the raw token, which is not stored anywhere and cannot be shown again.
    """
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=(name.strip() or "API client")[:NAME_MAX_LENGTH], key_hash=key_hash(key)
    )
    stale = tokens_for_user(user=user).order_by(F("last_used_at").desc(nulls_last=True), "-created_at", "-id")
    ApiToken.objects.filter(pk__in=list(stale.values_list("pk", flat=True)[MAX_TOKENS_PER_USER:])).delete()
    return token, key


def token_revoke(*, token: ApiToken) -> None:
    """Cut a device off: its token stops working at once."""
    token.delete()


def tokens_revoke_all(*, user: User) -> int:
    """Log every device out, e.g. after a password change: a thief's token must not outlive it."""
    deleted, _ = tokens_for_user(user=user).delete()
    return deleted


def token_authenticate(*, key: str) -> ApiToken | None:
    """The live token for `key` (with its user), noting when it was used; None if unknown."""
    try:
        token = ApiToken.objects.select_related("user").get(key_hash=key_hash(key))
    except ApiToken.DoesNotExist:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- Selectors --------------------------------------------------------------------------------


def tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first."""
    return ApiToken.objects.filter(user=user)


def token_get(*, user: User, token_id: int) -> ApiToken:
    """One of the user's tokens; another user's token is 404, like everything else of theirs."""
    return get_object_or_404(tokens_for_user(user=user), pk=token_id)


# --- DRF authentication -----------------------------------------------------------------------


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`; `request.auth` is the ApiToken, so a device knows which is its own."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = token_authenticate(key=key)
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid or revoked token.")
        return token.user, token
