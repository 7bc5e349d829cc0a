"""REST API for lesions, photos and their analyses (see the API section of README.md)."""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

import django_filters
from django import forms
from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from accounts.models import AGE_MAX, User
from inference.models import Analysis
from inference.services import current_model_version
from lesions import comparison, selectors, services
from lesions.export import account_export
from lesions.files import private_file_response
from lesions.models import BODY_SITES, PHOTO_TYPES, Lesion, Photo
from skinsite.api import FileContentNegotiation
from skinsite.lib.urls import absolute_url
from skinsite.throttles import ExportThrottle, UploadThrottle
from training.contract import CLASS_LABELS

# --- Serializers ------------------------------------------------------------------------------


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
        choices=User._meta.get_field("sex").choices, allow_null=True, help_text="Null if not given."
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
    change = JSONObjectField(
        read_only=True,
        allow_null=True,
        help_text="What changed against the previous and the first photo of the lesion: `changed`, `sentences` (in "
        "words) and `comparisons` (per earlier photo: photo_id, taken_on, alignment, relative_area, changes, "
        "sentences). Null for a lesion's first photo.",
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


class ComparedPhotoSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    taken_at = serializers.DateTimeField()
    image_url = serializers.URLField(help_text="The photo's JPEG, as taken (for the owner's credentials only).")
    heatmap_url = serializers.URLField(allow_null=True, help_text="Its heatmap JPEG; null when there is none.")
    measures = JSONObjectField(allow_null=True, help_text="As `analysis.measures`.")
    advice = JSONObjectField(allow_null=True, help_text="As `analysis.advice`; null without a done analysis.")


class ComparisonSerializer(serializers.Serializer):
    """Two photos of a lesion, the later aligned to the earlier, and what changed between them."""

    earlier = ComparedPhotoSerializer()
    later = ComparedPhotoSerializer()
    alignment = JSONObjectField(
        help_text="`ok`, `reason` and `reason_text` (why the photos could not be aligned), `matrix` (3x3 similarity "
        "from later-photo pixels to earlier-photo pixels; null when not ok), `scale`, `rotation_degrees`, `shift`, "
        "`inliers`, `matches`."
    )
    relative_area = serializers.FloatField(
        allow_null=True, help_text="Later lesion area over the earlier, on aligned photos; null otherwise."
    )
    changes = serializers.ListField(
        child=serializers.DictField(), help_text="The measures that changed beyond their thresholds."
    )
    sentences = serializers.ListField(child=serializers.CharField(), help_text="What changed, in words.")
    aligned_later_url = serializers.URLField(
        allow_null=True, help_text="PNG of the later photo warped onto the earlier one; null when not aligned."
    )
    aligned_later_heatmap_url = serializers.URLField(
        allow_null=True, help_text="PNG of the later photo's heatmap, warped likewise; null when not aligned or none."
    )
    aligned_later_outline_url = serializers.URLField(
        allow_null=True, help_text="PNG (transparent) of the later outline, warped likewise; null when not aligned."
    )


@dataclass(frozen=True)
class ComparisonLinks:
    """Where a comparison's pictures are served. One answer shape serves every reader: the API (the
    default, absolute URLs for a token), the patient's compare page, and a physician's report, whose
    pictures must come from report URLs (the patient's need the patient's login)."""

    photo: Callable[[Photo], str]
    heatmap: Callable[[Photo], str]  # asked only for a photo whose analysis has a heatmap
    aligned: Callable[[comparison.PhotoPair, str], str]  # the later photo on the earlier, by layer


def pair_query(pair: comparison.PhotoPair, layer: str | None = None) -> str:
    """`?a=<earlier>&b=<later>` (and `&layer=`): how every compare URL names its pair."""
    return f"?a={pair.earlier.pk}&b={pair.later.pk}" + (f"&layer={layer}" if layer else "")


def _api_links(request) -> ComparisonLinks:
    def url(name: str, *args, query: str = "") -> str:
        return absolute_url(reverse(name, args=args), request) + query

    return ComparisonLinks(
        photo=lambda photo: url("api-photo-image", photo.pk),
        heatmap=lambda photo: url("api-photo-heatmap", photo.pk),
        aligned=lambda pair, layer: url("api-lesion-compare-image", pair.lesion.pk, query=pair_query(pair, layer)),
    )


def comparison_data(result: comparison.Comparison, request, links: ComparisonLinks | None = None) -> dict:
    """The compare API's answer, also the compare pages' (patient and physician), each with its `links`."""
    pair = result.pair
    links = links or _api_links(request)

    def side(photo: Photo, analysis: Analysis | None, measures: dict | None) -> dict:
        done = analysis is not None and analysis.status == Analysis.Status.DONE
        return {
            "photo_id": photo.pk,
            "taken_at": photo.taken_at,
            "image_url": links.photo(photo),
            "heatmap_url": links.heatmap(photo) if done and analysis.heatmap else None,
            "measures": measures,
            "advice": analysis.advice if done else None,
        }

    aligned = result.aligned
    has_heatmap = bool(pair.later_analysis and pair.later_analysis.heatmap)
    has_outline = bool((result.later_measures or {}).get("outline"))
    return {
        "earlier": side(pair.earlier, pair.earlier_analysis, result.earlier_measures),
        "later": side(pair.later, pair.later_analysis, result.later_measures),
        "alignment": result.result["alignment"],
        "relative_area": result.result["relative_area"],
        "changes": result.result["changes"],
        "sentences": result.result["sentences"],
        "aligned_later_url": links.aligned(pair, "photo") if aligned else None,
        "aligned_later_heatmap_url": links.aligned(pair, "heatmap") if aligned and has_heatmap else None,
        "aligned_later_outline_url": links.aligned(pair, "outline") if aligned and has_outline else None,
    }


def compare_page_context(request, lesion: Lesion, links: ComparisonLinks) -> dict:
    """What a compare page shows (the patient's, a physician's): the lesion's photos and, with two or
    more, the pair `?a=&b=` (default: the first and the last photo) compared, pictures from `links`.
    The caller has checked access to `lesion`; photos of any other lesion are Http404."""
    photos = list(lesion.photos.order_by("taken_at", "id"))
    context: dict = {"lesion": lesion, "photos": photos}
    if len(photos) >= 2:
        a, b = request.GET.get("a", photos[0].pk), request.GET.get("b", photos[-1].pk)
        pair = comparison.photo_pair_of_lesion(lesion=lesion, a=a, b=b)
        result = comparison.photo_pair_compare(pair)
        context |= {"pair": pair, "result": result, "data": comparison_data(result, request, links)}
    return context


_PAIR_PARAMETERS = [
    OpenApiParameter("a", int, required=True, description="One photo of the lesion (its id)."),
    OpenApiParameter("b", int, required=True, description="Another photo of the lesion; their order does not matter."),
]


class PhotoSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField(help_text="The JPEG, for its owner's credentials only.")
    thumbnail_url = serializers.SerializerMethodField(help_text="A small JPEG, for its owner's credentials only.")
    analysis = serializers.SerializerMethodField(help_text="The current analysis; null if none was requested.")

    class Meta:
        model = Photo
        fields = [
            "id",
            "lesion",
            "taken_at",
            "uploaded_at",
            "width",
            "height",
            "image_url",
            "thumbnail_url",
            "photo_type",
            "analysis",
        ]
        read_only_fields = ["id", "lesion", "uploaded_at", "width", "height"]
        extra_kwargs = {
            "photo_type": {
                "help_text": "How it was taken, as the patient said: `dermoscopy` (through a dermatoscope) or "
                "`clinical` (plain camera); null when not said (the model detects it, see "
                "`analysis.inputs.photo_type`). Setting it with PATCH analyses the photo again with that type."
            }
        }

    def _absolute(self, name: str, photo: Photo) -> str:
        return absolute_url(reverse(name, args=[photo.pk]), self.context.get("request"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, photo: Photo) -> str:
        return self._absolute("api-photo-image", photo)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, photo: Photo) -> str:
        return self._absolute("api-photo-thumbnail", photo)

    @extend_schema_field(AnalysisSerializer(allow_null=True))
    def get_analysis(self, photo: Photo) -> dict | None:
        analysis = selectors.current_analysis(photo)
        return AnalysisSerializer(analysis, context=self.context).data if analysis else None


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or HEIC, at most MAX_UPLOAD_MB.")
    taken_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it was taken; default: from EXIF, else now."
    )
    photo_type = serializers.ChoiceField(
        choices=PHOTO_TYPES,
        required=False,
        allow_null=True,
        help_text="`dermoscopy` (through a dermatoscope attachment) or `clinical` (plain camera); "
        "leave it out and the model detects it.",
    )


