"""The "Take a photo" pages: the camera button on the dashboard and the capture page's lesion list."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_dashboard_has_a_camera_button_that_opens_the_rear_camera(client_alice, lesion):
    html = client_alice.get("/lesions/").content.decode()
    assert 'id="capture-button"' in html and ">Take a photo<" in html
    assert 'id="capture-input" class="visually-hidden" type="file"' in html
    assert 'accept="image/*" capture="environment"' in html
    assert f'<option value="{lesion.pk}">Left shoulder (Back)</option>' in html
    assert "skinsite/capture.js" in html


def test_the_capture_page_preselects_a_lesion(client_alice, lesion):
    html = client_alice.get(f"/lesions/capture/?lesion={lesion.pk}").content.decode()
    assert f'<option value="{lesion.pk}" selected>Left shoulder (Back)</option>' in html


def test_bob_is_offered_only_his_own_lesions(client, bob, lesion):
    client.force_login(bob)
    html = client.get(f"/lesions/capture/?lesion={lesion.pk}").content.decode()
    assert "Left shoulder" not in html
    assert " selected>" not in html.split('id="capture-lesion"')[1].split("</select>")[0]


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/lesions/capture/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
