"""The patient's coin, chosen once on the settings page (accounts.services.user_coin_set)."""

import pytest
from django.core.exceptions import ValidationError

from accounts.services import user_coin_set

pytestmark = pytest.mark.django_db


def test_the_settings_page_saves_a_coin_from_the_table(client_alice, alice):
    response = client_alice.post("/accounts/settings/coin/", {"coin": "eur_1", "coin_other_mm": ""})
    assert response.status_code == 302 and response["Location"] == "/accounts/settings/"
    alice.refresh_from_db()
    assert alice.coin == "eur_1" and alice.coin_diameter_mm == 23.25
    page = client_alice.get("/accounts/settings/")
    assert page.context["coin_form"].initial["coin"] == "eur_1"


def test_another_coin_needs_its_size_and_says_so(client_alice, alice):
    response = client_alice.post("/accounts/settings/coin/", {"coin": "other", "coin_other_mm": ""}, follow=True)
    assert "Give the size of your coin in mm" in response.content.decode()
    alice.refresh_from_db()
    assert alice.coin == "" and alice.coin_diameter_mm is None
    client_alice.post("/accounts/settings/coin/", {"coin": "other", "coin_other_mm": "21.5"})
    alice.refresh_from_db()
    assert alice.coin == "other" and alice.coin_diameter_mm == 21.5


def test_no_coin_clears_it(alice):
    user_coin_set(user=alice, coin="other", coin_other_mm=30)
    user_coin_set(user=alice, coin="")
    alice.refresh_from_db()
    assert alice.coin == "" and alice.coin_other_mm is None and alice.coin_diameter_mm is None


@pytest.mark.parametrize(("coin", "mm", "field"), [("pieces_of_eight", None, "coin"), ("other", 5.0, "coin_other_mm")])
def test_an_unknown_coin_or_impossible_size_is_refused(alice, coin, mm, field):
    with pytest.raises(ValidationError) as refused:
        user_coin_set(user=alice, coin=coin, coin_other_mm=mm)
    assert field in refused.value.message_dict


def test_the_coin_form_is_only_posted_by_the_logged_in_patient(client):
    response = client.post("/accounts/settings/coin/", {"coin": "eur_1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
