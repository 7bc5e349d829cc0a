"""The CNN's analysis of a photo: one row per photo and model version, written only by inference.services."""

import uuid
from datetime import datetime
from typing import Any, Protocol, cast

from django.db import models

from training.contract import BODY_SITE_LABELS, CLASS_LABELS, CLASSES, MALIGNANT_CLASSES


def _heatmap_path(analysis: "Analysis", filename: str) -> str:
    # Random names, like photos': nothing about the patient can be read from a storage key.
    return f"heatmaps/{uuid.uuid4().hex}.jpg"


PHOTO_TYPE_WORDS = {"dermoscopy": "through a dermatoscope", "clinical": "phone camera"}


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

    photo = models.ForeignKey("lesions.Photo", on_delete=models.CASCADE, related_name="analyses")
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
    # The lesion's outline and ABCD measures on this photo (inference.measuring.photo_measures):
    # {"ok", "reason", "reason_text", "values": {...} or None, "outline": [[x, y], ...] in fractions
    # of the photo}. Null: made before measuring existed. Lives in the row, so it goes with the photo.
    measures = models.JSONField(null=True, blank=True)
    # What changed against the previous and the first photo of the lesion (inference.services):
    # {"changed", "sentences", "comparisons": [...]}. Null: nothing to compare with, or made before.
    change = models.JSONField(null=True, blank=True)
    # What to do, from the model card's operating points (inference.advice.advice_for):
    # {"band": "low" | "medium" | "high" | None, "title", "text", "based_on", "changed", "notice"}.
    advice = models.JSONField(null=True, blank=True)
    error = models.TextField(
        blank=True, help_text="Why the analysis failed or the photo is not assessable, in words a patient can read."
    )
    # Set (by inference.services.size_remeasure_request) while the size in mm is measured again after the
    # photo's scale changed: a scale marked, a coin picked, a dermatoscope chosen or set up again. The task
    # clears it when it has written the new size; `measures["size"]` is the one from before until then.
    size_queued_at = models.DateTimeField(null=True, blank=True)
    # Why the last re-measuring could not run (the photo's file unreadable): the size from before stands.
    size_error = models.TextField(blank=True)
    # How often the sweep has queued the re-measuring again (a lost message, a worker killed by it): at
    # inference.services.SIZE_MAX_REQUEUES it stops, clears the marker and says why in `size_error`.
    size_requeues = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lesions_analysis"  # from when it lived in lesions (see migrations/0001)
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        constraints = [
            models.UniqueConstraint(fields=["photo", "model_version"], name="one_analysis_per_photo_and_model"),
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"]),
            # The sweep's question every few minutes; only the few rows measuring again are indexed.
            models.Index(
                fields=["size_queued_at"],
                condition=models.Q(size_queued_at__isnull=False),
                name="analysis_size_measuring",
            ),
        ]

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
    def predicted_is_malignant(self) -> bool:
        return self.predicted_class in MALIGNANT_CLASSES

    @property
    def most_likely_malignant(self) -> dict | None:
        """The malignant type with the highest probability (a `probability_rows` row), which a "high"
        band names beside the most likely type; None before the analysis is done."""
        rows = [row for row in self.probability_rows if row["malignant"]]
        return max(rows, key=lambda row: row["p"] or 0.0, default=None)

    @property
    def change_sentences(self) -> list[str]:
        """What changed, in words ("The lesion is about 400% larger than in March."); [] when nothing did."""
        return list((self.change or {}).get("sentences") or [])

    @property
    def measure_values(self) -> dict | None:
        """The ABCD measures when the outline was trusted, else None."""
        measures = self.measures or {}
        return measures.get("values") if measures.get("ok") else None

    @property
    def outline_points(self) -> str:
        """The outline as an SVG `points` attribute in a 0-1000 box ("" when there is none)."""
        outline = (self.measures or {}).get("outline") or []
        return " ".join(f"{x * 1000:.1f},{y * 1000:.1f}" for x, y in outline)

    @property
    def predicted_label(self) -> str:
        return CLASS_LABELS.get(self.predicted_class, "")

    @property
    def size_measuring(self) -> bool:
        """True while the size is being measured again (see `size_queued_at`)."""
        return self.size_queued_at is not None

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
            told.append(f"body site {_lowercase_first(str(BODY_SITE_LABELS.get(site, site)))}")
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

    def _photo_type_words(self, who: str) -> str:
        if not isinstance(self.inputs, dict) or not self.inputs.get("photo_type"):
            return ""
        kind = PHOTO_TYPE_WORDS.get(self.inputs["photo_type"], self.inputs["photo_type"])
        source = f"{who} said so" if self.inputs.get("photo_type_given") else "detected"
        return f"Photo type: {kind} ({source})"

    @property
    def photo_type_sentence(self) -> str:
        """How the photo was taken as the model scored it, and who said so; "" when not recorded.

        "Photo type: phone camera (detected)", "Photo type: through a dermatoscope (you said so)".
        """
        return self._photo_type_words("you")

    @property
    def photo_type_sentence_for_physician(self) -> str:
        """The same for the shared report: "(the patient said so)"."""
        return self._photo_type_words("the patient")

    @property
    def inputs_missing_from_settings(self) -> list[str]:
        """Age and/or sex, if the analysis ran without them: the patient can add them in their settings."""
        if not isinstance(self.inputs, dict):
            return []
        return [key for key in ("age", "sex") if self.inputs.get(key) in (None, "")]


class DeviceCalibration(Protocol):
    """What inference reads of a phone dermatoscope's calibration (`lesions.Dermatoscope`)."""

    @property
    def mm_per_pixel(self) -> float: ...
    @property
    def relative_uncertainty(self) -> float: ...
    @property
    def calibrated_width(self) -> int: ...


class AnalysedPhoto(Protocol):
    """What inference reads of a patient's photo: `lesions.Photo`, which lives in the app above.

    Inference never imports that app; it reaches the model through `Analysis.photo` (`photo_model`)
    and types the rows it is handed with this protocol.
    """

    pk: Any
    lesion_id: int
    taken_at: datetime
    photo_type: str | None
    sha256: str
    image: Any
    lesion: Any
    analyses: Any
    # The stored photo's full size, and the hints for its size in millimetres (inference.measuring.ScaleHints).
    width: int
    height: int

    @property
    def coin_diameter_mm(self) -> float | None: ...
    @property
    def manual_scale(self) -> Any: ...
    @property
    def device(self) -> DeviceCalibration | None: ...


def photo_model() -> type[models.Model]:
    """`lesions.Photo`, reached through the analysis's relation instead of an import of the app above."""
    related = Analysis._meta.get_field("photo").related_model
    assert isinstance(related, type)
    return related


def analysed_photo(row: models.Model) -> AnalysedPhoto:
    """A row of `photo_model()` as what inference reads of it.

    mypy knows `photo_model()` only as some model class (the app above is named as a string, never
    imported), so it cannot see that its rows have the protocol's fields; the class is checked here.
    """
    assert isinstance(row, photo_model())
    return cast(AnalysedPhoto, row)


class WorkerHeartbeat(models.Model):
    """The last sign of life of one worker process that has the model loaded (inference.tasks).

    /readyz asks whether any was seen within a minute: a worker that could not load the model, or
    none running at all, leaves no fresh row. One row per process, overwritten in place.
    """

    name = models.CharField(max_length=200, unique=True)  # host and process id
    model_version = models.CharField(max_length=100)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.model_version}) at {self.seen_at:%Y-%m-%d %H:%M:%S}"
