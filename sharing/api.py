"""REST API for share links (see the API section of README.md).

    POST   /api/lesions/{id}/shares/  {physician_email, patient_name, expires_in_days, message,
                                       notify_on_new_analysis}
                                      -> 201 {id, url, expires_at}; someone else's lesion -> 404;
                                      an unconfirmed email address or a daily cap -> 400
    POST   /api/shares/               the same for all the patient's lesions
    GET    /api/shares/               the patient's links, with status and access log
    GET    /api/shares/{id}/          one link
    DELETE /api/shares/{id}/          revoke it (204); the report then answers 410

`url` is the only time the link is given out: only a hash of its token is stored.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from lesions import selectors as lesion_selectors
from lesions.models import Lesion
from sharing import selectors, services
from sharing.models import ShareAccess, ShareLink
from skinsite.api import paginated, paginated_response

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


def _create(request: Request, lesion: Lesion | None) -> Response:
    data = ShareCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    share, token = services.share_link_create(owner=request.user, lesion=lesion, request=request, **data.validated_data)
    return Response(
        {
            "id": share.pk,
            "url": selectors.share_link_url(token),
            "expires_at": serializers.DateTimeField().to_representation(share.expires_at),
        },
        status=status.HTTP_201_CREATED,
    )


@extend_schema(
    methods=["POST"],
    request=ShareCreateSerializer,
    responses={201: _SHARE_CREATED},
    summary="Share a lesion's report with a physician",
    description="Emails the physician a read-only link. Another user's lesion is 404.",
    tags=["shares"],
)
@api_view(["POST"])
def lesion_shares(request: Request, lesion_id: int) -> Response:
    """Share one of the caller's lesions; another user's lesion is 404."""
    return _create(request, lesion_selectors.lesion_get(user=request.user, lesion_id=lesion_id))


@extend_schema(
    methods=["GET"],
    responses={200: ShareLinkSerializer(many=True)},
    summary="Your share links, newest first, with status and access log",
)
@extend_schema(
    methods=["POST"],
    request=ShareCreateSerializer,
    responses={201: _SHARE_CREATED},
    summary="Share all your lesions with a physician",
)
@paginated
@api_view(["GET", "POST"])
def share_list(request: Request) -> Response:
    """GET: the caller's links, newest first. POST: share all the caller's lesions."""
    if request.method == "POST":
        return _create(request, None)
    return paginated_response(request, selectors.shares_for_user(user=request.user), ShareLinkSerializer)


@extend_schema(methods=["GET"], responses={200: ShareLinkSerializer}, summary="One share link")
@extend_schema(
    methods=["DELETE"],
    responses={204: OpenApiResponse(description="Revoked; the report now answers 410.")},
    summary="Revoke a share link",
)
@api_view(["GET", "DELETE"])
def share_detail(request: Request, share_id: int) -> Response:
    """GET: one of the caller's links. DELETE: revoke it (idempotent)."""
    share = selectors.share_get(user=request.user, share_id=share_id)
    if request.method == "DELETE":
        services.share_link_revoke(share=share, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(ShareLinkSerializer(share).data)


# Included into skinsite.urls.api_urlpatterns.
urlpatterns = [
    path("lesions/<int:lesion_id>/shares/", lesion_shares, name="api-lesion-shares"),
    path("shares/", share_list, name="api-shares"),
    path("shares/<int:share_id>/", share_detail, name="api-share-detail"),
]
