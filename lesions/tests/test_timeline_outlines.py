"""The timeline's "Show outlines" switch: each analysed photo's stored outline over its card."""

import re

import pytest
from PIL import Image

from conftest import finish_analysis, lesion_image_paths, upload
from inference import measuring
from lesions import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured_photo(lesion):
    """A photo analysed with its outline and measures stored, as the worker stores them."""
    path = next(p for p in lesion_image_paths() if p.name == "ISIC_0024314.jpg")
    photo = services.photo_create(lesion=lesion, upload=upload(path.read_bytes()))
    analysis = finish_analysis(photo)
    with Image.open(path) as image:
        analysis.measures = measuring.photo_measures(image.convert("RGB"))
    analysis.save()
    assert analysis.outline_points
    return photo


def _cards(page: str) -> dict[int, str]:
    """Each photo card's HTML by photo id."""
    return {int(pk): html for pk, html in re.findall(r'<article id="photo-(\d+)">(.*?)</article>', page, re.S)}


def test_outlines_are_drawn_for_analysed_photos_only(client_alice, lesion, measured_photo, photo, monkeypatch):
    # `photo` is pending: no measures. Nothing is measured to draw the page; the stored outline is used.
    def refuse(*args, **kwargs):
        raise AssertionError("the page measured a photo")

    monkeypatch.setattr(measuring, "photo_measures", refuse)
    monkeypatch.setattr(measuring.segmentation, "segment_lesion", refuse)
    finish_analysis(photo)  # done, but analysed before measuring existed: no outline stored

    for url in (f"/lesions/{lesion.pk}/", f"/lesions/{lesion.pk}/timeline/"):
        page = client_alice.get(url).content.decode()
        cards = _cards(page)
        points = measured_photo.analyses.get().outline_points
        assert f'<polygon points="{points}"' in cards[measured_photo.pk]
        assert 'viewBox="0 0 200 150" preserveAspectRatio="xMidYMid slice"' in cards[measured_photo.pk]
        assert "timeline-outline" not in cards[photo.pk]
        # One switch for the whole timeline, offered only once timeline.js runs.
        assert page.count("data-timeline-outlines ") == 1
        assert "<p data-timeline-outlines-switch hidden>" in page
        assert '<button type="button" class="secondary timeline-outlines-toggle"' in page


def test_no_switch_when_no_photo_has_an_outline(client_alice, lesion, done_photo):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "data-timeline-outlines" not in page and "timeline-outline" not in page
