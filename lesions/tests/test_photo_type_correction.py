"""The photo type the patient gives: at upload (web and API), and as a correction that re-runs the analysis."""

import pytest
from django.test import Client

from conftest import finish_analysis, open_report, upload
from inference.models import Analysis
from inference.services import current_model_version
from lesions import services
from lesions.models import Photo

pytestmark = pytest.mark.django_db


def _done_with_type(photo: Photo, photo_type: str, given: bool) -> Analysis:
    analysis = finish_analysis(photo)
    analysis.inputs = {
        "site": "back",
        "age": None,
        "sex": None,
        "photo_type": photo_type,
        "photo_type_detected": "clinical",
        "photo_type_given": given,
    }
    analysis.save()
    return analysis


def test_api_upload_records_the_given_photo_type(api_alice, lesion, real_image_bytes):
    response = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(real_image_bytes), "photo_type": "dermoscopy"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["photo_type"] == "dermoscopy"
    assert Photo.objects.get(pk=response.json()["id"]).photo_type == "dermoscopy"


def test_api_upload_without_photo_type_leaves_it_to_the_model(api_alice, lesion, real_image_bytes):
    response = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/", {"image": upload(real_image_bytes)}, format="multipart"
    )
    assert response.status_code == 202, response.content
    assert response.json()["photo_type"] is None


def test_api_upload_refuses_an_unknown_photo_type(api_alice, lesion, real_image_bytes):
    response = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(real_image_bytes), "photo_type": "xray"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "photo_type" in str(response.json())
    assert not Photo.objects.exists()


def test_web_upload_records_the_given_photo_type(client_alice, lesion, real_image_bytes):
    response = client_alice.post(
        f"/lesions/{lesion.pk}/photos/", {"image": upload(real_image_bytes), "photo_type": "clinical"}
    )
    assert response.status_code == 302
    assert lesion.photos.get().photo_type == "clinical"


def test_patch_photo_type_resets_the_analysis_and_queues_it(api_alice, done_photo, django_capture_on_commit_callbacks):
    photo = done_photo
    _done_with_type(photo, "clinical", given=False)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_alice.patch(f"/api/photos/{photo.pk}/", {"photo_type": "dermoscopy"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["photo_type"] == "dermoscopy"
    assert response.json()["analysis"]["status"] == "pending"
    assert len(callbacks) == 1  # the analysis task, sent after commit
    analysis = Analysis.objects.get(photo=photo, model_version=current_model_version())
    assert analysis.status == "pending"
    assert analysis.probabilities is None and analysis.malignant_probability is None and analysis.inputs is None
    assert Analysis.objects.filter(photo=photo).count() == 1  # one row per photo and model version


def test_patch_photo_type_keeps_analyses_by_older_models(api_alice, done_photo):
    Analysis.objects.filter(photo=done_photo).update(model_version="old-model-v0")
    response = api_alice.patch(f"/api/photos/{done_photo.pk}/", {"photo_type": "clinical"}, format="json")
    assert response.status_code == 200
    versions = dict(done_photo.analyses.values_list("model_version", "status"))
    assert versions == {"old-model-v0": "done", current_model_version(): "pending"}


def test_patch_the_same_photo_type_again_queues_nothing(alice, done_photo, django_capture_on_commit_callbacks):
    services.photo_type_set(photo=done_photo, photo_type="clinical")
    finish_analysis(done_photo)
    with django_capture_on_commit_callbacks() as callbacks:
        services.photo_type_set(photo=done_photo, photo_type="clinical")
    assert callbacks == []
    assert done_photo.analyses.get().status == "done"


@pytest.mark.parametrize("value", ["xray", None])
def test_patch_refuses_an_unknown_or_empty_photo_type(api_alice, done_photo, value):
    response = api_alice.patch(f"/api/photos/{done_photo.pk}/", {"photo_type": value}, format="json")
    assert response.status_code == 400
    assert "photo_type" in str(response.json())
    assert done_photo.analyses.get().status == "done"


def test_bob_cannot_change_alices_photo_type(api_bob, done_photo):
    response = api_bob.patch(f"/api/photos/{done_photo.pk}/", {"photo_type": "clinical"}, format="json")
    assert response.status_code == 404
    done_photo.refresh_from_db()
    assert done_photo.photo_type is None


def test_photo_page_shows_the_type_and_the_correction_re_runs_it(client_alice, done_photo):
    _done_with_type(done_photo, "clinical", given=False)
    page = client_alice.get(f"/lesions/photos/{done_photo.pk}/").content.decode()
    assert "Photo type: phone camera (detected)" in page
    assert f'action="/lesions/photos/{done_photo.pk}/photo-type/"' in page

    response = client_alice.post(f"/lesions/photos/{done_photo.pk}/photo-type/", {"photo_type": "dermoscopy"})
    assert response.status_code == 302
    done_photo.refresh_from_db()
    assert done_photo.photo_type == "dermoscopy"
    assert done_photo.analyses.get().status == "pending"


def test_photo_type_form_refuses_nonsense(client_alice, done_photo):
    response = client_alice.post(f"/lesions/photos/{done_photo.pk}/photo-type/", {"photo_type": "xray"})
    assert response.status_code == 400
    assert done_photo.analyses.get().status == "done"


def test_given_type_reads_you_said_so_on_the_timeline_and_the_patient_said_so_in_the_report(
    client_alice, done_photo, share
):
    _done_with_type(done_photo, "dermoscopy", given=True)
    timeline = client_alice.get(f"/lesions/{done_photo.lesion_id}/").content.decode()
    assert "Photo type: through a dermatoscope (you said so)" in timeline
    physician = Client()
    report = physician.get(open_report(physician, share.token))
    assert report.status_code == 200
    assert "Photo type: through a dermatoscope (the patient said so)" in report.content.decode()


def test_analysis_sentence_is_empty_without_a_recorded_type(done_photo):
    analysis = done_photo.analyses.get()
    assert analysis.photo_type_sentence == ""
    analysis.inputs = {"site": None, "age": None, "sex": None, "photo_type": None}
    assert analysis.photo_type_sentence == ""


def test_pdf_report_says_the_photo_type(done_photo, share):
    import io

    from pypdf import PdfReader

    _done_with_type(done_photo, "clinical", given=False)
    physician = Client()
    response = physician.get(open_report(physician, share.token) + "report.pdf")
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Photo type: phone camera (detected)" in text


def test_a_correction_during_a_running_analysis_is_not_overwritten(
    photo, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """The run that started before the correction must not finish the row with the old type."""
    from inference import engine
    from inference.services import analysis_run

    classifier = engine.get_classifier(settings.MODEL_DIR)
    real_predict = classifier.predict

    def predict_then_correct(image, context):
        result = real_predict(image, context)
        services.photo_type_set(photo=Photo.objects.get(pk=photo.pk), photo_type="clinical")
        return result

    monkeypatch.setattr(classifier, "predict", predict_then_correct)
    with django_capture_on_commit_callbacks() as callbacks:
        assert analysis_run(photo_id=photo.pk) is None
    analysis = photo.analyses.get()
    assert analysis.status == "pending" and analysis.probabilities is None  # left for the queued re-run
    assert len(callbacks) == 1
    monkeypatch.setattr(classifier, "predict", real_predict)
    rerun = analysis_run(photo_id=photo.pk)
    assert rerun.status == "done"
    assert rerun.inputs["photo_type"] == "clinical" and rerun.inputs["photo_type_given"] is True
