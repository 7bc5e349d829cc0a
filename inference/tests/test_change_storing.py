"""The worker measures every photo and stores what changed against the previous and the first photo.

In-process (the real model and the real measures, no queue); lesions/tests/test_change_alert_flow.py
runs the same through a real worker.
"""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from conftest import CHANGE_PAIR, grown_and_darkened, lesion_image_paths, upload
from inference.models import Analysis
from inference.services import analysis_run
from lesions import services
from sharing import services as sharing_services

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
ORIGINAL = next(p for p in lesion_image_paths() if p.name == "ISIC_0024314.jpg")


@pytest.fixture
def confirmed_alice(alice):
    type(alice).objects.filter(pk=alice.pk).update(email_confirmed=True)
    alice.refresh_from_db()
    return alice


def _analysed(lesion, data: bytes, taken_at) -> Analysis:
    photo = services.photo_create(lesion=lesion, upload=upload(data), taken_at=taken_at)
    return analysis_run(photo_id=photo.pk)


def test_every_analysis_stores_the_outline_and_measures(photo):
    analysis = analysis_run(photo_id=photo.pk)
    measures = analysis.measures
    assert measures["ok"], measures["reason"]
    assert set(measures["values"]) >= {"asymmetry", "border_irregularity", "colours", "area_pixels"}
    assert 10 <= len(measures["outline"]) <= 120
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in measures["outline"])
    assert analysis.outline_points.count(",") == len(measures["outline"])
    print(f"measuring in the worker: {measures['seconds']:.3f}s")


def test_measuring_that_breaks_says_why_and_the_analysis_still_finishes(lesion, monkeypatch):
    from measurement import segmentation

    def broken(image):
        raise MemoryError

    monkeypatch.setattr(segmentation, "segment_lesion", broken)
    analysis = _analysed(lesion, ORIGINAL.read_bytes(), MARCH)
    assert analysis.status == "done" and analysis.probabilities
    assert analysis.measures["ok"] is False
    assert analysis.measures["reason"] == "error" and "could not be measured" in analysis.measures["reason_text"]
    assert analysis.measure_values is None and analysis.outline_points == ""


def test_a_grown_and_darkened_lesion_is_a_change_and_is_emailed(
    confirmed_alice, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    sharing_services.share_link_create(
        owner=confirmed_alice, lesion=lesion, physician_email="dr@clinic.example", notify_on_new_analysis=True
    )
    original = ORIGINAL.read_bytes()
    first = _analysed(lesion, original, MARCH)
    assert first.change is None
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        later = _analysed(lesion, grown_and_darkened(original), MARCH + timedelta(days=180))

    change = later.change
    assert change["changed"] is True
    (comparison,) = change["comparisons"]  # the previous photo is also the first
    assert comparison["photo_id"] == first.photo_id and comparison["kind"] == "previous"
    assert comparison["alignment"]["ok"] and comparison["relative_area"] > 5
    assert any("larger than in March" in s for s in later.change_sentences), later.change_sentences
    assert later.advice["changed"] is True
    print(f"measure {later.measures['seconds']:.3f}s, compare {change['seconds']:.3f}s")

    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "has changed since an earlier photo" in subjects["alice@example.com"]
    assert "has changed since an earlier photo" in subjects["dr@clinic.example"]
    alert = next(m for m in mail.outbox if m.to == ["alice@example.com"] and "changed" in m.subject)
    assert f"/lesions/{lesion.pk}/" in alert.body
    assert "%" not in alert.body  # emails say that something changed, never the numbers


def test_no_change_alert_email_when_the_address_is_not_confirmed(
    alice, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    alice.email_confirmed = False  # the fixture's address is confirmed
    alice.save(update_fields=["email_confirmed"])
    original = ORIGINAL.read_bytes()
    _analysed(lesion, original, MARCH)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        later = _analysed(lesion, grown_and_darkened(original), MARCH + timedelta(days=180))
    assert later.change["changed"]
    assert not [m for m in mail.outbox if "changed" in m.subject]


def test_two_photos_of_one_unchanged_ham10000_lesion_are_no_change(lesion):
    first = next(p for p in lesion_image_paths() if p.name == "ISIC_0024317.jpg")
    _analysed(lesion, first.read_bytes(), MARCH)
    later = _analysed(lesion, CHANGE_PAIR.read_bytes(), MARCH + timedelta(days=90))
    assert later.change["changed"] is False, later.change
    (comparison,) = later.change["comparisons"]
    assert comparison["alignment"]["ok"] and 0.8 < comparison["relative_area"] < 1.25  # measured, not skipped


def test_the_third_photo_is_compared_with_the_previous_and_the_first(lesion):
    original = ORIGINAL.read_bytes()
    first = _analysed(lesion, original, MARCH)
    second = _analysed(lesion, original, MARCH + timedelta(days=30))
    third = _analysed(lesion, original, MARCH + timedelta(days=60))
    kinds = {c["kind"]: c["photo_id"] for c in third.change["comparisons"]}
    assert kinds == {"previous": second.photo_id, "first": first.photo_id}
    assert third.change["changed"] is False  # the same photo three times
