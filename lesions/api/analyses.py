"""An analysis as every answer shows it: on a photo, as a lesion's latest, in the timeline."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import AGE_MAX, User
from inference.models import Analysis
from lesions.models import BODY_SITES, PHOTO_TYPES
from skinsite.lib.urls import absolute_url
from training.contract import CLASS_LABELS


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.JSONField):
    """A JSON object stored as it is (measures, change, advice), typed `object` in the schema."""


class ProbabilitiesSerializer(serializers.Serializer):
    """One probability per HAM10000 class; they add up to 1."""

    akiec = serializers.FloatField(help_text=CLASS_LABELS["akiec"])
    bcc = serializers.FloatField(help_text=CLASS_LABELS["bcc"])
    bkl = serializers.FloatField(help_text=CLASS_LABELS["bkl"])
    df = serializers.FloatField(help_text=CLASS_LABELS["df"])
    mel = serializers.FloatField(help_text=CLASS_LABELS["mel"])
    nv = serializers.FloatField(help_text=CLASS_LABELS["nv"])
    vasc = serializers.FloatField(help_text=CLASS_LABELS["vasc"])


class AnalysisInputsSerializer(serializers.Serializer):
    """What the model was told besides the photo; null where it was not known."""

    site = serializers.ChoiceField(
        choices=[(code, label) for code, label in BODY_SITES if code != "unknown"],
        allow_null=True,
        help_text="The lesion's body site; null when it was unknown.",
    )
    age = serializers.IntegerField(
        min_value=0,
        max_value=AGE_MAX,
        allow_null=True,
        help_text="The patient's age in years when the photo was taken, from their year of birth; null if not given.",
    )
    sex = serializers.ChoiceField(
        choices=User._meta.get_field("sex").flatchoices, allow_null=True, help_text="Null if not given."
    )
    # Absent from analyses made before photo types: read as null / false.
    photo_type = serializers.ChoiceField(
        choices=PHOTO_TYPES,
        allow_null=True,
        default=None,
        help_text="How the photo was taken as the model scored it: `dermoscopy` or `clinical`; null for a model "
        "without photo types. The patient's `photo_type` on the photo wins over the detection.",
    )
    photo_type_detected = serializers.ChoiceField(
        choices=PHOTO_TYPES, allow_null=True, default=None, help_text="What the model saw, even when overridden."
    )
    photo_type_given = serializers.BooleanField(
        default=False, help_text="True when the patient said the photo type (it overrode the detection)."
    )


class ScaleSerializer(serializers.Serializer):
    """How many millimetres a pixel of the photo covers, and what that came from."""

    ok = serializers.BooleanField(help_text="False: no scale; `reason` says why.")
    # A declared field, popped off the class by DRF's metaclass: it never shadows Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["coin", "card", "ruler", "device", "manual"],
        allow_null=True,
        help_text="A coin, an ID-1 card or a ruler found in the photo, the calibrated dermatoscope, or two "
        "points the patient marked.",
    )
    mm_per_pixel = serializers.FloatField(allow_null=True, help_text="In the pixels of the photo as stored.")
    relative_uncertainty = serializers.FloatField(
        allow_null=True, help_text="One standard deviation, relative (0.03 = ±3 %)."
    )
    reason = serializers.CharField(allow_null=True, help_text="A code when not ok (or a warning when ok).")
    reason_text = serializers.CharField(allow_blank=True, help_text="The reason in plain words.")
    reference = JSONObjectField(
        help_text="Where the reference is, in fractions of the photo's width and height, for drawing it: "
        '`{"kind": "coin", "centre": [x, y], "radius_x": r}`, `{"kind": "card", "corners": [...]}`, '
        '`{"kind": "ruler", "line": [[x, y], [x, y]]}`, `{"kind": "manual", "points": [[x, y], [x, y]]}`.'
    )


class SizeSerializer(serializers.Serializer):
    """The lesion's size in millimetres on one photo, each figure ± one standard deviation."""

    ok = serializers.BooleanField(help_text="False: no size; `reason` and `reason_text` say why.")
    reason = serializers.CharField(
        allow_null=True,
        help_text="Why there is no size (`no_reference`, `two_coins`, `coin_over_lesion`, `reference_too_small`, "
        "`bad_manual_points`, `no_outline`, `error`), or a warning on a size that was measured "
        "(`disagrees_with_device`: the coin or ruler found does not match the dermatoscope's calibration; "
        "the one found is used).",
    )
    reason_text = serializers.CharField(allow_blank=True, help_text="The reason in plain words.")
    scale = ScaleSerializer(help_text="The scale the size rests on.")
    long_mm = serializers.FloatField(allow_null=True, help_text="The longest diameter across the outline.")
    long_mm_error = serializers.FloatField(allow_null=True, help_text="Its uncertainty, one standard deviation.")
    short_mm = serializers.FloatField(allow_null=True, help_text="The width across the longest diameter.")
    short_mm_error = serializers.FloatField(allow_null=True)
    area_mm2 = serializers.FloatField(allow_null=True, help_text="The area inside the outline, in mm².")
    area_mm2_error = serializers.FloatField(allow_null=True)
    wider_than_6mm = serializers.BooleanField(
        allow_null=True, help_text="True or false when 6 mm lies outside ±2 standard deviations; null: cannot tell."
    )


