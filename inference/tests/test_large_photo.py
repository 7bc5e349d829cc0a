"""A 12-megapixel phone JPEG: the worker decodes it at a reduced scale and still analyses it."""

import io

import pytest
from PIL import Image

from conftest import lesion_image_paths, upload
from inference import services as inference_services
from inference.services import analysis_run
from lesions import services

pytestmark = pytest.mark.django_db

PHONE_SIZE = (4000, 3000)  # 12 MP, what a phone camera stores


def _phone_jpeg() -> bytes:
    # A real lesion image blown up to phone size, so the not-assessable check still sees a lesion.
    image = Image.open(lesion_image_paths()[0]).convert("RGB").resize(PHONE_SIZE, Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def phone_photo(lesion):
    photo = services.photo_create(lesion=lesion, upload=upload(_phone_jpeg()))
    assert (photo.width, photo.height) == PHONE_SIZE  # stored at full size: only the decoding is reduced
    return photo


def test_a_12_mp_jpeg_is_decoded_at_a_reduced_scale(phone_photo):
    image = inference_services._load_photo(phone_photo)
    # The JPEG decoder's 1/2..1/8 scales: 1/8 would be 500x375, above the model's and the checks' 256 px.
    assert image.size[0] <= PHONE_SIZE[0] // 4 and image.size[1] <= PHONE_SIZE[1] // 4
    assert min(image.size) >= 256


def test_a_12_mp_jpeg_is_analysed(phone_photo):
    analysis = analysis_run(photo_id=phone_photo.pk)
    assert analysis is not None
    assert analysis.status == "done", analysis.error
    assert sum(analysis.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert analysis.inputs["photo_type"] in ("dermoscopy", "clinical")
    assert analysis.heatmap  # the overlay is drawn on the reduced decode
