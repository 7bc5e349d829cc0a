"""Two photos of a lesion compared, as the API answers (GET /api/lesions/{id}/compare/).

The answer's shape is the compare pages' too (lesions.compare_presenter); here are its schema and
the API's picture URLs, which want the owner's credentials.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from lesions.api.analyses import JSONObjectField, SizeSerializer
from lesions.compare_presenter import ComparisonLinks, pair_query
from skinsite.lib.urls import absolute_url


class ComparedPhotoSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    taken_at = serializers.DateTimeField()
    image_url = serializers.URLField(help_text="The photo's JPEG, as taken (for the owner's credentials only).")
    heatmap_url = serializers.URLField(allow_null=True, help_text="Its heatmap JPEG; null when there is none.")
    measures = JSONObjectField(allow_null=True, help_text="As `analysis.measures`.")
    size = SizeSerializer(allow_null=True, help_text="As `analysis.size`: the lesion in mm on this photo.")
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
    growth_mm = serializers.FloatField(
        allow_null=True,
        help_text="The long diameter's growth in mm, later minus earlier, when both photos have a size; else null.",
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


def api_links(request: Request) -> ComparisonLinks:
    """The API's picture URLs: absolute, for a client holding the owner's token."""

    def url(name: str, *args: int, query: str = "") -> str:
        return absolute_url(reverse(name, args=args), request) + query

    return ComparisonLinks(
        photo=lambda photo: url("api-photo-image", photo.pk),
        heatmap=lambda photo: url("api-photo-heatmap", photo.pk),
        aligned=lambda pair, layer: url("api-lesion-compare-image", pair.lesion.pk, query=pair_query(pair, layer)),
    )


PAIR_PARAMETERS = [
    OpenApiParameter("a", int, required=True, description="One photo of the lesion (its id)."),
    OpenApiParameter("b", int, required=True, description="Another photo of the lesion; their order does not matter."),
]