class LesionSerializer(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True, default=0)
    latest_analysis = serializers.SerializerMethodField(
        help_text="The current analysis of the most recently taken photo; null without photos."
    )

    class Meta:
        model = Lesion
        fields = [
            "id",
            "name",
            "body_site",
            "map_view",
            "map_x",
            "map_y",
            "notes",
            "created_at",
            "photo_count",
            "latest_analysis",
        ]
        read_only_fields = ["id", "created_at", "photo_count", "latest_analysis"]
        extra_kwargs = {
            "map_view": {
                "help_text": "Which body-map outline the lesion's dot is on; empty when the site is unknown. "
                "Send map_view, map_x and map_y together (a tap on the map): the tap gives the body site, "
                "and must agree with body_site when both are sent. A body_site alone puts the dot at the "
                "centre of that site."
            },
            "map_x": {"help_text": "Across the view's outline, 0-200 (the body's midline is 100); null when unknown."},
            "map_y": {"help_text": "Down the view's outline, 0 (top of the head) to 440; null when unknown."},
        }

    @extend_schema_field(AnalysisSerializer(allow_null=True))
    def get_latest_analysis(self, lesion: Lesion) -> dict | None:
        analysis = selectors.latest_analysis(lesion=lesion)
        return AnalysisSerializer(analysis, context=self.context).data if analysis else None


