"""The public "How the analysis works" page at /learn/model/, rendered from the installed model card."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from training.contract import CLASS_LABELS, CLASSES

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
COMMITTED_MODEL_DIR = BASE_DIR / "inference" / "model"
URL = "/learn/model/"

# What the card must hold for the engine to serve the model; everything else is optional.
MINIMAL_CARD = {
    "version": "minimal-test-card",
    "classes": list(CLASSES),
    "malignant_classes": ["akiec", "bcc", "mel"],
    "input_size": 192,
}


def percent(value: float) -> str:
    """As the template's `percent` filter shows a fraction."""
    return f"{value * 100:.1f}%"


@pytest.fixture
def committed_model(settings) -> dict:
    """The model committed in the repository, installed; returns its card."""
    settings.MODEL_DIR = COMMITTED_MODEL_DIR
    return json.loads((COMMITTED_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))


def install_card(settings, folder: Path, card: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    settings.MODEL_DIR = folder


def test_url_is_learn_model():
    assert reverse("education:model") == URL


def test_anonymous_visitor_sees_the_installed_model_and_its_test_figures(client, committed_model):
    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert committed_model["version"] in html
    test = committed_model["metrics"]["test"]
    assert f'<th scope="row">Balanced accuracy</th><td>{percent(test["balanced_accuracy"])}</td>' in html
    assert percent(test["malignant_sensitivity_at_90_specificity"]) in html
    assert "<strong>Balanced accuracy</strong> is" in html
    assert "<strong>Sensitivity</strong> is" in html
    assert "HAM10000" in html and "10.1038/sdata.2018.161" in html and "CC BY-NC-SA 4.0" in html


def test_per_class_recall_is_shown_with_the_class_names(client, committed_model):
    html = client.get(URL).content.decode()

    table = html.split('id="per-class-recall"')[1].split("</table>")[0]
    for code, recall in committed_model["metrics"]["test"]["per_class_recall"].items():
        row = table.split(f'href="{reverse("education:condition", args=[code])}"')[1].split("</tr>")[0]
        assert CLASS_LABELS[code] in row
        assert percent(recall) in row


def test_links_to_all_seven_condition_pages(client, committed_model, shipped):
    html = client.get(URL).content.decode()

    for code in CLASSES:
        url = reverse("education:condition", args=[code])
        assert f'href="{url}"' in html
        assert client.get(url).status_code == 200


def test_shows_the_not_a_diagnosis_notice_and_the_limits(client, committed_model):
    html = client.get(URL).content.decode()

    main = html.split("<main")[1].split("</main>")[0]  # not just the footer's copy
    assert "Not a diagnosis." in main
    assert "see a doctor" in main
    # The committed card is multi-source: the single-source limits would be untrue of it.
    assert "does better on some sources than on others" in main
    assert "not phone photos" not in main and "never seen other clinics" not in main and "over-warns" not in main
    assert '"not assessable"' in main


def test_a_single_source_card_keeps_its_limits(client, settings, tmp_path):
    install_card(settings, tmp_path, MINIMAL_CARD)
    main = client.get(URL).content.decode().split("<main")[1].split("</main>")[0]
    assert "not phone photos" in main
    assert "never seen other clinics" in main
    assert "over-warns" in main
    assert "does better on some sources" not in main


def test_no_installed_model_still_renders(client, settings, tmp_path):
    settings.MODEL_DIR = tmp_path

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "No model is installed on this server" in html
    assert "Not a diagnosis." in html
    assert "Balanced accuracy" not in html


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", '{"classes": []}', "\udcff"])
def test_an_unreadable_card_counts_as_no_model(client, settings, tmp_path, content):
    (tmp_path / "model_card.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    settings.MODEL_DIR = tmp_path

    response = client.get(URL)

    assert response.status_code == 200
    assert "No model is installed on this server" in response.content.decode()


def test_a_card_without_the_optional_keys_renders(client, settings, tmp_path):
    install_card(settings, tmp_path, MINIMAL_CARD)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "minimal-test-card" in html
    assert "records no test figures" in html
    assert "body site" not in html  # no metadata input
    assert "times, turned and mirrored" not in html  # one view per photo
    for code in CLASSES:
        assert reverse("education:condition", args=[code]) in html


def test_a_card_with_optional_keys_null_or_malformed_renders(client, settings, tmp_path):
    card = {
        **MINIMAL_CARD,
        "created": "not a date",
        "backbone": None,
        "training": "HAM10000",
        "metadata_input": None,
        "test_time_augmentation": None,
        "metrics": {"test": {"balanced_accuracy": 0.5, "per_class_recall": {"mel": "high"}}},
    }
    install_card(settings, tmp_path, card)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<th scope="row">Balanced accuracy</th><td>{percent(0.5)}</td>' in html
    assert "body site" not in html


def test_a_model_with_metadata_and_test_time_augmentation_says_so(client, settings, tmp_path, committed_model):
    card = {**committed_model, "metadata_input": {"description": "age, sex, site"}, "test_time_augmentation": 8}
    install_card(settings, tmp_path, card)

    html = client.get(URL).content.decode()

    assert "body site" in html
    assert "age and sex" in html
    assert "scored 8 times" in html


def test_linked_from_the_education_index_and_the_footer(client, committed_model, shipped):
    index = client.get(reverse("education:index")).content.decode()
    assert index.count(f'href="{URL}"') == 2  # the section on the page and the footer

    condition = client.get(reverse("education:condition", args=["mel"])).content.decode()
    footer = condition.split("</main>")[1]
    assert f'href="{URL}"' in footer


def test_the_page_does_not_import_tensorflow():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'skinsite.settings'); django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.test import Client\n"
        f"response = Client().get({URL!r})\n"
        "print(response.status_code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**os.environ, "MODEL_DIR": str(COMMITTED_MODEL_DIR)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "200 False False"


def test_page_says_when_the_change_threshold_was_set_on_another_model(client, committed_model):
    """The change study's probability threshold rests on one model's scores; another installed model is named."""
    from education.selectors import installed_model
    from measurement.thresholds import load_thresholds

    study_model = load_thresholds().provenance["model_version"]
    html = client.get("/learn/model/").content.decode()
    said = f"set on the scores of an earlier model ({study_model})" in html
    assert said == (installed_model().version != study_model)


def test_the_not_assessable_rates_come_from_the_card(client, committed_model):
    """The share of non-lesion photos and of plain skin turned away, as evaluation.not_assessable recorded it."""
    section = committed_model["not_assessable"]
    html = " ".join(client.get(URL).content.decode().split())
    non, skin = section["non_lesion_refused"], section["plain_skin_refused"]
    assert f"{percent(non['rate'])} of {non['images']} photos that show no lesion" in html
    assert f"{percent(skin['rate'])} of {skin['images']} patches of plain skin" in html


def test_a_card_without_the_refusal_record_says_no_rate(client, settings, tmp_path, committed_model):
    card = {k: v for k, v in committed_model.items() if k != "not_assessable"}
    install_card(settings, tmp_path, card)
    html = client.get(URL).content.decode()
    assert "photos that show no lesion" not in html and '"not assessable"' in html
