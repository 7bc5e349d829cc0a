"""Every input in the admin's table rows has its own name for a screen reader (the column header names
none): the editable columns of the change list and the tabular inlines of a condition's page."""

import re

import pytest

from accounts.models import User
from conftest import PASSWORD
from education.models import Condition, ExampleImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, verified_login):
    admin = User.objects.create_user(email="ada@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    return verified_login(client, admin)


@pytest.fixture
def melanoma():
    condition, _ = Condition.objects.update_or_create(
        code="mel", defaults={"name": "Melanoma", "summary": "s", "description": "d", "advice": "a", "malignant": True}
    )
    return condition


def _inputs(html: str) -> list[str]:
    return [tag for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html) if 'type="hidden"' not in tag]


def test_the_change_lists_editable_columns_are_named_by_row(admin_client, melanoma):
    html = admin_client.get("/admin/education/condition/").content.decode()
    order = next(tag for tag in _inputs(html) if re.search(r'name="form-\d+-order"', tag) and "Melanoma" in tag)
    assert 'aria-label="Order, Melanoma"' in order
    assert 'aria-label="Published, Melanoma"' in html


def test_a_conditions_inline_rows_are_named(admin_client, melanoma):
    ExampleImage.objects.create(condition=melanoma, image="x.jpg", caption="A melanoma on the back", attribution="a")
    html = admin_client.get(f"/admin/education/condition/{melanoma.pk}/change/").content.decode()
    rows = [tag for tag in _inputs(html) if 'name="images-0-' in tag]
    assert rows and all('aria-label="' in tag for tag in rows), rows
    assert 'aria-label="Caption, A melanoma on the back"' in html
    assert 'aria-label="Delete, A melanoma on the back"' in html
