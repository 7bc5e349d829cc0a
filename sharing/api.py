"""REST API for share links (see the API section of README.md).

    POST   /api/lesions/{id}/shares/  {physician_email, expires_in_days, message, notify_on_new_analysis}
                                      -> 201 {id, url, expires_at}; someone else's lesion -> 404
    POST   /api/shares/               the same for all the patient's lesions
    GET    /api/shares/               the patient's links, with status and access log
    GET    /api/shares/{id}/          one link
    DELETE /api/shares/{id}/          revoke it (204); the report then answers 410

`url` is the only time the link is given out: only a hash of its token is stored.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from lesions import selectors as lesion_selectors
from lesions.models import Lesion
from sharing import selectors, services
from sharing.models import ShareAccess, ShareLink
from skinsite.api import paginated, paginated_response

_EXPIRY_MESSAGE = f"A link can last from {services.MIN_EXPIRY_DAYS} to {services.MAX_EXPIRY_DAYS} days."


class ShareCreateSerializer(serializers.Serializer):
    physician_email = serializers.EmailField(
        error_messages={"invalid": "Enter the physician's email address, like name@clinic.example."}
    )
    expires_in_days = serializers.IntegerField(
        default=services.DEFAULT_EXPIRY_DAYS,
        min_value=services.MIN_EXPIRY_DAYS,
        max_value=services.MAX_EXPIRY_DAYS,
        error_messages={
            "min_value": _EXPIRY_MESSAGE,
            "max_value": _EXPIRY_MESSAGE,
            "invalid": "Enter a whole number of days.",
        },
    )
    message = serializers.CharField(default="", allow_blank=True, max_length=services.MESSAGE_MAX_LENGTH)
    notify_on_new_analysis = serializers.BooleanField(default=False)


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
    try:
        share, token = services.share_link_create(owner=request.user, lesion=lesion, **data.validated_data)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    return Response(
        {
            "id": share.pk,
            "url": selectors.share_link_url(token),
            "expires_at": serializers.DateTimeField().to_representation(share.expires_at),
        },
        status=status.HTTP_201_CREATED,
    )


@api_view(["POST"])
def lesion_shares(request: Request, lesion_id: int) -> Response:
    """Share one of the caller's lesions; another user's lesion is 404."""
    return _create(request, lesion_selectors.lesion_get(user=request.user, lesion_id=lesion_id))


@paginated
@api_view(["GET", "POST"])
def share_list(request: Request) -> Response:
    """GET: the caller's links, newest first. POST: share all the caller's lesions."""
    if request.method == "POST":
        return _create(request, None)
    return paginated_response(request, selectors.shares_for_user(user=request.user), ShareLinkSerializer)


@api_view(["GET", "DELETE"])
def share_detail(request: Request, share_id: int) -> Response:
    """GET: one of the caller's links. DELETE: revoke it (idempotent)."""
    share = selectors.share_get(user=request.user, share_id=share_id)
    if request.method == "DELETE":
        services.share_link_revoke(share=share)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(ShareLinkSerializer(share).data)


# Included into skinsite.urls.api_urlpatterns.
urlpatterns = [
    path("lesions/<int:lesion_id>/shares/", lesion_shares, name="api-lesion-shares"),
    path("shares/", share_list, name="api-shares"),
    path("shares/<int:share_id>/", share_detail, name="api-share-detail"),
]
