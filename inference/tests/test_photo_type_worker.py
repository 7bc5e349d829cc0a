"""Through a real worker: the photo type is recorded, and a correction leads to a new finished analysis."""

import pytest

from conftest import lesion_image_paths, upload
from inference.models import Analysis
from inference.services import current_model_version
from inference.tests.worker import wait_for
from lesions.models import Photo

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_finished(photo_id: int, *, after=None) -> Analysis:
    def finished():
        analysis = Analysis.objects.get(photo_id=photo_id, model_version=current_model_version())
        if analysis.is_finished and (after is None or analysis.finished_at > after):
            return analysis
        return None

    return wait_for(finished, timeout=120, interval=0.2, what=f"the analysis of photo {photo_id}")


def test_detected_type_is_recorded_and_a_correction_re_runs_the_analysis(api_alice, shared_media, celery_worker):
    lesion_id = api_alice.post("/api/lesions/", {"name": "Back mole", "body_site": "back"}, format="json").json()["id"]
    image = lesion_image_paths()[0].read_bytes()
    response = api_alice.post(f"/api/lesions/{lesion_id}/photos/", {"image": upload(image)}, format="multipart")
    assert response.status_code == 202, response.content
    photo_id = response.json()["id"]

    first = _wait_finished(photo_id)
    assert first.status == "done", first.error
    detected = first.inputs["photo_type_detected"]
    assert detected in ("dermoscopy", "clinical")
    assert first.inputs["photo_type"] == detected
    assert first.inputs["photo_type_given"] is False
    assert Photo.objects.get(pk=photo_id).photo_type is None

    # The patient says the other type: the same row goes back to pending and the worker runs it again.
    other = "clinical" if detected == "dermoscopy" else "dermoscopy"
    response = api_alice.patch(f"/api/photos/{photo_id}/", {"photo_type": other}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["analysis"]["status"] in ("pending", "running", "done")

    second = _wait_finished(photo_id, after=first.finished_at)
    assert second.status == "done", second.error
    assert second.pk == first.pk  # one row per photo and model version
    assert second.inputs["photo_type"] == other
    assert second.inputs["photo_type_given"] is True
    assert second.inputs["photo_type_detected"] == detected  # what the model saw is still recorded
    assert second.malignant_probability is not None

    body = api_alice.get(f"/api/photos/{photo_id}/").json()
    assert body["photo_type"] == other
    assert body["analysis"]["inputs"]["photo_type"] == other
    assert body["analysis"]["inputs"]["photo_type_given"] is True
