"""Bad uploads get a clear message and leave no row and no file behind; good ones lose EXIF."""

import io
import struct
import zlib

import pytest
from PIL import Image

from conftest import jpeg_bytes, upload
from inference.models import Analysis
from lesions.models import Photo

pytestmark = pytest.mark.django_db


def _stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _post(api, lesion, data: bytes, name="mole.jpg", content_type="image/jpeg"):
    return api.post(
        f"/api/lesions/{lesion.pk}/photos/", {"image": upload(data, name, content_type)}, format="multipart"
    )


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be huge: the IDAT is a few KB of zeros for a 1-bit image."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not a photo", "not an image"),
        (jpeg_bytes()[:300], "damaged or incomplete"),
        (_gif(), "GIF"),
        (jpeg_bytes(size=(10, 10)), "too small"),
    ],
    ids=["empty", "not-an-image", "truncated", "wrong-type", "tiny"],
)
def test_bad_upload_is_refused_with_a_message_and_leaves_nothing(api_alice, lesion, settings, data, message):
    response = _post(api_alice, lesion, data)
    assert response.status_code == 400
    assert message in str(response.json()["image"]).lower() or message in str(response.json()["image"])
    assert Photo.objects.count() == 0
    assert Analysis.objects.count() == 0
    assert _stored_files(settings) == []


def test_too_large_upload_is_refused(api_alice, lesion, settings):
    settings.MAX_UPLOAD_MB = 1
    big = io.BytesIO()
    # Noise does not compress, so this JPEG is well over 1 MB.
    Image.effect_noise((1400, 1400), 120).convert("RGB").save(big, format="JPEG", quality=100)
    assert big.tell() > 1024 * 1024
    response = _post(api_alice, lesion, big.getvalue())
    assert response.status_code == 400
    assert "too large" in str(response.json()["image"])
    assert Photo.objects.count() == 0
    assert _stored_files(settings) == []


def test_decompression_bomb_is_refused_before_decoding(api_alice, lesion, settings):
    bomb = _png_bomb(12_000, 12_000)  # 144 megapixels in a few KB
    assert len(bomb) < 200_000
    response = _post(api_alice, lesion, bomb, name="bomb.png", content_type="image/png")
    assert response.status_code == 400
    assert "too many pixels" in str(response.json()["image"])
    assert Photo.objects.count() == 0
    assert _stored_files(settings) == []


def test_gps_exif_is_stripped_and_orientation_applied(api_alice, lesion):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 12.0, 30.0)  # GPSLatitudeRef, GPSLatitude
    exif[0x8825] = gps
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 150, 120)).save(png, format="PNG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(png.getvalue())).getexif().get_ifd(0x8825)  # the upload has GPS

    response = _post(api_alice, lesion, png.getvalue(), name="phone.png", content_type="image/png")
    assert response.status_code == 202, response.content
    photo = Photo.objects.get()
    with photo.image.open("rb") as fh:
        stored = Image.open(fh)
        stored.load()
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert b"Exif" not in photo.image.open("rb").read()[:4096]
    assert stored.size == (200, 300)  # rotated upright
    assert (photo.width, photo.height) == (200, 300)


def test_exif_capture_date_becomes_taken_at(api_alice, lesion):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:05:17 14:30:00"  # DateTimeOriginal
    response = _post(api_alice, lesion, jpeg_bytes(exif=exif.tobytes()))
    assert response.status_code == 202, response.content
    assert response.json()["taken_at"].startswith("2024-05-17T14:30:00")


def test_heic_from_an_iphone_is_accepted_and_stored_as_jpeg(api_alice, lesion):
    heic = io.BytesIO()
    Image.new("RGB", (320, 240), (170, 110, 90)).save(heic, format="HEIF", quality=80)
    response = _post(api_alice, lesion, heic.getvalue(), name="IMG_0001.HEIC", content_type="image/heic")
    assert response.status_code == 202, response.content
    photo = Photo.objects.get()
    with photo.image.open("rb") as fh:
        assert Image.open(fh).format == "JPEG"
    assert (photo.width, photo.height) == (320, 240)


def test_explicit_taken_at_wins_and_future_dates_are_refused(api_alice, lesion):
    ok = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(jpeg_bytes()), "taken_at": "2023-01-02T03:04:05Z"},
        format="multipart",
    )
    assert ok.status_code == 202
    assert ok.json()["taken_at"].startswith("2023-01-02T03:04:05")
    future = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(jpeg_bytes()), "taken_at": "2999-01-01T00:00:00Z"},
        format="multipart",
    )
    assert future.status_code == 400
    assert future.json() == {"taken_at": ["The date a photo was taken cannot be in the future."]}
    assert Photo.objects.count() == 1


def test_web_form_shows_the_error_next_to_the_field(client_alice, lesion):
    response = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(b"not an image")})
    assert response.status_code == 400
    assert b"not an image we can read" in response.content
    assert b'id="image-errors"' in response.content
    assert Photo.objects.count() == 0
