"""What an operator reads in the admin: plural names, apps named in words, and the site's icon."""

import pytest

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, verified_login):
    return verified_login(client, User.objects.create_superuser(email="ops@example.com", password=PASSWORD))


def test_the_admin_index_names_every_app_and_model_in_words(operator_client):
    page = operator_client.get("/admin/").content.decode()
    assert "Share accesses" in page and "accesss" not in page.lower()
    assert "Two-factor: recovery codes" in page and "Two-factor: authenticator apps" in page
    assert "Otp_" not in page and "OTP_" not in page


def test_admin_pages_carry_the_favicon(operator_client):
    page = operator_client.get("/admin/sharing/shareaccess/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
