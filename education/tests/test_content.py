"""The content shipped by the data migrations: seven conditions with images and links, and two guides."""

import csv
import importlib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from PIL import Image

from education.models import Condition, ExampleImage, Guide
from training.contract import CLASS_LABELS, CLASSES, MALIGNANT_CLASSES

pytestmark = pytest.mark.django_db

IMAGES_DIR = Path(__file__).resolve().parent.parent / "content" / "images"
# The shared data set sits beside the repository in development and CI; the check is skipped elsewhere.
HAM10000_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "ham10000"
REPUTABLE_HOSTS = {"www.aad.org", "www.skincancer.org", "www.nhs.uk", "dermnetnz.org", "www.aocd.org"}
CITATION = "HAM10000, Tschandl et al. 2018, doi:10.1038/sdata.2018.161, CC BY-NC-SA 4.0"


def test_all_seven_conditions_are_shipped_and_published(shipped):
    conditions = {c.code: c for c in Condition.objects.all()}

    assert sorted(conditions) == sorted(CLASSES)
    for code, condition in conditions.items():
        assert condition.published
        assert condition.malignant is (code in MALIGNANT_CLASSES)
        assert condition.name == CLASS_LABELS[code]
        assert condition.summary and condition.description
        # Every page tells the reader when to see a doctor.
        assert "doctor" in condition.advice


def test_each_condition_has_at_least_two_attributed_ham10000_images(shipped):
    for condition in Condition.objects.all():
        images = list(condition.images.all())
        assert len(images) >= 2, condition.code
        for image in images:
            isic_id = Path(image.image.name).stem
            assert image.attribution == f"{CITATION}, image {isic_id}"
            assert image.caption
            with image.image.open("rb") as stored:
                assert stored.read() == (IMAGES_DIR / f"{isic_id}.jpg").read_bytes()


def test_each_condition_links_to_at_least_two_reputable_pages(shipped):
    for condition in Condition.objects.all():
        urls = [r.url for r in condition.resources.all()]
        assert len(set(urls)) >= 2, condition.code
        for url in urls:
            parsed = urlparse(url)
            assert parsed.scheme == "https" and parsed.netloc in REPUTABLE_HOSTS, url


def test_committed_images_are_unchanged_ham10000_images_of_the_right_class():
    metadata_path = HAM10000_DIR / "metadata.csv"
    if not metadata_path.exists():
        pytest.skip("The HAM10000 data set is not beside the repository.")
    with metadata_path.open() as fh:
        dx = {row["image_id"]: row["dx"] for row in csv.DictReader(fh)}
    migration = importlib.import_module("education.migrations.0002_default_content")

    for data in migration.CONDITIONS:
        for image in data["images"]:
            path = IMAGES_DIR / image["file"]
            assert dx[path.stem] == data["code"], path.name
            assert path.read_bytes() == (HAM10000_DIR / "images" / path.name).read_bytes()
            with Image.open(path) as im:
                assert (im.format, im.size) == ("JPEG", (200, 150))


def test_every_committed_image_is_credited_in_the_attribution_file():
    credits = (IMAGES_DIR / "ATTRIBUTION.md").read_text()

    for path in IMAGES_DIR.glob("*.jpg"):
        assert path.name in credits


def test_the_abcde_and_photo_guides_are_shipped_with_links(shipped):
    abcde = Guide.objects.get(slug="abcde")
    photo = Guide.objects.get(slug="photographing-a-mole")

    for word in ("Asymmetry", "Border", "Colour", "Diameter", "Evolving"):
        assert word in abcde.body
    assert "doctor" in photo.body
    assert abcde.published and photo.published
    assert abcde.resources.count() >= 2 and photo.resources.count() >= 2


def test_loading_the_defaults_again_keeps_editors_changes(shipped):
    migration = importlib.import_module("education.migrations.0002_default_content")
    Condition.objects.filter(code="nv").update(summary="Edited by an editor.")
    images_before = ExampleImage.objects.count()

    migration.load_default_content(django_apps, None)

    assert Condition.objects.get(code="nv").summary == "Edited by an editor."
    assert ExampleImage.objects.count() == images_before
