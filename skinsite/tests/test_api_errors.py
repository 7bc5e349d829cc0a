"""The API's one exception handler: services' errors become the API's error shape, bugs stay bugs."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from skinsite.api import exception_handler


def test_a_services_validation_error_answers_400_with_messages_by_field():
    response = exception_handler(ValidationError({"taken_at": "Not in the future."}), {})
    assert (response.status_code, response.data) == (400, {"taken_at": ["Not in the future."]})


def test_a_message_without_a_field_is_a_non_field_error():
    response = exception_handler(ValidationError("Something as a whole is wrong."), {})
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["Something as a whole is wrong."]})


def test_not_found_is_404():
    assert exception_handler(Http404("No such lesion."), {}).status_code == 404


def test_a_programming_error_is_not_turned_into_a_400():
    # DRF answers None: Django then shows a 500, and the error is logged, not blamed on the client.
    assert exception_handler(ValueError("a bug"), {}) is None
    assert exception_handler(TypeError("a bug"), {}) is None


# --- Bodies Django refuses before DRF sees them ------------------------------------------------


@pytest.mark.django_db
def test_a_json_body_over_the_size_limit_answers_the_apis_error_shape(api_alice, lesion, settings):
    body = json.dumps({"notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = api_alice.generic("PATCH", f"/api/lesions/{lesion.pk}/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is too large."}


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_multipart_body_without_a_usable_boundary_answers_the_apis_error_shape(api_alice, lesion, content_type):
    body = b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nxx\r\n--x--\r\n'
    response = api_alice.generic("POST", f"/api/lesions/{lesion.pk}/photos/", body, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "boundary" in response.json()["detail"]


def test_a_bad_request_elsewhere_is_still_the_page(client):
    response = client.post("/accounts/login/", b"--x--", content_type="multipart/form-data; boundary=")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
