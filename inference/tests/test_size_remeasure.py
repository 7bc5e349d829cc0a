"""Measuring a photo's size again (inference.tasks.remeasure_size), the task's body run in this process: the
"measuring again" marker the web process sets and the task clears, a photo whose file cannot be read (its
size stands, the marker is cleared with the reason), a scale changed while the task ran, and the sweep that
queues lost ones again. The queue itself is tested through a real worker (lesions/tests/test_size_remeasure_worker.py).
"""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from conftest import finish_analysis
from inference import measuring, services
from inference.models import Analysis
from lesions.services import photo_scale_set
from training.contract import open_image

pytestmark = pytest.mark.django_db


def _points(photo, pixels: float) -> list[list[float]]:
    return [[0.05, 0.05], [0.05 + pixels / photo.width, 0.05]]


def _with_size(photo, user, measured_again) -> Analysis:
    """The photo analysed, and sized by two points marked 100 px = 10 mm apart, by the task."""
    analysis = finish_analysis(photo)
    with photo.image.open("rb") as fh:
        analysis.measures = measuring.photo_measures(open_image(fh))
    analysis.save(update_fields=["measures"])
    with measured_again():
        photo_scale_set(photo=photo, user=user, points=_points(photo, 100), distance_mm=10.0)
    analysis.refresh_from_db()
    assert analysis.measures["size"]["ok"] and not analysis.size_measuring
    return analysis


def test_the_size_says_measuring_until_the_task_has_run(alice, photo, measured_again):
    analysis = _with_size(photo, alice, measured_again)
    before = analysis.measures["size"]

    with measured_again():
        photo_scale_set(photo=photo, user=alice, points=_points(photo, 100), distance_mm=20.0)
        analysis.refresh_from_db()
        assert analysis.size_measuring and analysis.measures["size"] == before  # committed, not yet measured
    analysis.refresh_from_db()
    assert not analysis.size_measuring and analysis.size_error == ""
    assert analysis.measures["size"]["long_mm"] == pytest.approx(2 * before["long_mm"], rel=1e-3)


@pytest.mark.parametrize("damage", ["missing", "not a photo"])
def test_a_photo_whose_file_cannot_be_read_keeps_its_size_and_says_why(
    damage, alice, photo, measured_again, client_alice, api_alice
):
    analysis = _with_size(photo, alice, measured_again)
    before = (analysis.measures, analysis.change, analysis.advice)
    storage, name = photo.image.storage, photo.image.name
    storage.delete(name)
    if damage == "not a photo":
        assert storage.save(name, ContentFile(b"this is not a jpeg")) == name

    with measured_again():
        photo_scale_set(photo=photo, user=alice, points=_points(photo, 100), distance_mm=20.0)

    analysis.refresh_from_db()
    assert (analysis.measures, analysis.change, analysis.advice) == before  # nothing broken, nothing half-written
    assert not analysis.size_measuring
    assert analysis.size_error == (
        "The size could not be measured again: the stored photo could not be read. The size shown is from before."
    )
    page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    assert f"Size: {before[0]['size']['long_mm']:.1f} mm across" in page
    assert analysis.size_error in page and "Measuring the size again" not in page
    assert f'data-awaiting-photo="{photo.pk}"' not in page  # nothing more to wait for
    body = api_alice.get(f"/api/photos/{photo.pk}/").json()
    assert body["size_measuring"] is False and body["analysis"]["size_error"] == analysis.size_error
    assert body["size"]["long_mm"] == before[0]["size"]["long_mm"]


def test_a_scale_changed_while_the_task_ran_stays_measuring_for_its_own_run(alice, photo, measured_again, monkeypatch):
    analysis = _with_size(photo, alice, measured_again)
    services.size_remeasure_request(photo=photo)  # queued; its task runs below
    refresh = services.analyses_size_refresh

    def patient_marks_again_meanwhile(*, photo):
        rewritten = refresh(photo=photo)
        services.size_remeasure_request(photo=photo)
        return rewritten

    monkeypatch.setattr(services, "analyses_size_refresh", patient_marks_again_meanwhile)
    assert services.size_remeasure_run(photo_id=photo.pk) == 1
    analysis.refresh_from_db()
    assert analysis.size_measuring  # the later change is not measured yet: its own task clears it

    monkeypatch.setattr(services, "analyses_size_refresh", refresh)
    services.size_remeasure_run(photo_id=photo.pk)
    analysis.refresh_from_db()
    assert not analysis.size_measuring


def test_a_photo_deleted_before_its_task_ran_is_nothing_to_do(alice, photo, measured_again):
    _with_size(photo, alice, measured_again)
    photo_id = photo.pk
    photo.delete()
    assert services.size_remeasure_run(photo_id=photo_id) is None


def test_an_unexpected_error_ends_measuring_with_a_reason(alice, photo, measured_again, monkeypatch):
    analysis = _with_size(photo, alice, measured_again)
    services.size_remeasure_request(photo=photo)

    def broken(*, photo):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "analyses_size_refresh", broken)
    services.size_remeasure_run(photo_id=photo.pk)
    analysis.refresh_from_db()
    assert not analysis.size_measuring and "something went wrong" in analysis.size_error


def test_the_sweep_queues_again_only_sizes_measuring_too_long(
    alice, lesion, done_photo, django_capture_on_commit_callbacks
):
    from conftest import jpeg_bytes, upload
    from lesions.services import photo_create

    fresh = photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    finish_analysis(fresh)
    long_ago = timezone.now() - timedelta(hours=1)
    Analysis.objects.filter(photo=done_photo).update(size_queued_at=long_ago)
    Analysis.objects.filter(photo=fresh).update(size_queued_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.size_remeasure_sweep() == 1
    assert len(callbacks) == 1
    assert Analysis.objects.get(photo=done_photo).size_queued_at > long_ago


def test_an_analysis_run_again_measures_the_size_itself(alice, photo, measured_again):
    analysis = _with_size(photo, alice, measured_again)
    services.size_remeasure_request(photo=photo)
    services.analysis_rerun(photo=photo)  # e.g. the photo type corrected: it measures with the hints it finds
    analysis.refresh_from_db()
    assert analysis.status == "pending" and not analysis.size_measuring and analysis.size_error == ""


def test_the_sweep_gives_up_a_size_that_vanished_too_often(alice, done_photo, django_capture_on_commit_callbacks):
    # A photo that kills the worker each time would otherwise be queued again every few minutes for ever.
    long_ago = timezone.now() - timedelta(hours=1)
    Analysis.objects.filter(photo=done_photo).update(size_queued_at=long_ago)
    for requeue in range(services.SIZE_MAX_REQUEUES):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert services.size_remeasure_sweep() == 1
        assert len(callbacks) == 1
        assert Analysis.objects.get(photo=done_photo).size_requeues == requeue + 1
        Analysis.objects.filter(photo=done_photo).update(size_queued_at=long_ago)  # vanished again
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.size_remeasure_sweep() == 0
    assert callbacks == []
    analysis = Analysis.objects.get(photo=done_photo)
    assert not analysis.size_measuring and "something went wrong" in analysis.size_error
