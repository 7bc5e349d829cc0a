"""Read-only public API for the education content: GET /api/conditions/ and /api/conditions/{code}/.

No authentication at all, so a missing or stale token never stands between a reader and public
content; only published conditions are listed. Routed by skinsite.urls.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from education import selectors
from education.models import Condition, ExampleImage, Resource
from skinsite.api import PageNumberPagination, paginated_response
from skinsite.lib.urls import absolute_url
from training.contract import CLASS_LABELS


class ExampleImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExampleImage
        fields = ["url", "caption", "attribution"]

    def get_url(self, image: ExampleImage) -> str:
        return absolute_url(image.get_absolute_url(), self.context.get("request"))


class ResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["title", "url", "publisher"]


class ConditionSerializer(serializers.ModelSerializer):
    page_url = serializers.SerializerMethodField()
    images = ExampleImageSerializer(many=True, read_only=True)
    resources = ResourceSerializer(many=True, read_only=True)

    class Meta:
        model = Condition
        fields = [
            "code",
            "name",
            "malignant",
            "summary",
            "description",
            "advice",
            "page_url",
            "images",
            "resources",
            "updated_at",
        ]
        read_only_fields = fields

    def get_page_url(self, condition: Condition) -> str:
        return absolute_url(reverse("education:condition", args=[condition.code]), self.context.get("request"))


class ConditionViewSet(viewsets.ViewSet):
    """The published conditions, by their class code (akiec, bcc, bkl, df, mel, nv, vasc)."""

    # No authentication at all: a missing or stale token never stands between a reader and public content.
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    lookup_field = "code"
    lookup_value_converter = "slug"
    # No HEAD, which a viewset would add for GET: these URLs never answered it.
    http_method_names = ["get", "options"]
    pagination_class = PageNumberPagination  # for the schema; list() pages with paginated_response

    @extend_schema(responses={200: ConditionSerializer(many=True)}, summary="The seven conditions (public)")
    def list(self, request: Request) -> Response:
        """The published conditions in display order. `description` and `advice` are plain text (see PROSE_HELP)."""
        return paginated_response(request, selectors.conditions_published(), ConditionSerializer)

    @extend_schema(
        # The URL takes any slug, but only class codes name a condition (others are 404).
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, enum=[*CLASS_LABELS])],
        responses={200: ConditionSerializer},
        summary="One condition by its class code (public)",
    )
    def retrieve(self, request: Request, code: str) -> Response:
        """One published condition by its class code (akiec, bcc, bkl, df, mel, nv, vasc); 404 otherwise."""
        condition = selectors.condition_get(code=code)
        return Response(ConditionSerializer(condition, context={"request": request}).data)
