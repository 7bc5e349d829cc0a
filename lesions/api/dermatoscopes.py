"""A patient's phone dermatoscopes over the API: list them, calibrate a new one from a photo of a ruler,
calibrate one again, forget one.

A dermatoscope's field of view is fixed, so one photo of a ruler through it gives the millimetres per
pixel of every later photo taken with it (`device` on the photo upload).
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.api import api_user
from lesions import selectors, services
from lesions.models import Dermatoscope
from skinsite.throttles import MeasureThrottle


class DermatoscopeSerializer(serializers.ModelSerializer):
    photos_measuring = serializers.IntegerField(
        read_only=True,
        help_text="How many photos taken with it are being measured again, after it was calibrated again (only "
        "those whose size it gave); each photo's `size_measuring` says when it is done.",
    )

    class Meta:
        model = Dermatoscope
        fields = [
            "id",
            "name",
            "mm_per_pixel",
            "relative_uncertainty",
            "calibrated_width",
            "calibrated_at",
            "photos_measuring",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "mm_per_pixel": {"help_text": "Millimetres per pixel on a photo `calibrated_width` pixels wide."},
            "calibrated_width": {"help_text": "The width in pixels of the ruler photo it was calibrated on."},
        }


@extend_schema_field(OpenApiTypes.STR)
class JSONTextField(serializers.JSONField):
    """JSON sent as a text field of a multipart form (beside the image), typed `string` in the schema."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(binary=True, **kwargs)


class CalibrationSerializer(serializers.Serializer):
    """A photo of a ruler taken through the dermatoscope, and optionally two points marked on it."""

    image = serializers.FileField(
        help_text="A photo of a ruler (mm ticks) through the dermatoscope: JPEG, PNG or HEIC."
    )
    points = JSONTextField(
        required=False,
        help_text="Optional: two points on the ruler, as JSON `[[x, y], [x, y]]` in fractions of the photo's width "
        "and height, with `distance_mm`. Without them the ruler is found in the photo.",
    )
    distance_mm = serializers.FloatField(required=False, help_text="The real distance of the two points in mm.")


class DermatoscopeCreateSerializer(CalibrationSerializer):
    name = serializers.CharField(max_length=100, help_text='Its name, e.g. "DermLite on my phone".')


@extend_schema_view(
    list=extend_schema(summary="Your calibrated dermatoscopes"),
    retrieve=extend_schema(summary="One dermatoscope"),
    destroy=extend_schema(summary="Forget a dermatoscope", description="Its photos keep the sizes measured."),
)
class DermatoscopeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    queryset = Dermatoscope.objects.none()  # the model, for the schema generator; get_queryset() scopes
    serializer_class = DermatoscopeSerializer
    lookup_value_converter = "int"
    parser_classes = [MultiPartParser, FormParser]
    # Setting one up measures a ruler photo in the web process: the measuring rate (GETs pass it).
    throttle_classes = [AnonRateThrottle, UserRateThrottle, MeasureThrottle]

    def get_queryset(self) -> QuerySet[Dermatoscope]:
        return selectors.dermatoscopes_for_user(user=api_user(self.request))

    def perform_destroy(self, instance: Dermatoscope) -> None:
        services.dermatoscope_delete(dermatoscope=instance, user=api_user(self.request))

    @extend_schema(
        request={"multipart/form-data": DermatoscopeCreateSerializer},
        responses={201: DermatoscopeSerializer},
        summary="Calibrate a dermatoscope from a photo of a ruler",
        description="The ruler is found in the photo, or two points marked on it with their distance give the "
        "scale. No ruler found answers 400 with what to do. A name you already use calibrates that one again.",
    )
    def create(self, request: Request) -> Response:
        body = DermatoscopeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dermatoscope = services.dermatoscope_calibrate(
            user=api_user(request),
            name=data["name"],
            upload=data["image"],
            points=data.get("points"),
            distance_mm=data.get("distance_mm"),
        )
        return Response(self._counted(dermatoscope), status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": CalibrationSerializer},
        responses={200: DermatoscopeSerializer},
        summary="Calibrate a dermatoscope again",
        description="After a new phone, or a knock: a new photo of a ruler through it. Photos taken from now on "
        "are measured with the new calibration, and the worker measures again those taken with it whose size it "
        "gave (`photos_measuring`; not those sized by a coin, card, ruler or marked points).",
    )
    @action(detail=True, methods=["post"], url_path="calibrate", url_name="calibrate")
    def calibrate(self, request: Request, pk: int) -> Response:
        dermatoscope = self.get_object()
        body = CalibrationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dermatoscope = services.dermatoscope_calibrate(
            user=api_user(request),
            dermatoscope=dermatoscope,
            upload=data["image"],
            points=data.get("points"),
            distance_mm=data.get("distance_mm"),
        )
        return Response(self._counted(dermatoscope))

    def _counted(self, dermatoscope: Dermatoscope) -> dict[str, Any]:
        # Read again through the selector, after the commit: `photos_measuring` is what the worker has left.
        fresh = selectors.dermatoscope_get(user=api_user(self.request), dermatoscope_id=dermatoscope.pk)
        return DermatoscopeSerializer(fresh).data
