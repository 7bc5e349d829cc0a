"""Patient education: the seven lesion types the model reports, their example images, links and guides.

Editors keep this content right in Django admin; the public pages under /learn/ and the read-only API
read it straight from the database, so an edit shows at once.
"""

import uuid
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from training.contract import CLASS_LABELS, MALIGNANT_CLASSES

# The group created by migration 0003: view/add/change/delete on these models and nothing else.
CONTENT_EDITOR_GROUP = "Content editor"

PROSE_HELP = (
    "Plain text. Leave a blank line between paragraphs. Start a line with “## ” for a heading and with "
    "“- ” for a bullet point; wrap words in **double asterisks** for bold. HTML is shown as typed, not run."
)


class Condition(models.Model):
    """One of the seven HAM10000 classes, explained for patients."""

    code = models.CharField(
        max_length=10,
        unique=True,
        choices=list(CLASS_LABELS.items()),
        help_text="The class the model reports. It links analysis results to this page.",
    )
    name = models.CharField(max_length=100)
    malignant = models.BooleanField(
        default=False, help_text="Listed with the malignant types (actinic keratosis, BCC and melanoma)."
    )
    summary = models.CharField(max_length=300, help_text="One or two sentences, shown on the overview page.")
    description = models.TextField(help_text=PROSE_HELP)
    advice = models.TextField("what to do and when to see a doctor", help_text=PROSE_HELP)
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers come first within a group.")
    published = models.BooleanField(default=True, help_text="Unpublished pages are only visible to staff.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("education:condition", args=[self.code])

    def clean(self) -> None:
        # The malignant group must agree with how Skinsite counts the model's "malignant probability";
        # a page calling melanoma benign would contradict the analysis shown next to it.
        if self.code and self.malignant != (self.code in MALIGNANT_CLASSES):
            expected = "malignant" if self.code in MALIGNANT_CLASSES else "benign"
            raise ValidationError({"malignant": f"Skinsite counts “{self.code}” as {expected}; keep this in step."})


def _example_image_path(image: "ExampleImage", filename: str) -> str:
    # Random names, so a replaced image gets a new name (and ETag) and never overwrites another one.
    suffix = Path(filename).suffix.lower() or ".jpg"
    return f"education/examples/{uuid.uuid4().hex}{suffix}"


class ExampleImage(models.Model):
    """A picture of a condition, with its source and licence. Public content, unlike patients' photos."""

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=_example_image_path)
    caption = models.CharField(max_length=200)
    attribution = models.CharField(max_length=300, help_text="Source and licence, e.g. the data set, authors, DOI.")
    order = models.PositiveSmallIntegerField(default=0, help_text="The first image is shown on the overview page.")

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.caption

    def get_absolute_url(self) -> str:
        return reverse("education:image", args=[self.pk])


class Guide(models.Model):
    """A general page, such as the ABCDE warning signs or how to photograph a mole."""

    slug = models.SlugField(unique=True, help_text="The page's address: /learn/guides/<slug>/. Others link to it.")
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=300)
    body = models.TextField(help_text=PROSE_HELP)
    order = models.PositiveSmallIntegerField(default=0)
    published = models.BooleanField(default=True, help_text="Unpublished pages are only visible to staff.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("education:guide", args=[self.slug])


class Resource(models.Model):
    """A link to a reputable page (AAD, Skin Cancer Foundation, NHS, DermNet...).

    It belongs to a condition, to a guide, or to neither: a general link shown on the overview page.
    """

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="resources", null=True, blank=True)
    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="resources", null=True, blank=True)
    title = models.CharField(max_length=200)
    url = models.URLField("URL", max_length=500)
    publisher = models.CharField(max_length=100, help_text="E.g. “American Academy of Dermatology”.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(condition__isnull=True) | Q(guide__isnull=True), name="resource_on_one_page_at_most"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publisher}: {self.title}"

    def clean(self) -> None:
        if self.condition_id and self.guide_id:
            raise ValidationError("A link belongs to a condition or a guide, not both.")
