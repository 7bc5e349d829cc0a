"""Lesions, their photos over time, and the CNN's analysis of each photo."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

# The HAM10000 `localization` vocabulary, so a lesion's site means the same to the model.
BODY_SITES = [
    ("abdomen", "Abdomen"),
    ("acral", "Acral (palms, soles, nails)"),
    ("back", "Back"),
    ("chest", "Chest"),
    ("ear", "Ear"),
    ("face", "Face"),
    ("foot", "Foot"),
    ("genital", "Genital"),
    ("hand", "Hand"),
    ("lower extremity", "Leg (lower extremity)"),
    ("neck", "Neck"),
    ("scalp", "Scalp"),
    ("trunk", "Trunk"),
    ("upper extremity", "Arm (upper extremity)"),
    ("unknown", "Other / unknown"),
]

# Keep in step with training.preprocessing.CLASSES (a test checks it); the web process must not
# import the training package's heavy dependencies, so the labels live here too.
CLASS_LABELS = {
    "akiec": "Actinic keratosis / intraepithelial carcinoma",
    "bcc": "Basal cell carcinoma",
    "bkl": "Benign keratosis",
    "df": "Dermatofibroma",
    "mel": "Melanoma",
    "nv": "Melanocytic nevus (mole)",
    "vasc": "Vascular lesion",
}
CLASSES = tuple(CLASS_LABELS)
MALIGNANT_CLASSES = ("akiec", "bcc", "mel")


class Lesion(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesions")
    name = models.CharField(max_length=100, help_text='For example "mole on left shoulder".')
    body_site = models.CharField(max_length=20, choices=BODY_SITES, default="unknown")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    recheck_interval_months = models.PositiveSmallIntegerField(
        "re-check every",
        choices=[(0, "No reminder"), (1, "Month"), (3, "3 months"), (6, "6 months"), (12, "Year")],
        default=0,
        help_text="You get an email when it is time to photograph this lesion again.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("lesions:detail", args=[self.pk])


def _photo_path(photo: "Photo", filename: str) -> str:
    # Random names: nothing about the patient or the lesion can be read from a storage key.
    return f"photos/{uuid.uuid4().hex}.jpg"


def _thumbnail_path(photo: "Photo", filename: str) -> str:
    return f"thumbnails/{uuid.uuid4().hex}.jpg"


def _heatmap_path(analysis: "Analysis", filename: str) -> str:
    return f"heatmaps/{uuid.uuid4().hex}.jpg"


class Photo(models.Model):
    lesion = models.ForeignKey(Lesion, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=_photo_path)
    thumbnail = models.ImageField(upload_to=_thumbnail_path, blank=True)
    taken_at = models.DateTimeField(help_text="When the photo was taken (from EXIF when present).")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    sha256 = models.CharField(max_length=64, help_text="Of the original upload, before EXIF was stripped.")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["lesion", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.lesion} @ {self.taken_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("lesions:photo", args=[self.pk])

    @property
    def thumbnail_file(self):
        """The small JPEG for lists; photos stored before thumbnails existed fall back to the image."""
        return self.thumbnail if self.thumbnail else self.image


def _lowercase_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _join_or(words: list[str]) -> str:
    """["body site", "age", "sex"] -> "body site, age or sex"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


class Analysis(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        # Finished, but the photo is not something the model can assess (not a lesion, too dark,
        # too blurry...): the reason is in `error` and there are no probabilities.
        NOT_ASSESSABLE = "not_assessable", "Not assessable"

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="analyses")
    model_version = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    p_akiec = models.FloatField(null=True, blank=True)
    p_bcc = models.FloatField(null=True, blank=True)
    p_bkl = models.FloatField(null=True, blank=True)
    p_df = models.FloatField(null=True, blank=True)
    p_mel = models.FloatField(null=True, blank=True)
    p_nv = models.FloatField(null=True, blank=True)
    p_vasc = models.FloatField(null=True, blank=True)
    predicted_class = models.CharField(max_length=10, choices=list(CLASS_LABELS.items()), blank=True)
    malignant_probability = models.FloatField(null=True, blank=True)
    # Where the model looked (Grad-CAM over the photo), stored privately like the photo itself.
    heatmap = models.ImageField(upload_to=_heatmap_path, blank=True)
    # What the model was told besides the photo ({"site": "back", "age": 47, "sex": "female"}, None
    # for what was unknown), so a result can be read with it. Null: made before this was recorded.
    inputs = models.JSONField(null=True, blank=True)
    error = models.TextField(
        blank=True, help_text="Why the analysis failed or the photo is not assessable, in words a patient can read."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        constraints = [
            models.UniqueConstraint(fields=["photo", "model_version"], name="one_analysis_per_photo_and_model"),
        ]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return f"Analysis of photo {self.photo_id} by {self.model_version}: {self.status}"

    @property
    def probabilities(self) -> dict[str, float] | None:
        if self.status != self.Status.DONE:
            return None
        return {code: getattr(self, f"p_{code}") for code in CLASSES}

    @property
    def probability_rows(self) -> list[dict]:
        """The seven classes for display: code, name, probability, and whether it is malignant."""
        probabilities = self.probabilities or {}
        return [
            {
                "code": code,
                "label": CLASS_LABELS[code],
                "p": probabilities[code],
                "malignant": code in MALIGNANT_CLASSES,
            }
            for code in CLASSES
            if code in probabilities
        ]

    @property
    def predicted_label(self) -> str:
        return CLASS_LABELS.get(self.predicted_class, "")

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.NOT_ASSESSABLE)

    @property
    def inputs_sentence(self) -> str:
        """What the model was told besides the photo, in words; "" when that was not recorded.

        "The model was also told: body site back; no age or sex given".
        """
        if not isinstance(self.inputs, dict):
            return ""
        site, age, sex = (self.inputs.get(key) for key in ("site", "age", "sex"))
        told = []
        if site:
            told.append(f"body site {_lowercase_first(dict(BODY_SITES).get(site, site))}")
        if age is not None:
            told.append(f"age {age}")
        if sex:
            told.append(f"sex {sex}")
        missing = [name for name, value in (("body site", site), ("age", age), ("sex", sex)) if value in (None, "")]
        if not told:
            return "The model was given only the photo: no body site, age or sex"
        sentence = "The model was also told: " + ", ".join(told)
        if missing:
            sentence += "; no " + _join_or(missing) + " given"
        return sentence

    @property
    def inputs_missing_from_settings(self) -> list[str]:
        """Age and/or sex, if the analysis ran without them: the patient can add them in their settings."""
        if not isinstance(self.inputs, dict):
            return []
        return [key for key in ("age", "sex") if self.inputs.get(key) in (None, "")]
