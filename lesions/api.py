"""REST API for lesions, photos and their analyses (see the API section of README.md)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from lesions import selectors, services
from lesions.files import private_file_response
from lesions.imaging import InvalidImage
from lesions.models import Analysis, Lesion, Photo


class AnalysisSerializer(serializers.ModelSerializer):
    probabilities = serializers.DictField(child=serializers.FloatField(), read_only=True, allow_null=True)

    class Meta:
        model = Analysis
        fields = [
            "status",
            "probabilities",
            "predicted_class",
            "malignant_probability",
            "model_version",
            "error",
            "finished_at",
        ]
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    analysis = serializers.SerializerMethodField()

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
            "analysis",
        ]
        read_only_fields = ["id", "lesion", "uploaded_at", "width", "height"]

    def _absolute(self, name: str, photo: Photo) -> str:
        url = reverse(name, args=[photo.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_image_url(self, photo: Photo) -> str:
        return self._absolute("api-photo-image", photo)

    def get_thumbnail_url(self, photo: Photo) -> str:
        return self._absolute("api-photo-thumbnail", photo)

    def get_analysis(self, photo: Photo) -> dict | None:
        analysis = selectors.current_analysis(photo)
        return AnalysisSerializer(analysis).data if analysis else None

    def validate_taken_at(self, value):
        from django.utils import timezone

        if value > timezone.now():
            raise ValidationError("The date a photo was taken cannot be in the future.")
        return value


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or HEIC, at most MAX_UPLOAD_MB.")
    taken_at = serializers.DateTimeField(required=False, allow_null=True)


class LesionSerializer(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True, default=0)
    latest_analysis = serializers.SerializerMethodField()

    class Meta:
        model = Lesion
        fields = ["id", "name", "body_site", "notes", "created_at", "photo_count", "latest_analysis"]
        read_only_fields = ["id", "created_at", "photo_count", "latest_analysis"]

    def get_latest_analysis(self, lesion: Lesion) -> dict | None:
        analysis = selectors.latest_analysis(lesion=lesion)
        return AnalysisSerializer(analysis).data if analysis else None


def _photo_queryset(qs):
    from django.db.models import Prefetch

    return qs.prefetch_related(Prefetch("analyses", queryset=Analysis.objects.order_by("-created_at")))


class LesionViewSet(viewsets.ModelViewSet):
    serializer_class = LesionSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return selectors.lesions_for_user(user=self.request.user)

    def perform_create(self, serializer: LesionSerializer) -> None:
        serializer.instance = services.lesion_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: LesionSerializer) -> None:
        serializer.instance = services.lesion_update(lesion=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Lesion) -> None:
        services.lesion_delete(lesion=instance)

    @action(detail=True, methods=["get", "post"], url_path="photos", parser_classes=[MultiPartParser, FormParser])
    def photos(self, request: Request, pk: str) -> Response:
        """GET: the lesion's photos by date taken. POST (multipart `image`, optional `taken_at`): upload."""
        lesion = self.get_object()
        if request.method == "GET":
            photos = _photo_queryset(lesion.photos.order_by("taken_at", "id"))
            return Response(PhotoSerializer(photos, many=True, context={"request": request}).data)
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            photo = services.photo_create(
                lesion=lesion, upload=upload.validated_data["image"], taken_at=upload.validated_data.get("taken_at")
            )
        except (InvalidImage, ValueError, DjangoValidationError) as exc:
            raise ValidationError({"image": [str(exc)]}) from None
        photo = _photo_queryset(Photo.objects.filter(pk=photo.pk)).get()
        # 202: the photo is stored, its analysis is still to come.
        return Response(PhotoSerializer(photo, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> Response:
        """The lesion's photos in the order they were taken, with their current analyses."""
        lesion = self.get_object()
        entries = selectors.lesion_history(lesion=lesion)
        data = [
            {
                "photo_id": e.photo.pk,
                "taken_at": serializers.DateTimeField().to_representation(e.photo.taken_at),
                "thumbnail_url": request.build_absolute_uri(reverse("api-photo-thumbnail", args=[e.photo.pk])),
                "analysis": AnalysisSerializer(e.analysis).data if e.analysis else None,
            }
            for e in entries
        ]
        return Response(data)


class PhotoViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """A single photo: read it, correct `taken_at`, delete it, or fetch its image bytes."""

    serializer_class = PhotoSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _photo_queryset(selectors.photos_for_user(user=self.request.user))

    def perform_update(self, serializer: PhotoSerializer) -> None:
        if "taken_at" in serializer.validated_data:
            services.photo_update(photo=serializer.instance, taken_at=serializer.validated_data["taken_at"])

    def perform_destroy(self, instance: Photo) -> None:
        services.photo_delete(photo=instance)

    @action(detail=True, methods=["get"], url_path="image", url_name="image")
    def image(self, request: Request, pk: str):
        return private_file_response(self.get_object().image)

    @action(detail=True, methods=["get"], url_path="thumbnail", url_name="thumbnail")
    def thumbnail(self, request: Request, pk: str):
        photo = self.get_object()
        return private_file_response(photo.thumbnail if photo.thumbnail else photo.image)
