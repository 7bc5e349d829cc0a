"""Lesions and their photos over time (the CNN's analysis of each photo is inference.models.Analysis)."""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from django.urls import reverse

from training.contract import BODY_SITE_LABELS

# The HAM10000 `localization` vocabulary, so a lesion's site means the same to the model.
BODY_SITES = list(BODY_SITE_LABELS.items())
# The two outlines of the body map (static/lesions/bodymap.svg).
MAP_VIEWS = [("front", "Front"), ("back", "Back")]
# The patient's own notes on a lesion: room for a long story, not for a file pasted in. A model
# validator, so the form, the API's serializer and the services (full_clean) all say the same.
NOTES_MAX_LENGTH = 5000
NOTES_TOO_LONG = "Keep your notes to %(limit_value)d characters or fewer (these have %(show_value)d)."


class Lesion(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesions")
    name = models.CharField(max_length=100, help_text='For example "mole on left shoulder".')
    body_site = models.CharField(max_length=20, choices=BODY_SITES, default="unknown")
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(NOTES_MAX_LENGTH, message=NOTES_TOO_LONG)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    recheck_interval_months = models.PositiveSmallIntegerField(
        "re-check every",
        choices=[(0, "No reminder"), (1, "Month"), (3, "3 months"), (6, "6 months"), (12, "Year")],
        default=0,
        help_text="You get an email when it is time to photograph this lesion again.",
    )
    # Where the lesion's dot sits on the body map (static/lesions/bodymap.svg, lesions.bodymap):
    # a view and that view's own coordinates, x 0-200 and y 0-440. Null when the site is unknown.
    map_view = models.CharField("body map view", max_length=5, choices=MAP_VIEWS, blank=True, default="")
    map_x = models.FloatField("body map x", null=True, blank=True)
    map_y = models.FloatField("body map y", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("lesions:detail", args=[self.pk])


# How the photo was taken: the model scores the two kinds differently (inference.engine.Context).
PHOTO_TYPES = [
    ("dermoscopy", "Through a dermatoscope"),
    ("clinical", "Phone camera"),
]


def _photo_path(photo: "Photo", filename: str) -> str:
    # Random names: nothing about the patient or the lesion can be read from a storage key.
    return f"photos/{uuid.uuid4().hex}.jpg"


def _thumbnail_path(photo: "Photo", filename: str) -> str:
    return f"thumbnails/{uuid.uuid4().hex}.jpg"


class Dermatoscope(models.Model):
    """A patient's phone dermatoscope: its field of view is fixed, so one photo of a ruler through it
    gives the millimetres per pixel of every later photo taken with it (lesions.services.dermatoscope_calibrate).

    Per patient and device: calibrating it again overwrites the numbers (a new phone, a knock).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dermatoscopes")
    name = models.CharField(max_length=100, help_text='For example "DermLite on my phone".')
    # In the calibration photo's own pixels, at its full width (`calibrated_width`): a later photo
    # of another width is the same field resampled (measurement.scale.device_scale).
    mm_per_pixel = models.FloatField()
    relative_uncertainty = models.FloatField(help_text="One standard deviation, relative (0.03 = ±3 %).")
    calibrated_width = models.PositiveIntegerField()
    calibrated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="one_dermatoscope_name_per_owner")]

    def __str__(self) -> str:
        return self.name


class Photo(models.Model):
    lesion = models.ForeignKey(Lesion, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=_photo_path)
    thumbnail = models.ImageField(upload_to=_thumbnail_path, blank=True)
    taken_at = models.DateTimeField(help_text="When the photo was taken (from EXIF when present).")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    sha256 = models.CharField(max_length=64, help_text="Of the original upload, before EXIF was stripped.")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # What the patient said (at upload or as a correction); null: not said, the model detects it.
    # Null rather than "": the API and analysis.inputs say null for "not said" too.
    photo_type = models.CharField(max_length=20, choices=PHOTO_TYPES, null=True, blank=True)  # noqa: DJ001
    # What the worker needs to give the lesion a size in millimetres (inference.measuring.photo_size):
    # the coin lying in the photo (its diameter, from the patient's chosen coin at upload or a coin
    # picked later), the phone dermatoscope it was taken through, and a scale the patient marked by
    # hand ({"points": [[x, y], [x, y]] in fractions of the photo, "distance_mm": d}), which wins.
    coin_diameter_mm = models.FloatField("coin diameter (mm)", null=True, blank=True)
    device = models.ForeignKey(Dermatoscope, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos")
    manual_scale = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["lesion", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.lesion} @ {self.taken_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("lesions:photo", args=[self.pk])

    @property
    def thumbnail_file(self) -> ImageFieldFile:
        """The small JPEG for lists; photos stored before thumbnails existed fall back to the image."""
        return self.thumbnail if self.thumbnail else self.image


class AnalysisEmail(models.Model):
    """A finished analysis the patient is still to be told about, by email (lesions.analysis_emails).

    Emails go out in batches: four photos uploaded together make one email, not four. A row is
    deleted once its email is sent (or found not wanted), so none outlives its job.
    """

    analysis = models.OneToOneField("inference.Analysis", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the email that tells of it is claimed (or when there is none to send: turned off).
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "sent_at"])]

    def __str__(self) -> str:
        return f"Email about analysis {self.analysis_id}"
