"""The API's one exception handler: services' errors become the API's error shape, bugs stay bugs."""

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
