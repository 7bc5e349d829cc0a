"""Photos on S3, for real: a moto S3 server in its own process, reached over HTTP with boto3.

Through the public URLs a patient uses: upload, fetch (streamed, or a redirect to a short-lived
signed URL), delete. The bucket must never hand an object to an unsigned request.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import PASSWORD, lesion_image_paths, upload

BASE_DIR = Path(__file__).resolve().parents[2]
BUCKET = "skinsite-test-photos"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing-secret"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's standalone S3 server on a free loopback port, for this module."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto S3 server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", config=Config(signature_version="s3v4"), **CREDENTIALS
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def _storage_from_settings(**env: str) -> dict:
    """STORAGES["default"] as skinsite/settings.py builds it from these environment variables."""
    probe = (
        "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'skinsite.settings'; django.setup()\n"
        "from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=clean | env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def s3_settings(s3_endpoint) -> dict:
    storage = _storage_from_settings(
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME="us-east-1",
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    return storage


@pytest.fixture
def s3_storage(settings, s3, s3_settings):
    """The storage exactly as the app's settings configure it for S3, pointed at the moto server."""
    settings.STORAGES = {**settings.STORAGES, "default": s3_settings}
    yield s3
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=obj["Key"])


def _keys(s3) -> set[str]:
    return {obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


@pytest.fixture
def uploaded(client_alice, lesion, s3_storage):
    """A real photo uploaded through the lesion page, now in the bucket."""
    image = lesion_image_paths()[0].read_bytes()
    response = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(image)})
    assert response.status_code == 302, response.content
    return lesion.photos.get()


def test_an_uploaded_photo_and_its_thumbnail_are_private_objects(uploaded, s3_storage, s3_endpoint):
    assert _keys(s3_storage) == {uploaded.image.name, uploaded.thumbnail.name}
    for key in (uploaded.image.name, uploaded.thumbnail.name):
        grants = s3_storage.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
        assert [g["Grantee"].get("URI") for g in grants if g["Grantee"]["Type"] == "Group"] == []
        assert all(g["Permission"] == "FULL_CONTROL" and g["Grantee"]["Type"] == "CanonicalUser" for g in grants)
        # Nobody gets the object without a signature.
        assert requests.get(f"{s3_endpoint}/{BUCKET}/{key}", timeout=10).status_code == 403


def test_the_photo_is_streamed_through_the_ownership_check(client_alice, uploaded, s3_storage):
    response = client_alice.get(f"/lesions/photos/{uploaded.pk}/image/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == s3_storage.get_object(Bucket=BUCKET, Key=uploaded.image.name)["Body"].read()
    assert body[:2] == b"\xff\xd8"  # a JPEG


def test_the_photo_redirects_to_a_short_lived_signed_url(client_alice, uploaded, s3_storage, s3_endpoint, settings):
    settings.PHOTO_SIGNED_URL_REDIRECT = True
    for path, field in (("image", uploaded.image), ("thumbnail", uploaded.thumbnail)):
        response = client_alice.get(f"/lesions/photos/{uploaded.pk}/{path}/")
        assert response.status_code == 302
        assert "private" in response["Cache-Control"]
        url = response["Location"]
        assert url.startswith(f"{s3_endpoint}/{BUCKET}/{field.name}?")
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"]
        fetched = requests.get(url, timeout=10)
        assert fetched.status_code == 200
        assert fetched.content == s3_storage.get_object(Bucket=BUCKET, Key=field.name)["Body"].read()
        # (moto checks ACLs, not signatures, so a tampered signature cannot be tested here.)


def test_another_user_gets_404_and_no_signed_url(client, bob, uploaded, settings):
    settings.PHOTO_SIGNED_URL_REDIRECT = True
    client.force_login(bob)
    response = client.get(f"/lesions/photos/{uploaded.pk}/image/")
    assert response.status_code == 404
    assert "Location" not in response


def test_deleting_the_photo_deletes_its_objects(client_alice, uploaded, s3_storage, django_capture_on_commit_callbacks):
    assert len(_keys(s3_storage)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client_alice.post(f"/lesions/photos/{uploaded.pk}/delete/")
    assert response.status_code == 302
    assert _keys(s3_storage) == set()


def test_deleting_the_account_over_the_api_deletes_every_object(
    api_alice, lesion, s3_storage, django_capture_on_commit_callbacks
):
    for path in lesion_image_paths()[:2]:
        response = api_alice.post(f"/api/lesions/{lesion.pk}/photos/", {"image": upload(path.read_bytes())})
        assert response.status_code == 202, response.content
    assert len(_keys(s3_storage)) == 4
    with django_capture_on_commit_callbacks(execute=True):
        response = api_alice.delete("/api/account/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    assert _keys(s3_storage) == set()
