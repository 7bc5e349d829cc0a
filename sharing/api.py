"""REST API for share links (see the API section of README.md).

    POST   /api/lesions/{id}/shares/  {physician_email, patient_name, expires_in_days, message,
                                       notify_on_new_analysis}
                                      -> 201 {id, url, expires_at}; someone else's lesion -> 404;
                                      an unconfirmed email address -> 400; a daily cap -> 429
                                      with Retry-After; the same share again within
                                      SHARE_REPEAT_SECONDS -> 201 with the first link
    POST   /api/shares/               the same for all the patient's lesions
    GET    /api/shares/               the patient's links, with status and access log
    GET    /api/shares/{id}/          one link
    DELETE /api/shares/{id}/          revoke it (204); the report then answers 410

Routed by skinsite.urls. `url` is the only time the link is given out: only a hash of its token is stored.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import api_user
from lesions import selectors as lesion_selectors
from lesions.models import Lesion
from sharing import selectors, services
from sharing.models import ShareAccess, ShareLink
from skinsite.api import PageNumberPagination, paginated_response

# The fields only parse; sharing.services checks the values and says what is wrong. The schema
# still tells clients the rules, which these decorators spell out for it.


@extend_schema_field({"type": "string", "format": "email", "minLength": 1})
class _EmailField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "integer",
        "maximum": services.MAX_EXPIRY_DAYS,
        "minimum": services.MIN_EXPIRY_DAYS,
        "default": services.DEFAULT_EXPIRY_DAYS,
    }
)
class _ExpiryField(serializers.IntegerField):
    pass


@extend_schema_field({"type": "string", "default": "", "maxLength": services.MESSAGE_MAX_LENGTH})
class _MessageField(serializers.CharField):
    pass


class ShareCreateSerializer(serializers.Serializer):
    physician_email = _EmailField()
    expires_in_days = _ExpiryField(
        default=services.DEFAULT_EXPIRY_DAYS, error_messages={"invalid": services.EXPIRY_NOT_A_NUMBER}
    )
    message = _MessageField(default="", allow_blank=True)
    notify_on_new_analysis = serializers.BooleanField(default=False)
    patient_name = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=(
            "The name the physician sees; defaults to your display name and is required when you "
            "have none (your email address is never shown)."
        ),
    )


_SHARE_CREATED = inline_serializer(
    name="ShareCreated",
    fields={
        "id": serializers.IntegerField(),
        "url": serializers.URLField(help_text="The report's address; given out only this once."),
        "expires_at": serializers.DateTimeField(),
    },
)


class ShareAccessSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShareAccess
        fields = ["kind", "accessed_at"]
        read_only_fields = fields


class ShareLinkSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    accesses = ShareAccessSerializer(many=True, read_only=True)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "lesion",
            "physician_email",
            "patient_name",
            "message",
            "notify_on_new_analysis",
            "created_at",
            "expires_at",
            "revoked_at",
            "status",
            "accesses",
        ]
        read_only_fields = fields


class DailyShareCapReached(exceptions.APIException):
    """A daily share cap, answered as the API's other limits are: 429, `detail`, and Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "share_limit"

    def __init__(self, message: str, wait: int) -> None:
        super().__init__(message)
        self.wait = wait  # DRF's exception handler turns it into Retry-After


def _create(request: Request, lesion: Lesion | None) -> Response:
    data = ShareCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        share, token = services.share_link_create(
            owner=api_user(request), lesion=lesion, request=request, **data.validated_data
        )
    except services.ShareLimitReached as exc:
        raise DailyShareCapReached(exc.messages[0], exc.retry_after) from None
    return Response(
        {
            "id": share.pk,
            "url": selectors.share_link_url(token),
            "expires_at": serializers.DateTimeField().to_representation(share.expires_at),
        },
        status=status.HTTP_201_CREATED,
    )


class LesionSharesViewSet(viewsets.ViewSet):
    """Share one of the caller's lesions; another user's lesion is 404."""

    single_route = True  # POST /api/lesions/{lesion_id}/shares/, beside the lesion's other URLs

    @extend_schema(
        request=ShareCreateSerializer,
        responses={201: _SHARE_CREATED},
        summary="Share a lesion's report with a physician",
        description=(
            "Emails the physician a read-only link. Another user's lesion is 404. Past a daily cap: 429 with "
            "Retry-After. The same share again within a minute gets the first link back, with no second email."
        ),
        tags=["shares"],
    )
    def create(self, request: Request, lesion_id: int) -> Response:
        return _create(request, lesion_selectors.lesion_get(user=api_user(request), lesion_id=lesion_id))


class ShareViewSet(viewsets.ViewSet):
    """The caller's share links: list them, share all the caller's lesions, read one, revoke one."""

    list_route_name = "api-shares"
    lookup_url_kwarg = "share_id"
    lookup_value_converter = "int"
    # No HEAD, which a viewset would add for GET: these URLs never answered it.
    http_method_names = ["get", "post", "delete", "options"]
    pagination_class = PageNumberPagination  # for the schema; list() pages with paginated_response

    @extend_schema(
        responses={200: ShareLinkSerializer(many=True)},
        summary="Your share links, newest first, with status and access log",
        description="GET: the caller's links, newest first. POST: share all the caller's lesions.",
    )
    def list(self, request: Request) -> Response:
        return paginated_response(request, selectors.shares_for_user(user=api_user(request)), ShareLinkSerializer)

    @extend_schema(
        request=ShareCreateSerializer,
        responses={201: _SHARE_CREATED},
        summary="Share all your lesions with a physician",
        description=(
            "GET: the caller's links, newest first. POST: share all the caller's lesions (past a daily cap: 429 "
            "with Retry-After; the same share again within a minute gets the first link back, with no second email)."
        ),
    )
    def create(self, request: Request) -> Response:
        return _create(request, None)

    @extend_schema(
        responses={200: ShareLinkSerializer},
        summary="One share link",
        description="GET: one of the caller's links. DELETE: revoke it (idempotent).",
    )
    def retrieve(self, request: Request, share_id: int) -> Response:
        return Response(ShareLinkSerializer(selectors.share_get(user=api_user(request), share_id=share_id)).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="Revoked; the report now answers 410.")},
        summary="Revoke a share link",
        description="GET: one of the caller's links. DELETE: revoke it (idempotent).",
    )
    def destroy(self, request: Request, share_id: int) -> Response:
        share = selectors.share_get(user=api_user(request), share_id=share_id)
        services.share_link_revoke(share=share, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
