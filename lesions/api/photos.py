"""Photos over the API: list and filter them, read one, correct it, delete it, fetch its files.

Uploading is on the lesion (`POST /api/lesions/{id}/photos/`, lesions.api.lesions), with this
module's serializers.
"""

from datetime import UTC
from typing import cast

import django_filters
from django import forms
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.api import api_user
from inference.models import Analysis
from inference.services import current_model_version
from lesions import selectors, services
from lesions.api.analyses import AnalysisSerializer, JSONObjectField, SizeSerializer, size_data
from lesions.files import private_file_response
from lesions.models import PHOTO_TYPES, Dermatoscope, Photo
from lesions.services import COIN_MINE
from measurement.scale import COINS
from skinsite.api import FileContentNegotiation
from skinsite.lib.urls import absolute_url
from skinsite.throttles import MeasureThrottle


class PhotoSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField(help_text="The JPEG, for its owner's credentials only.")
    thumbnail_url = serializers.SerializerMethodField(help_text="A small JPEG, for its owner's credentials only.")
    analysis = serializers.SerializerMethodField(help_text="The current analysis; null if none was requested.")
    size = serializers.SerializerMethodField(
        help_text="The lesion's size in mm on this photo (the current analysis's `size`); null until measured."
    )
    size_measuring = serializers.SerializerMethodField(
        help_text="True while the size is being measured again (the current analysis's `size_measuring`): `size` "
        "is the one from before until then."
    )

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
            "coin_diameter_mm",
            "device",
            "manual_scale",
            "size",
            "size_measuring",
            "analysis",
        ]
        read_only_fields = ["id", "lesion", "uploaded_at", "width", "height", "coin_diameter_mm", "device"]
        extra_kwargs = {
            "photo_type": {
                "help_text": "How it was taken, as the patient said: `dermoscopy` (through a dermatoscope) or "
                "`clinical` (plain camera); null when not said (the model detects it, see "
                "`analysis.inputs.photo_type`). Setting it with PATCH analyses the photo again with that type."
            },
            "coin_diameter_mm": {
                "help_text": "The diameter of the coin lying in the photo, when the patient said there is one (at "
                "upload, or `POST /api/photos/{id}/scale/`); null: no coin."
            },
            "device": {"help_text": "The calibrated dermatoscope it was taken through (`/api/dermatoscopes/`)."},
        }

    def _absolute(self, name: str, photo: Photo) -> str:
        return absolute_url(reverse(name, args=[photo.pk]), self.context.get("request"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, photo: Photo) -> str:
        return self._absolute("api-photo-image", photo)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, photo: Photo) -> str:
        return self._absolute("api-photo-thumbnail", photo)

    manual_scale = JSONObjectField(
        read_only=True,
        allow_null=True,
        help_text='The scale the patient marked: `{"points": [[x, y], [x, y]], "distance_mm": d}` in fractions of '
        "the photo; it wins over a reference found in the photo. Null: none marked.",
    )

    @extend_schema_field(SizeSerializer(allow_null=True))
    def get_size(self, photo: Photo) -> dict | None:
        return size_data(selectors.analysis_size(selectors.current_analysis(photo)))

    def get_size_measuring(self, photo: Photo) -> bool:
        analysis = selectors.current_analysis(photo)
        return analysis is not None and analysis.size_measuring

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
    coin = serializers.ChoiceField(
        choices=[COIN_MINE, *COINS, "other"],
        required=False,
        allow_null=True,
        help_text="A coin lies beside the lesion, for its size in mm: `mine` (the coin chosen on the account, "
        "`coin`), a coin's key (`eur_1`, `usd_25c`... see the account's `coin`), or `other` with "
        "`coin_diameter_mm`. Leave it out when there is no coin.",
    )
    coin_diameter_mm = serializers.FloatField(
        required=False, allow_null=True, help_text="With `coin` `other`: the coin's diameter in mm."
    )
    device = serializers.PrimaryKeyRelatedField(
        queryset=Dermatoscope.objects.none(),
        required=False,
        allow_null=True,
        help_text="The id of the calibrated dermatoscope it was taken through (`/api/dermatoscopes/`).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # only the caller's own dermatoscopes are a choice
            device = cast(serializers.PrimaryKeyRelatedField, self.fields["device"])
            device.queryset = selectors.dermatoscopes_for_user(user=api_user(request))


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "array",
            "items": {"type": "number", "minimum": 0, "maximum": 1},
            "minItems": 2,
            "maxItems": 2,
        },
        "minItems": 2,
        "maxItems": 2,
    }
)
class PointsField(serializers.Field):
    """Two points `[[x, y], [x, y]]` in fractions of a photo; one flat message when they are not."""

    default_error_messages = {"invalid": services.BAD_POINTS}

    def to_internal_value(self, data: object) -> list[list[float]]:
        pairs = data if isinstance(data, list) and len(data) == 2 else None
        if pairs is None or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            self.fail("invalid")
        values = [v for point in pairs for v in point]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in values):
            self.fail("invalid")
        return [[float(x), float(y)] for x, y in pairs]

    def to_representation(self, value: list[list[float]]) -> list[list[float]]:
        return value