def size_data(size: dict | None) -> dict | None:
    """A stored size dict (Analysis.measures["size"]) as the API shows it; None as it is."""
    return SizeSerializer(size).data if isinstance(size, dict) else None


class AnalysisSerializer(serializers.ModelSerializer):
    probabilities = ProbabilitiesSerializer(
        read_only=True, allow_null=True, help_text="Null until the status is `done`."
    )
    # Declared, not derived from the model: a read-only model field would leave "" (the value
    # until the analysis is done) out of the schema's enum.
    predicted_class = serializers.ChoiceField(
        choices=list(CLASS_LABELS.items()),
        allow_blank=True,
        read_only=True,
        help_text="The most likely class; empty until done.",
    )
    predicted_label = serializers.CharField(read_only=True, help_text="The most likely class in words.")
    inputs = AnalysisInputsSerializer(
        read_only=True,
        allow_null=True,
        help_text="What the model was told besides the photo, as it was when the analysis ran; null until done "
        "(and for analyses made before this was recorded).",
    )
    heatmap_url = serializers.SerializerMethodField(
        help_text="Where the model looked: a JPEG of the photo with a Grad-CAM heatmap over it, for its "
        "owner's credentials only; null until done (and for analyses made before heatmaps existed)."
    )

    measures = JSONObjectField(
        read_only=True,
        allow_null=True,
        help_text="The lesion's outline and measures on this photo: `ok`, `reason` and `reason_text` (why there is "
        "no outline), `values` (asymmetry, border_irregularity, colours, colour_count, colour_shares, area_pixels; "
        "null when not ok) and `outline` ([[x, y], ...] in fractions of the photo's width and height). Null until "
        "done and for analyses made before measuring existed.",
    )
    size = serializers.SerializerMethodField(
        help_text="The lesion's size in millimetres with its uncertainty, from the outline and the photo's scale "
        "(a coin, card or ruler in the photo, the calibrated dermatoscope, or two points marked by hand); `ok` "
        "false with the reason when there is none. Null until done and for analyses made before sizes existed."
    )
    size_measuring = serializers.BooleanField(
        read_only=True,
        help_text="True while the size is being measured again after the photo's scale changed (a scale marked, a "
        "coin picked, a dermatoscope chosen or set up again): `size`, `measures` and `change` are then still the "
        "ones from before; poll until false (seconds).",
    )
    size_error = serializers.CharField(
        read_only=True,
        help_text="Why the size could not be measured again (the photo's file cannot be read), in words a patient "
        "can read; `size` is then the one from before. Empty otherwise.",
    )
    change = JSONObjectField(
        read_only=True,
        allow_null=True,
        help_text="What changed against the previous and the first photo of the lesion: `changed`, `sentences` (in "
        "words) and `comparisons` (per earlier photo: photo_id, taken_on, alignment, relative_area, changes, "
        "sentences; `growth_mm`: the long diameter's growth when both photos have a size in mm, which then decides "
        "whether the size changed instead of the area ratio). Null for a lesion's first photo.",
    )
    advice = JSONObjectField(
        read_only=True,
        allow_null=True,
        help_text="What to do: `band` (low, medium, high, or null when the model card has no operating points), "
        "`title`, `text`, `based_on` (the card's threshold, sensitivity, specificity), `changed` (a measured change "
        "raised the band) and `notice` (not a diagnosis). Null until done.",
    )

    class Meta:
        model = Analysis
        fields = [
            "status",
            "probabilities",
            "predicted_class",
            "predicted_label",
            "malignant_probability",
            "model_version",
            "error",
            "finished_at",
            "inputs",
            "heatmap_url",
            "measures",
            "size",
            "size_measuring",
            "size_error",
            "change",
            "advice",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "pending and running end in done, failed or not_assessable (the photo is not a "
                "lesion the model can score, e.g. too dark or blurry; the reason is in `error`); poll until then."
            },
            "malignant_probability": {"help_text": "akiec + bcc + mel; null until done."},
            "error": {"help_text": "Why it failed or is not assessable, in words a patient can read; empty otherwise."},
        }

    @extend_schema_field(serializers.URLField(allow_null=True))  # null until done: the schema must say so
    def get_heatmap_url(self, analysis: Analysis) -> str | None:
        if analysis.status != Analysis.Status.DONE or not analysis.heatmap:
            return None
        return absolute_url(reverse("api-photo-heatmap", args=[analysis.photo_id]), self.context.get("request"))

    @extend_schema_field(SizeSerializer(allow_null=True))
    def get_size(self, analysis: Analysis) -> dict | None:
        if analysis.status != Analysis.Status.DONE:
            return None
        return size_data((analysis.measures or {}).get("size"))
