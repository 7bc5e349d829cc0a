"""A user is a patient who logs in with an email address."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
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
    # Set when a reminder digest goes out: the daily task never sends a second one the same day.
    last_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]


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
