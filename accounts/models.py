"""A user is a patient who logs in with an email address."""

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from measurement.scale import COINS

if TYPE_CHECKING:
    from django_otp.models import Device

BIRTH_YEAR_MIN = 1900
# Past this, a computed age is a typo in the birth year rather than a patient's age.
AGE_MAX = 120
COIN_OTHER = "other"  # a coin not in the table: its diameter is in User.coin_other_mm
# The smallest and largest coins in circulation are about 14 and 40 mm across; outside this, a typo.
COIN_MIN_MM, COIN_MAX_MM = 10.0, 50.0
SEX_CHOICES = [("female", "Female"), ("male", "Male")]
_ANALYSIS_INPUT_HELP = (
    "Optional. An extra input to the analysis, shown with its results (also in reports you share); "
    "leave it empty if you prefer."
)


def validate_birth_year(value: int) -> None:
    """1900 up to this year. A function, not Min/MaxValueValidator: "this year" moves."""
    this_year = timezone.localdate().year
    if not BIRTH_YEAR_MIN <= value <= this_year:
        raise ValidationError(
            "Enter a year between %(min)s and %(max)s.",
            code="birth_year",
            params={"min": BIRTH_YEAR_MIN, "max": this_year},
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are stored lower-cased, so "Alice@Example.com" logs in as alice@example.com.
        return self.get(**{self.model.USERNAME_FIELD: (username or "").lower()})


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=100, blank=True, help_text="Shown on reports you share with a physician."
    )
    email_on_analysis = models.BooleanField(
        "email me when an analysis finishes", default=True, help_text="The email says it is ready, not what it found."
    )
    reminders_enabled = models.BooleanField(
        "email me when a lesion is due for a photo",
        default=True,
        help_text="At most one email a day, listing the lesions whose re-check interval has passed.",
    )
    # Age and sex are the classifier's optional second input (with the lesion's body site); it
    # was trained with them sometimes blanked, so an empty value is fine, not an error.
    birth_year = models.PositiveSmallIntegerField(
        "year of birth", null=True, blank=True, validators=[validate_birth_year], help_text=_ANALYSIS_INPUT_HELP
    )
    sex = models.CharField(
        max_length=6,
        blank=True,
        choices=SEX_CHOICES,
        help_text=_ANALYSIS_INPUT_HELP,
    )
    # The coin the patient lays beside a lesion for its size in millimetres: a key of
    # measurement.scale.COINS, or "other" with its diameter in `coin_other_mm`; "" for none chosen.
    # No `choices` here: the coin table lives in measurement and grows without a migration.
    coin = models.CharField("your coin", max_length=20, blank=True)
    coin_other_mm = models.FloatField("your coin's diameter (mm)", null=True, blank=True)
    # Until the address is confirmed (a signed link sent at sign-up), Skinsite sends nothing on
    # the account's behalf: no shared reports, no analysis emails (accounts.selectors).
    email_confirmed = models.BooleanField(default=False, editable=False)
    # Set when a reminder digest goes out: the daily task never sends a second one the same day.
    last_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Ours, not AbstractUser's: the email address is the login.
    objects = UserManager()  # type: ignore[misc, assignment]

    # Not columns: set on a logged-in user's object by Django's `authenticate()` (the backend that
    # let it in) and by django-otp (the device this session verified with, and `is_verified()`).
    backend: str
    otp_device: "Device | None"
    is_verified: Callable[[], bool]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    @property
    def coin_diameter_mm(self) -> float | None:
        """The diameter of the patient's chosen coin, or None when none is chosen."""
        if self.coin == COIN_OTHER:
            return self.coin_other_mm
        return COINS[self.coin][1] if self.coin in COINS else None

    def age_on(self, day: datetime.date) -> int | None:
        """Age in whole years on `day`, from the birth year alone (so it may be one too high).

        None when no birth year is given or the result cannot be a living patient's age.
        """
        if self.birth_year is None:
            return None
        age = day.year - self.birth_year
        return age if 0 <= age <= AGE_MAX else None


class ApiToken(models.Model):
    """One API client's (usually one phone's) credential; see accounts.tokens.

    Only the SHA-256 of the token is stored: a database leak hands out no working credential.
    The token is 256 random bits, so a plain hash is enough (no slow password hash needed).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text='Which device or app holds it, e.g. "Alice\'s phone".')
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class SecurityEvent(models.Model):
    """One entry of the security log the user sees on the account page (accounts.services.security_event_record)."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed log-in (wrong password or code)"
        LOCKED_OUT = "locked_out", "Log-in locked after too many failures"
        NEW_DEVICE = "new_device", "New device or app logged in"
        DEVICE_REVOKED = "device_revoked", "Device or app logged out"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset by email"
        EMAIL_CONFIRMED = "email_confirmed", "Email address confirmed"
        TWO_FACTOR_ENABLED = "two_factor_enabled", "Two-factor authentication turned on"
        TWO_FACTOR_DISABLED = "two_factor_disabled", "Two-factor authentication turned off"
        RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
        SHARE_LINK_CREATED = "share_link_created", "Report shared"
        SHARE_LINK_OPENED = "share_link_opened", "Shared report opened"
        SHARE_LINK_REVOKED = "share_link_revoked", "Shared report revoked"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.user}, {self.created_at:%Y-%m-%d %H:%M})"
