"""Year of birth and sex: optional, validated, editable in settings, kept in the export, used as an age."""

import datetime
import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year
OUT_OF_RANGE = f"Enter a year between 1900 and {THIS_YEAR}."


def _settings(**fields) -> dict:
    return {"display_name": "Alice", "email_on_analysis": "on", "reminders_enabled": "on", **fields}


def test_new_accounts_have_neither(alice):
    assert alice.birth_year is None
    assert alice.sex == ""


@pytest.mark.parametrize(
    ("birth_year", "day", "age"),
    [
        (1980, datetime.date(2026, 6, 1), 46),
        (2026, datetime.date(2026, 12, 31), 0),
        (None, datetime.date(2026, 6, 1), None),
        (2027, datetime.date(2026, 6, 1), None),  # not born yet
        (1900, datetime.date(2026, 6, 1), None),  # 126: a typo, not a patient
        (1906, datetime.date(2026, 6, 1), 120),
    ],
)
def test_age_on_a_day_is_whole_years_from_the_birth_year(birth_year, day, age):
    assert User(email="x@example.com", birth_year=birth_year).age_on(day) == age


@pytest.mark.parametrize("year", [1899, THIS_YEAR + 1, 0])
def test_the_model_refuses_a_year_out_of_range(alice, year):
    alice.birth_year = year
    with pytest.raises(ValidationError) as caught:
        alice.full_clean()
    assert caught.value.message_dict["birth_year"] == [OUT_OF_RANGE]


def test_settings_page_offers_both_with_a_word_on_why(client_alice):
    page = client_alice.get("/accounts/settings/").content.decode()
    assert 'name="birth_year"' in page and 'name="sex"' in page
    assert "The model in use now looks at the photo alone: age and sex do not change its answer." in page
    assert f'min="1900" max="{THIS_YEAR}"' in page


def test_settings_save_year_and_sex(client_alice, alice):
    response = client_alice.post("/accounts/settings/", _settings(birth_year="1980", sex="female"))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.birth_year, alice.sex) == (1980, "female")


def test_settings_clear_them_again(client_alice, alice):
    alice.birth_year, alice.sex = 1980, "male"
    alice.save()
    assert client_alice.post("/accounts/settings/", _settings(birth_year="", sex="")).status_code == 302
    alice.refresh_from_db()
    assert (alice.birth_year, alice.sex) == (None, "")


@pytest.mark.parametrize("year", ["1899", str(THIS_YEAR + 1), "0", "-5", "99999"])
def test_settings_refuse_a_year_out_of_range_and_say_why(client_alice, alice, year):
    response = client_alice.post("/accounts/settings/", _settings(display_name="Changed", birth_year=year))
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()
    alice.refresh_from_db()
    assert (alice.display_name, alice.birth_year) == ("Alice", None)  # nothing saved


def test_settings_refuse_an_unknown_sex(client_alice, alice):
    response = client_alice.post("/accounts/settings/", _settings(sex="other"))
    assert response.status_code == 200
    assert 'id="id_sex-errors"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.sex == ""


def test_the_export_holds_both(api_alice, alice):
    alice.birth_year, alice.sex = 1975, "female"
    alice.save()
    response = api_alice.get("/api/account/export/")
    account = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("account.json"))
    assert (account["birth_year"], account["sex"]) == (1975, "female")


def test_the_export_says_null_when_not_given(api_alice):
    response = api_alice.get("/api/account/export/")
    account = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("account.json"))
    assert (account["birth_year"], account["sex"]) == (None, None)


def test_the_settings_page_says_whether_the_installed_model_uses_age_and_sex(client_alice, settings, tmp_path):
    from pathlib import Path

    # The served card accepts age, sex and site but says its metadata input is used by nothing.
    page = client_alice.get("/accounts/settings/").content.decode()
    assert "age and sex do not change its answer" in page
    assert "help the model" not in page

    card = json.loads((Path(settings.MODEL_DIR) / "model_card.json").read_text(encoding="utf-8"))
    card["metadata_input"].pop("used_by")  # as a card from before multi-source training: used
    (tmp_path / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    settings.MODEL_DIR = tmp_path
    page = client_alice.get("/accounts/settings/").content.decode()
    assert "Age and sex help the model a little" in page
