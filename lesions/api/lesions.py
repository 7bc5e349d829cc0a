"""Lesions over the API: a patient's lesions, their photos (the upload), their timeline, and two of
their photos compared."""

from typing import cast

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.api import api_user
from lesions import comparison, selectors, services
from lesions.api.analyses import AnalysisSerializer, JSONObjectField
from lesions.api.comparisons import PAIR_PARAMETERS, ComparisonSerializer, api_links
from lesions.api.photos import PhotoSerializer, PhotoUploadSerializer, with_analyses
from lesions.compare_presenter import comparison_data
from lesions.models import Lesion, Photo
from skinsite.api import FileContentNegotiation, paginated_response
from skinsite.lib.urls import absolute_url
from skinsite.throttles import UploadThrottle


class MalignantTypeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="akiec, bcc or mel")
    name = serializers.CharField(source="label", help_text="The type's name, e.g. Melanoma.")
    probability = serializers.FloatField()


class LesionAdviceSerializer(serializers.Serializer):
    """The lesion's answer from its recent assessable photos (reports/lesion_answer.md)."""

    band = serializers.ChoiceField(
        choices=["low", "medium", "high"],
        allow_null=True,
        help_text="The lesion's risk band; null when the model card has no operating points.",
    )
    title = serializers.CharField(help_text="What to do, in one sentence: the headline of the lesion.")
    text = serializers.CharField()
    notice = serializers.CharField(help_text="Not a diagnosis.")
    changed = serializers.BooleanField(help_text="A measured change among these photos raised the band by one.")
    photos = serializers.IntegerField(
        help_text="How many recent assessable photos it rests on (the last 3 since a measured change, at most)."
    )
    malignant_probability = serializers.FloatField(
        help_text="The highest chance of a malignant type among those photos, which sets the band."
    )
    latest_band = serializers.CharField(
        allow_null=True, help_text="The latest assessable photo's own band (low, medium, high or null)."
    )
    photo_id = serializers.IntegerField(help_text="The photo the answer rests on (the highest chance).")
    most_likely_malignant = MalignantTypeSerializer(help_text="That photo's most likely malignant type.")
    based_on = JSONObjectField(allow_null=True, help_text="The card's threshold, sensitivity and specificity.")


class LesionSerializer(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True, default=0)
    latest_analysis = serializers.SerializerMethodField(
        help_text="The current analysis of the most recently taken photo; null without photos."
    )
    advice = serializers.SerializerMethodField(
        help_text="What to do about the lesion, from its recent assessable photos together (a single photo's "
        "advice is on its analysis); null until a photo has been assessed."
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
            "advice",
        ]
        read_only_fields = ["id", "created_at", "photo_count", "latest_analysis", "advice"]
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

    @extend_schema_field(LesionAdviceSerializer(allow_null=True))
    def get_advice(self, lesion: Lesion) -> dict | None:
        answer = selectors.lesion_assessment(lesion=lesion)
        return LesionAdviceSerializer(answer).data if answer else None


class HistoryEntrySerializer(serializers.Serializer):
    photo_id = serializers.IntegerField(source="photo.pk")
    taken_at = serializers.DateTimeField(source="photo.taken_at")
    thumbnail_url = serializers.SerializerMethodField()
    analysis = AnalysisSerializer(allow_null=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, entry: selectors.TimelineEntry) -> str:
        return absolute_url(reverse("api-photo-thumbnail", args=[entry.photo.pk]), self.context.get("request"))


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

    def get_queryset(self) -> QuerySet[Lesion]:
        return selectors.lesions_for_user(user=api_user(self.request))

    def perform_create(self, serializer: serializers.BaseSerializer[Lesion]) -> None:
        serializer.instance = services.lesion_create(owner=api_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Lesion]) -> None:
        lesion = cast(Lesion, serializer.instance)  # an update's serializer always holds its lesion
        serializer.instance = services.lesion_update(lesion=lesion, **serializer.validated_data)

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
            "photo answers 400 with a message under `image`. With a coin beside the lesion (`coin`) or taken "
            "through a calibrated dermatoscope (`device`), the analysis also gives the lesion's size in mm "
            "(`analysis.size`); `coin` `mine` before a coin is chosen on the account answers 400 under `coin`."
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
            photos = with_analyses(lesion.photos.order_by("taken_at", "id"))
            page = self.paginate_queryset(photos)
            return self.get_paginated_response(PhotoSerializer(page, many=True, context={"request": request}).data)
        upload = PhotoUploadSerializer(data=request.data, context={"request": request})
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
                coin=upload.validated_data.get("coin"),
                coin_diameter_mm=upload.validated_data.get("coin_diameter_mm"),
                device=upload.validated_data.get("device"),
            )
            photo = with_analyses(Photo.objects.filter(pk=photo.pk)).get()
            data = PhotoSerializer(photo, context={"request": request}).data
        # 202: the photo is stored, its analysis is still to come.
        return Response(data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=PAIR_PARAMETERS,
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
            user=api_user(request),
            lesion_id=self._lesion_id(pk),
            a=request.query_params.get("a"),
            b=request.query_params.get("b"),
        )
        result = comparison.photo_pair_compare(pair)
        return Response(ComparisonSerializer(comparison_data(result, api_links(request))).data)

    @extend_schema(
        parameters=[
            *PAIR_PARAMETERS,
            OpenApiParameter(
                "layer", str, enum=list(comparison.LAYERS), description="photo (default), heatmap or outline."
            ),
        ],
        responses={
            (200, "image/png"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The PNG, earlier photo's size (scaled down to 2048 pixels on its long side).",
            ),
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
            user=api_user(request),
            lesion_id=self._lesion_id(pk),
            a=request.query_params.get("a"),
            b=request.query_params.get("b"),
        )
        try:
            png = comparison.aligned_later_png_cached(pair, layer=request.query_params.get("layer", "photo"))
        except comparison.ComparisonBusy as busy:
            raise exceptions.Throttled(wait=busy.retry_after) from None
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
        # A list, not a queryset: paginated_response pages it as the viewset's paginator would.
        return paginated_response(request, selectors.lesion_history(lesion=self.get_object()), HistoryEntrySerializer)
