"""Sharing a lesion's report with a physician: the link, its access log, and the physician's notes.

The tables kept the names they had when these models lived in `lesions` (see migrations/0001).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from lesions.models import Lesion


class ShareLink(models.Model):
    """A read-only report of one lesion (or of all of them) that a physician opens without an account.

    The link carries a random token; only its SHA-256 is stored, so a database leak does not
    open any report. See sharing.services and sharing.selectors.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    # Null: every lesion of the owner, including the ones added after the link was made.
    lesion = models.ForeignKey(Lesion, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links")
    physician_email = models.EmailField()
    # The name the physician sees (report, PDF, emails), asked for when sharing: never the
    # patient's email address, which is all an account without a display name would offer.
    patient_name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    message = models.TextField(blank=True, max_length=2000)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    notify_on_new_analysis = models.BooleanField(
        "email the physician about new photos",
        default=False,
        help_text="The physician gets an email when a new photo of a shared lesion has been analysed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "lesions_sharelink"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"Report for {self.physician_email} ({self.scope_label})"

    @property
    def scope_label(self) -> str:
        return self.lesion.name if self.lesion is not None else "all lesions"

    @property
    def shown_name(self) -> str:
        """Who shared the report, as the physician sees it (links made before the name was asked
        for fall back to the display name, never to the email address)."""
        return self.patient_name or self.owner.display_name or "A Skinsite patient"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "revoked"
        return "expired" if self.is_expired else "active"


class ShareAccess(models.Model):
    """One opening of a shared report, shown to the patient as the link's access log."""

    class Kind(models.TextChoices):
        REPORT = "report", "Opened the report"
        PDF = "pdf", "Downloaded the PDF"
        NOTE = "note", "Left a note"

    share = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="accesses")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPORT)
    # No IP address or user agent: "when" is what the patient asked for, and less is kept.
    accessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "lesions_shareaccess"
        ordering = ["-accessed_at"]
        verbose_name_plural = "share accesses"  # not Django's "share accesss"
        indexes = [models.Index(fields=["share", "-accessed_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.accessed_at:%Y-%m-%d %H:%M}"


class PhysicianNote(models.Model):
    """A physician's note on a lesion, left through a share link and shown on the lesion's timeline."""

    lesion = models.ForeignKey(Lesion, on_delete=models.CASCADE, related_name="physician_notes")
    # The note stays when its link is revoked or expires; the author's address is copied for that.
    share = models.ForeignKey(ShareLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="notes")
    author_email = models.EmailField()
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "lesions_physiciannote"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lesion", "-created_at"])]

    def __str__(self) -> str:
        return f"Note by {self.author_email} on {self.lesion}"
