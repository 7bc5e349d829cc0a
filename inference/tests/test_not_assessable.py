"""A photo that is not a lesion (or too dark, blank, blurry) ends `not_assessable` with the reason."""

import io

import pytest
from django.core import mail

from conftest import jpeg_bytes, upload
from inference import quality
from inference.models import Analysis
from inference.services import analysis_request, analysis_run
from lesions import services

pytestmark = pytest.mark.django_db

TRY_AGAIN = "Try another photo: close-up, in focus, good light."


@pytest.fixture
def eager_tasks():
    """Run the email task in this process so the message lands in mail.outbox."""
    from skinsite.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


def _landscape_jpeg() -> bytes:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    out = io.BytesIO()
    Image.fromarray(load_sample_image("china.jpg")).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def landscape(lesion):
    """Alice uploaded a holiday photo to her lesion by mistake (pending analysis, nothing queued)."""
    return services.photo_create(lesion=lesion, upload=upload(_landscape_jpeg()))


def test_a_landscape_ends_not_assessable_with_a_reason_and_no_probabilities(landscape):
    analysis = analysis_run(photo_id=landscape.pk)
    assert analysis.status == Analysis.Status.NOT_ASSESSABLE
    assert analysis.error in (quality.NOT_SKIN, quality.NOT_LESION)
    assert analysis.probabilities is None
    assert analysis.predicted_class == ""
    assert analysis.malignant_probability is None
    assert all(getattr(analysis, f"p_{code}") is None for code in ("akiec", "mel", "nv"))
    assert analysis.is_finished and analysis.finished_at is not None


def test_a_blank_frame_is_not_assessable_and_stays_so(lesion, django_capture_on_commit_callbacks):
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(size=(640, 480))))
    analysis = analysis_run(photo_id=photo.pk)
    assert (analysis.status, analysis.error) == ("not_assessable", quality.BLANK)
    # Final like done: a redelivered message does nothing, and asking again queues nothing.
    assert analysis_run(photo_id=photo.pk) is None
    with django_capture_on_commit_callbacks() as callbacks:
        assert analysis_request(photo=photo).status == "not_assessable"
    assert callbacks == []


def test_a_real_lesion_is_still_analysed(photo):
    assert analysis_run(photo_id=photo.pk).status == "done"


def test_the_api_says_not_assessable_and_why(api_alice, landscape):
    analysis_run(photo_id=landscape.pk)
    body = api_alice.get(f"/api/photos/{landscape.pk}/").json()["analysis"]
    assert body["status"] == "not_assessable"
    assert body["probabilities"] is None
    assert body["predicted_class"] == ""
    assert body["error"] in (quality.NOT_SKIN, quality.NOT_LESION)
    listed = api_alice.get("/api/photos/", {"status": "not_assessable"}).json()
    assert [p["id"] for p in listed["results"]] == [landscape.pk]


def test_the_timeline_and_the_photo_page_say_what_to_do(client_alice, landscape):
    analysis = analysis_run(photo_id=landscape.pk)
    for url in (f"/lesions/{landscape.lesion_id}/", f"/lesions/photos/{landscape.pk}/"):
        page = client_alice.get(url).content.decode()
        assert f"Not assessable: {analysis.error}." in page, url
        assert TRY_AGAIN in page
        assert "Most likely" not in page
    # Finished: the timeline stops polling for it.
    timeline = client_alice.get(f"/lesions/{landscape.lesion_id}/timeline/").content.decode()
    assert "data-pending" not in timeline


def test_the_patient_is_told_the_photo_could_not_be_analysed(
    landscape, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        analysis_run(photo_id=landscape.pk)
    assert [m.subject for m in mail.outbox] == ['Your photo of "Left shoulder" could not be analysed']
    assert "the lesion's page says why" in mail.outbox[0].body


def test_the_pdf_report_says_not_assessable(client_alice, landscape):
    from pypdf import PdfReader

    analysis = analysis_run(photo_id=landscape.pk)
    response = client_alice.get(f"/lesions/{landscape.lesion_id}/report.pdf")
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Not assessable" in " ".join(text.split())
    assert analysis.error.split()[-1] in text


def _cat_jpeg() -> bytes:
    import skimage.data
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(skimage.data.chelsea()).save(out, format="JPEG", quality=92)
    return out.getvalue()


def test_a_photo_only_the_model_can_tell_from_a_lesion_ends_not_assessable(lesion):
    """A ginger cat passes exposure, focus, colour and contrast; the served model's feature checks
    refuse it after predicting, and nothing of the prediction is stored."""
    from PIL import Image

    with Image.open(io.BytesIO(_cat_jpeg())) as image:
        assert quality.assess(image, distance_check=False).ok
    photo = services.photo_create(lesion=lesion, upload=upload(_cat_jpeg()))
    analysis = analysis_run(photo_id=photo.pk)
    assert (analysis.status, analysis.error) == (Analysis.Status.NOT_ASSESSABLE, quality.NOT_LESION)
    assert analysis.probabilities is None and not analysis.heatmap


def test_plain_skin_beside_a_phone_photographed_mole_ends_not_assessable(lesion):
    """A corner of a validation-part phone photo: skin that passes every pixel check (even the lesion
    contrast); the model's no-lesion check turns it away with the reason that tells what to do."""
    from pathlib import Path

    from PIL import Image

    path = Path(__file__).resolve().parents[2] / "testdata" / "pad_ufes20" / "PAT_55_84_506.jpg"
    with Image.open(path) as photo:
        side = min(photo.size) // 3
        corner = photo.convert("RGB").crop((0, 0, side, side))
    assert quality.assess(corner, distance_check=False).ok
    out = io.BytesIO()
    corner.save(out, format="JPEG", quality=95)
    skin = services.photo_create(lesion=lesion, upload=upload(out.getvalue()))
    analysis = analysis_run(photo_id=skin.pk)
    assert (analysis.status, analysis.error) == (Analysis.Status.NOT_ASSESSABLE, quality.NO_LESION_VISIBLE)
    assert analysis.probabilities is None
