"""Where the model looked: a Grad-CAM heatmap stored with each analysis, shown only to the owner."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import lesion_image_paths
from inference import heatmap
from inference.services import analysis_run
from lesions import services


def _open(path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


@pytest.fixture(scope="module")
def classifier():
    from inference.engine import get_classifier

    return get_classifier()


def test_the_heatmap_is_a_map_of_the_asked_class_scaled_to_0_1(classifier):
    for path in lesion_image_paths()[:4]:
        image = _open(path)
        predicted = classifier.predict(image).predicted_class
        cam = classifier.heatmap(image, class_name=predicted)
        assert cam.values.ndim == 2 and cam.values.shape[0] == cam.values.shape[1] > 1
        assert cam.values.min() >= 0 and cam.values.max() == pytest.approx(1.0)
        assert classifier.card["classes"][cam.class_index] == predicted


def test_without_a_class_the_heatmap_explains_the_upright_views_top_class(classifier):
    image = _open(lesion_image_paths()[0])
    inputs = classifier.inputs([image])
    if classifier.detects_photo_type:  # the heatmap explains the CNN's logits, before calibration
        upright = classifier.explained_model().predict_on_batch(inputs)
    else:
        if classifier.uses_metadata:
            inputs = [inputs, classifier.metadata([None])]
        upright = classifier.model.predict_on_batch(inputs)
    assert classifier.heatmap(image).class_index == int(np.argmax(upright[0]))


def test_the_heat_is_on_the_lesion_rather_than_the_corners(classifier):
    # HAM10000 frames centre the lesion; averaged over the committed images, the centre is hotter.
    maps = [classifier.heatmap(_open(path)).values for path in lesion_image_paths()]
    mean = np.mean(maps, axis=0)
    n = mean.shape[0]
    centre = mean[n // 3 : n - n // 3, n // 3 : n - n // 3].mean()
    corners = np.mean([mean[0, 0], mean[0, -1], mean[-1, 0], mean[-1, -1]])
    assert centre > 2 * corners


def test_the_overlay_keeps_the_photos_shape_and_is_small():
    image = Image.new("RGB", (1200, 900), (200, 150, 130))
    cam = heatmap.Heatmap(values=np.eye(6, dtype=np.float32), class_index=5)
    overlay = Image.open(io.BytesIO(heatmap.overlay_jpeg(image, cam)))
    assert overlay.format == "JPEG" and overlay.mode == "RGB"
    assert overlay.size == (512, 384)
    pixels = np.asarray(overlay, dtype=np.float64)
    assert pixels[:, :40].mean() < pixels[:, 200:300].mean()  # outside the centre square: dimmed


def test_importing_the_heatmap_module_does_not_load_tensorflow():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'skinsite.settings'); "
        "django.setup(); import inference.heatmap, inference.services; print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


# --- Stored with the analysis, served to the owner only ------------------------------------------


@pytest.fixture
def analysed(photo):
    """Alice's photo, analysed in this process as the worker would."""
    analysis = analysis_run(photo_id=photo.pk)
    assert analysis.status == "done"
    return photo


@pytest.mark.django_db
def test_the_worker_stores_a_heatmap_jpeg_with_the_analysis(analysed):
    analysis = analysed.analyses.get()
    assert analysis.heatmap.name.startswith("heatmaps/")
    with analysis.heatmap.open("rb") as fh:
        stored = Image.open(fh)
        stored.load()
    assert stored.format == "JPEG" and max(stored.size) <= heatmap.OVERLAY_MAX_SIDE
    assert abs(stored.size[0] / stored.size[1] - analysed.width / analysed.height) < 0.02


@pytest.mark.django_db
def test_the_api_gives_the_owner_a_heatmap_url(api_alice, api_bob, analysed):
    body = api_alice.get(f"/api/photos/{analysed.pk}/").json()
    url = body["analysis"]["heatmap_url"]
    assert url == f"http://testserver/api/photos/{analysed.pk}/heatmap/"
    response = api_alice.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"
    # Someone else's heatmap does not exist for them; nobody's exists without credentials.
    assert api_bob.get(url).status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get(url).status_code == 401
    history = api_alice.get(f"/api/lesions/{analysed.lesion_id}/history/").json()["results"]
    assert history[0]["analysis"]["heatmap_url"] == url


@pytest.mark.django_db
def test_no_heatmap_before_the_analysis_is_done(api_alice, photo):
    assert api_alice.get(f"/api/photos/{photo.pk}/").json()["analysis"]["heatmap_url"] is None
    assert api_alice.get(f"/api/photos/{photo.pk}/heatmap/").status_code == 404


@pytest.mark.django_db
def test_the_pages_offer_the_heatmap_to_the_owner_only(client_alice, client, bob, analysed):
    url = f"/lesions/photos/{analysed.pk}/heatmap/"
    for page in (f"/lesions/photos/{analysed.pk}/", f"/lesions/{analysed.lesion_id}/"):
        html = client_alice.get(page).content.decode()
        assert f'src="{url}"' in html, page
        assert "Show where the model looked" in html
    response = client_alice.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    client.logout()
    client.force_login(bob)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_deleting_the_photo_deletes_its_heatmap(analysed, django_capture_on_commit_callbacks):
    field = analysed.analyses.get().heatmap
    storage, name = field.storage, field.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(photo=analysed)
    assert not storage.exists(name)


@pytest.mark.django_db
def test_deleting_the_lesion_deletes_its_heatmaps(analysed, django_capture_on_commit_callbacks):
    field = analysed.analyses.get().heatmap
    storage, name = field.storage, field.name
    with django_capture_on_commit_callbacks(execute=True):
        services.lesion_delete(lesion=analysed.lesion)
    assert not storage.exists(name)
