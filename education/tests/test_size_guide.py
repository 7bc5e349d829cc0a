"""/learn/size/: how to take a photo with a coin or card beside the mole, with pictures."""

import re
from pathlib import Path

from django.conf import settings

from measurement.scale import COINS

PICTURES = ("size-coin.jpg", "size-card.jpg", "size-coin-on-spot.jpg")


def test_the_page_is_public_with_its_pictures_and_the_coins(client, db):
    response = client.get("/learn/size/")
    assert response.status_code == 200
    html = response.content.decode()
    images = re.findall(r'<img src="([^"]+)"[^>]*\balt="([^"]+)"', html)
    assert [src.rsplit("/", 1)[-1] for src, _ in images] == list(PICTURES)
    assert all(len(alt) > 30 for _, alt in images)  # each says what the picture shows
    for label, mm in COINS.values():
        assert f"<td>{label}</td><td>{mm:.2f} mm</td>" in html
    assert 'href="/accounts/settings/#size-coin"' in html and 'href="/lesions/dermatoscopes/"' in html


def test_the_pictures_are_small_jpegs():
    folder = Path(settings.BASE_DIR) / "static" / "education"
    for name in PICTURES:
        data = (folder / name).read_bytes()
        assert data[:3] == b"\xff\xd8\xff" and len(data) < 100_000, name


def test_the_guide_is_linked_from_the_learn_index_and_the_upload_form(client, client_alice, lesion, db):
    assert 'href="/learn/size/"' in client.get("/learn/").content.decode()
    assert 'href="/learn/size/"' in client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert 'href="/learn/size/"' in client_alice.get("/lesions/capture/").content.decode()