class PhotoScaleSerializer(serializers.Serializer):
    """Two points marked on the photo and their real distance, or the coin lying in it."""

    points = PointsField(
        required=False,
        help_text="Two points on the reference, `[[x, y], [x, y]]` in fractions of the photo's width and height.",
    )
    distance_mm = serializers.FloatField(required=False, help_text="Their real distance in mm.")
    coin = serializers.ChoiceField(
        choices=[COIN_MINE, *COINS, "other"],
        required=False,
        help_text="Or: the coin lying in the photo (`mine`, a coin's key, or `other` with `coin_diameter_mm`).",
    )
    coin_diameter_mm = serializers.FloatField(required=False, help_text="With `coin` `other`: its diameter in mm.")


def with_analyses(qs: QuerySet[Photo]) -> QuerySet[Photo]:
    """Photos with their analyses, newest first, in one more query (what PhotoSerializer reads)."""
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
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # post: the scale only
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PhotoFilter
    ordering_fields = ["taken_at", "uploaded_at"]
    ordering = ["taken_at", "id"]

    def get_queryset(self) -> QuerySet[Photo]:
        return with_analyses(selectors.photos_for_user(user=api_user(self.request)))

    def filter_queryset(self, queryset):
        # Filters narrow lists; a photo fetched by id is found whatever the query string says.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_update(self, serializer: serializers.BaseSerializer[Photo]) -> None:
        photo = cast(Photo, serializer.instance)  # an update's serializer always holds its photo
        if "taken_at" in serializer.validated_data:
            services.photo_update(photo=photo, taken_at=serializer.validated_data["taken_at"])
        if "photo_type" in serializer.validated_data:
            services.photo_type_set(photo=photo, photo_type=serializer.validated_data["photo_type"])

    def perform_destroy(self, instance: Photo) -> None:
        services.photo_delete(photo=instance)

    @extend_schema(
        methods=["POST"],
        request=PhotoScaleSerializer,
        responses={200: PhotoSerializer},
        summary="Give the photo a scale: two marked points and their distance, or its coin",
        description="Has the lesion measured in mm again (the `size` of the photo and its analysis) and the "
        "changes of the lesion's later photos against it, by the worker within seconds: until then "
        "`size_measuring` is true and `size` the one from before; poll the photo. Two points win over a coin, "
        "card or ruler found in the photo; a coin drops the points marked before and is looked for. A scale that "
        "cannot be used (points too close together) answers 400 with the reason.",
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={200: PhotoSerializer},
        summary="Forget the scale marked by hand",
        description="The coin, card, ruler or dermatoscope gives the size again (measured by the worker: "
        "`size_measuring` is true until then).",
    )
    @action(
        detail=True,
        methods=["post", "delete"],
        url_path="scale",
        url_name="scale",
        filter_backends=[],
        throttle_classes=[AnonRateThrottle, UserRateThrottle, MeasureThrottle],
    )
    def scale(self, request: Request, pk: str) -> Response:
        photo = self.get_object()
        user = api_user(request)
        if request.method == "DELETE":
            services.photo_scale_clear(photo=photo, user=user)
        else:
            body = PhotoScaleSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            services.photo_scale_set(photo=photo, user=user, **body.validated_data)
        photo = with_analyses(Photo.objects.filter(pk=photo.pk).select_related("lesion")).get()
        return Response(PhotoSerializer(photo, context={"request": request}).data)

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
