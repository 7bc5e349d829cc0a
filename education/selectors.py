"""Reads on the education content.

The public sees published pages only. Staff who may view a model in the admin can also preview its
unpublished pages (`preview=True`), so an editor can check a page before switching it on. Nothing is
cached: an edit in the admin shows on the next request.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from education.models import Condition, ExampleImage, Guide, Resource


def can_preview(user, model: type[Condition] | type[Guide] | type[ExampleImage]) -> bool:
    """Whether this user may see unpublished content of this kind (staff with the admin view permission)."""
    opts = model._meta
    return bool(user.is_active and user.is_staff and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"))


def _with_images_and_links(queryset: QuerySet[Condition]) -> QuerySet[Condition]:
    return queryset.prefetch_related(
        Prefetch("images", queryset=ExampleImage.objects.order_by("order", "id")),
        Prefetch("resources", queryset=Resource.objects.order_by("order", "id")),
    )


def conditions_published() -> QuerySet[Condition]:
    """Published conditions in display order, with their images and links fetched in one go each."""
    return _with_images_and_links(Condition.objects.filter(published=True))


@dataclass(frozen=True)
class ConditionGroup:
    title: str
    malignant: bool
    conditions: list[Condition]


def conditions_by_group() -> list[ConditionGroup]:
    """The published conditions split into the benign and the malignant types, benign first."""
    conditions = list(conditions_published())
    return [
        ConditionGroup("Benign types", False, [c for c in conditions if not c.malignant]),
        ConditionGroup("Malignant types", True, [c for c in conditions if c.malignant]),
    ]


def condition_get(*, code: str, preview: bool = False) -> Condition:
    """One condition by its class code; 404 if it is unknown, or unpublished and not previewed."""
    queryset = Condition.objects.all() if preview else Condition.objects.filter(published=True)
    return get_object_or_404(_with_images_and_links(queryset), code=code)


def guides_published() -> QuerySet[Guide]:
    return Guide.objects.filter(published=True)


def guide_get(*, slug: str, preview: bool = False) -> Guide:
    """One guide by slug; 404 if it is unknown, or unpublished and not previewed."""
    queryset = Guide.objects.all() if preview else guides_published()
    return get_object_or_404(
        queryset.prefetch_related(Prefetch("resources", queryset=Resource.objects.order_by("order", "id"))),
        slug=slug,
    )


def general_resources() -> QuerySet[Resource]:
    """Links that belong to no condition and no guide, shown on the overview page."""
    return Resource.objects.filter(condition__isnull=True, guide__isnull=True).order_by("order", "id")


def example_image_get(*, image_id: int, preview: bool = False) -> ExampleImage:
    """An example image whose condition the caller may see; 404 otherwise."""
    queryset = ExampleImage.objects.select_related("condition")
    if not preview:
        queryset = queryset.filter(condition__published=True)
    return get_object_or_404(queryset, pk=image_id)