class HistoryEntrySerializer(serializers.Serializer):
    photo_id = serializers.IntegerField(source="photo.pk")
    taken_at = serializers.DateTimeField(source="photo.taken_at")
    thumbnail_url = serializers.SerializerMethodField()
    analysis = AnalysisSerializer(allow_null=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, entry: selectors.TimelineEntry) -> str:
        return absolute_url(reverse("api-photo-thumbnail", args=[entry.photo.pk]), self.context.get("request"))


# --- Querysets and filters --------------------------------------------------------------------


def _photo_queryset(qs: QuerySet[Photo]) -> QuerySet[Photo]:
    return qs.prefetch_related(Prefetch("analyses", queryset=Analysis.objects.order_by("-created_at")))


class _UtcDateTimeField(IsoDateTimeField):
    """ISO 8601, converted to UTC before it reaches the database.

    Python accepts UTC offsets up to ±23:59 and PostgreSQL only up to ±15:59: passed on as
    written, "2024-01-01T00:00-21:00" was a server error instead of a date.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date between the years 1 and 9999.", code="invalid") from None


class _UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class PhotoFilter(django_filters.FilterSet):
    # A plain number, not a choice among lesions: a choice field would answer "not a valid
    # choice" only for lesions that do not exist, telling bob which ids alice has.
    # Bounded to what a database id can be: a larger number was a server error (SQLite's overflow).
    lesion = django_filters.NumberFilter(
        field_name="lesion_id", min_value=-(2**63), max_value=2**63 - 1, help_text="Only this lesion's photos."
    )
    taken_after = _UtcDateTimeFilter(
        field_name="taken_at", lookup_expr="gte", help_text="Taken at or after (ISO 8601)."
    )
    taken_before = _UtcDateTimeFilter(
        field_name="taken_at", lookup_expr="lte", help_text="Taken at or before (ISO 8601)."
    )
    status = django_filters.ChoiceFilter(
        choices=Analysis.Status.choices, method="filter_status", help_text="Status of the current analysis."
    )

    class Meta:
        model = Photo
        fields = ["lesion", "taken_after", "taken_before", "status"]

    def filter_status(self, queryset: QuerySet[Photo], name: str, value: str) -> QuerySet[Photo]:
        # The same rule as selectors.current_analysis: the installed model's analysis, else the newest.
        analyses = Analysis.objects.filter(photo=OuterRef("pk"))
        current = Coalesce(
            Subquery(analyses.filter(model_version=current_model_version()).values("status")[:1]),
            Subquery(analyses.order_by("-created_at", "-id").values("status")[:1]),
        )
        return queryset.annotate(current_status=current).filter(current_status=value)


# --- Views ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Your lesions"),
    create=extend_schema(summary="Register a lesion"),
    retrieve=extend_schema(summary="One lesion"),
    partial_update=extend_schema(summary="Change a lesion's name, body site or notes"),
    update=extend_schema(summary="Replace a lesion's name, body site and notes"),
    destroy=extend_schema(summary="Delete a lesion with its photos and analyses"),
)
class LesionViewSet(viewsets.ModelViewSet):
    # `queryset` only tells the schema generator the model; get_queryset() scopes to the user.
    queryset = Lesion.objects.none()
    serializer_class = LesionSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at", "name"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.lesions_for_user(user=self.request.user)

    def perform_create(self, serializer: LesionSerializer) -> None:
        serializer.instance = services.lesion_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: LesionSerializer) -> None:
        serializer.instance = services.lesion_update(lesion=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Lesion) -> None:
        services.lesion_delete(lesion=instance)

    @extend_schema(
        methods=["GET"],
        responses={200: PhotoSerializer(many=True)},
        summary="The lesion's photos",
        description="In the order they were taken.",
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={202: PhotoSerializer},
        summary="Upload a photo of the lesion",
        description=(
            "Answers 202 with the stored photo and its analysis `pending`; poll `GET /api/photos/{id}/` "
            "until the status is `done`, `failed` or `not_assessable`. A file that is not a usable JPEG, PNG or HEIC "
            "photo answers 400 with a message under `image`."
        ),
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="photos",
        parser_classes=[MultiPartParser, FormParser],
        throttle_classes=[AnonRateThrottle, UserRateThrottle, UploadThrottle],
        filter_backends=[],
    )
    def photos(self, request: Request, pk: str) -> Response:
        lesion = self.get_object()
        if request.method == "GET":
            photos = _photo_queryset(lesion.photos.order_by("taken_at", "id"))
            page = self.paginate_queryset(photos)
            return self.get_paginated_response(PhotoSerializer(page, many=True, context={"request": request}).data)
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        # The answer is read before the commit: a database that fails after the photo was committed
        # would otherwise answer 500 for a saved photo, and the app would upload it a second time.
        with transaction.atomic():
            # A photo the service refuses is a ValidationError by field (`image`, `taken_at`): 400.
            photo = services.photo_create(
                lesion=lesion,
                upload=upload.validated_data["image"],
                taken_at=upload.validated_data.get("taken_at"),
                photo_type=upload.validated_data.get("photo_type"),
            )
            photo = _photo_queryset(Photo.objects.filter(pk=photo.pk)).get()
            data = PhotoSerializer(photo, context={"request": request}).data
        # 202: the photo is stored, its analysis is still to come.
        return Response(data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=_PAIR_PARAMETERS,
        responses={
            200: ComparisonSerializer,
            404: OpenApiResponse(description="Not your lesion, or a and b are not two photos of it."),
        },
        summary="Compare two photos of the lesion",
        description=(
            "The later photo aligned to the earlier (ORB keypoints + RANSAC similarity; `alignment.ok` is false, "
            "with the reason, when they cannot be matched, and then there is no aligned image), the measures of "
            "both, and what changed beyond the thresholds of reports/change_detection.md."
        ),
    )
    @action(detail=True, methods=["get"], url_path="compare", url_name="compare", filter_backends=[])
    def compare(self, request: Request, pk: str) -> Response:
        pair = comparison.photo_pair_get(
            user=request.user,
            lesion_id=self._lesion_id(pk),
            a=request.query_params.get("a"),
            b=request.query_params.get("b"),
        )
        result = comparison.photo_pair_compare(pair)
        return Response(ComparisonSerializer(comparison_data(result, request)).data)

    @extend_schema(
        parameters=[
            *_PAIR_PARAMETERS,
            OpenApiParameter(
                "layer", str, enum=list(comparison.LAYERS), description="photo (default), heatmap or outline."
            ),
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The PNG, earlier photo's size."),
            404: OpenApiResponse(description="Not your lesion or photos, not aligned, or no such layer."),
        },
        summary="The later photo aligned onto the earlier one",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="compare/image",
        url_name="compare-image",
        filter_backends=[],
        content_negotiation_class=FileContentNegotiation,
    )
    def compare_image(self, request: Request, pk: str) -> HttpResponse:
        pair = comparison.photo_pair_get(
            user=request.user,
            lesion_id=self._lesion_id(pk),
            a=request.query_params.get("a"),
            b=request.query_params.get("b"),
        )
        png = comparison.aligned_later_png(
            comparison.photo_pair_compare(pair), layer=request.query_params.get("layer", "photo")
        )
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response

    @staticmethod
    def _lesion_id(pk: str) -> int:
        if not str(pk).isdigit():
            raise Http404("No such lesion.")
        return int(pk)

    @extend_schema(
        responses={200: HistoryEntrySerializer(many=True)},
        summary="The lesion's timeline",
        description="Its photos in the order they were taken, each with its current analysis.",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str) -> Response:
        entries = selectors.lesion_history(lesion=self.get_object())
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True, context={"request": request}).data)


_PHOTO_BYTES = {
    (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The JPEG."),
    302: OpenApiResponse(description="With S3 and PHOTO_SIGNED_URL_REDIRECT: to a short-lived signed URL."),
}


@extend_schema_view(
    list=extend_schema(summary="Your photos, across lesions", description="Filter by lesion, date range, status."),
    retrieve=extend_schema(summary="One photo with its current analysis"),
    partial_update=extend_schema(
        summary="Correct the date a photo was taken or its photo type",
        description="Setting `photo_type` (`dermoscopy` or `clinical`) analyses the photo again with that type: "
        "the analysis goes back to `pending`; poll until it is finished.",
    ),
    destroy=extend_schema(summary="Delete a photo (its files leave storage)"),
)
class PhotoViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Photos: list and filter them, read one, correct `taken_at` or `photo_type`, delete, or fetch the image bytes."""

    queryset = Photo.objects.none()  # for the schema generator, as on LesionViewSet
    serializer_class = PhotoSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PhotoFilter
    ordering_fields = ["taken_at", "uploaded_at"]
    ordering = ["taken_at", "id"]

    def get_queryset(self):
        return _photo_queryset(selectors.photos_for_user(user=self.request.user))

    def filter_queryset(self, queryset):
        # Filters narrow lists; a photo fetched by id is found whatever the query string says.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_update(self, serializer: PhotoSerializer) -> None:
        if "taken_at" in serializer.validated_data:
            services.photo_update(photo=serializer.instance, taken_at=serializer.validated_data["taken_at"])
        if "photo_type" in serializer.validated_data:
            services.photo_type_set(photo=serializer.instance, photo_type=serializer.validated_data["photo_type"])

    def perform_destroy(self, instance: Photo) -> None:
        services.photo_delete(photo=instance)

    @extend_schema(responses=_PHOTO_BYTES, summary="The photo's JPEG")
    @action(
        detail=True,
        methods=["get"],
        url_path="image",
        url_name="image",
        content_negotiation_class=FileContentNegotiation,
    )
    def image(self, request: Request, pk: str):
        return private_file_response(self.get_object().image)

    @extend_schema(responses=_PHOTO_BYTES, summary="The photo's thumbnail JPEG")
    @action(
        detail=True,
        methods=["get"],
        url_path="thumbnail",
        url_name="thumbnail",
        content_negotiation_class=FileContentNegotiation,
    )
    def thumbnail(self, request: Request, pk: str):
        photo = self.get_object()
        return private_file_response(photo.thumbnail_file)

    @extend_schema(
        responses={**_PHOTO_BYTES, 404: OpenApiResponse(description="No such photo, or no heatmap yet.")},
        summary="The current analysis's heatmap JPEG",
        description="The photo with a Grad-CAM heatmap over the centre square the model looks at.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="heatmap",
        url_name="heatmap",
        content_negotiation_class=FileContentNegotiation,
    )
    def heatmap(self, request: Request, pk: str):
        heatmap = selectors.heatmap_file(self.get_object())
        if heatmap is None:
            raise Http404("No heatmap for this photo.")
        return private_file_response(heatmap)


class AccountExportView(APIView):
    throttle_classes = [UserRateThrottle, ExportThrottle]
    content_negotiation_class = FileContentNegotiation

    @extend_schema(
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP.")},
        summary="Download everything: a ZIP of lesions, photos and analyses",
        description=(
            "`lesions.json` holds the lesions, their photos and every analysis of each photo; "
            "`photos/<id>.jpg` the photos; `account.json` the account."
        ),
    )
    def get(self, request: Request) -> FileResponse:
        # A temporary file, not memory: the ZIP holds every photo. FileResponse closes (deletes) it.
        out = tempfile.TemporaryFile()  # noqa: SIM115
        account_export(user=request.user, out=out)
        out.seek(0)
        filename = f"skinsite-export-{timezone.localdate():%Y-%m-%d}.zip"
        return FileResponse(out, as_attachment=True, filename=filename, content_type="application/zip")
