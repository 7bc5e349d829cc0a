"""/learn/model/ says what the committed multi-source card supports: figures per source, metadata
accepted but not used, the photo type; nothing of it for a card that does not record it."""

import json
import re

import pytest

from education.tests.test_model_page import COMMITTED_MODEL_DIR, MINIMAL_CARD, URL, install_card, percent

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(settings) -> dict:
    settings.MODEL_DIR = COMMITTED_MODEL_DIR
    return json.loads((COMMITTED_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))


def _main(client) -> str:
    return client.get(URL).content.decode().split("<main")[1].split("</main>")[0]


def _rows(html: str) -> list[str]:
    table = html.split('id="source-figures"')[1].split("</table>")[0]
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)


def test_every_source_in_the_card_has_a_row_with_its_figures(client, card):
    html = _main(client)
    rows = _rows(html)
    per_source = card["metrics"]["validation_per_source"]
    expected = [*per_source.items(), ("ham10000", card["metrics"]["ham10000_test"])]
    assert len(rows) == len(expected)
    for row, (key, figures) in zip(rows, expected, strict=True):
        cells = re.sub(r"\s+", " ", row)
        assert f"{figures['malignant_roc_auc']:.2f}" in cells, key
        assert percent(figures["sensitivity_at_80_specificity"]) in cells, key
        assert percent(figures["sensitivity_at_90_specificity"]) in cells, key
        assert percent(figures["malignant_calibration_error"]) in cells, key
        assert f"{figures['n_images']} ({figures['n_malignant']})" in cells, key
    # Source names and the kind of photos each holds.
    assert "PAD-UFES-20 (Brazil)</th>" in rows[list(per_source).index("pad_ufes20")]
    assert "<td>phone camera</td>" in rows[list(per_source).index("pad_ufes20")]
    assert "<td>dermoscopy</td>" in rows[list(per_source).index("derm7pt")]
    assert "<td>test</td>" in rows[-1] and "<td>validation</td>" in rows[0]


def test_refusal_rates_are_shown_only_when_the_card_records_them(client, card, settings, tmp_path):
    # The committed card records them (python -m evaluation.not_assessable --card), as measured.
    test_figures = card["metrics"]["ham10000_test"]
    html = _main(client)
    assert "Refused as not assessable" in html
    assert percent(test_figures["refused"]) in html
    # A card that records none: no column, no claim.
    without = json.loads(json.dumps(card))
    for figures in [*without["metrics"]["validation_per_source"].values(), without["metrics"]["ham10000_test"]]:
        for key in ("refused", "refused_benign", "refused_malignant"):
            figures.pop(key, None)
    install_card(settings, tmp_path, without)
    assert "Refused as not assessable" not in _main(client)
    with_refusals = json.loads(json.dumps(card))
    for figures in with_refusals["metrics"]["validation_per_source"].values():
        figures.update(refused=0.031, refused_benign=0.02, refused_malignant=0.015)
    with_refusals["metrics"]["ham10000_test"].update(refused=0.0153, refused_benign=0.0167, refused_malignant=0.0099)
    install_card(settings, tmp_path, with_refusals)
    html = _main(client)
    assert "Refused as not assessable" in html
    assert f"{percent(0.0153)} ({percent(0.0167)} / {percent(0.0099)})" in html


def test_metadata_accepted_but_not_used_is_read_from_the_card(client, card, settings, tmp_path):
    assert card["metadata_input"]["used_by"].startswith("nothing")
    html = _main(client)
    assert "this version does not use them" in re.sub(r"\s+", " ", html).replace("<strong>", "").replace(
        "</strong>", ""
    )
    assert "Besides the photo, it also uses" not in html
    assert "<dt>Second input</dt>" not in html

    # A card whose metadata input is used says so instead.
    used = {**card, "metadata_input": {**card["metadata_input"], "used_by": "the fusion layer"}}
    install_card(settings, tmp_path, used)
    html = _main(client)
    assert "Besides the photo, it also uses" in html
    assert "does not use them" not in html


def test_the_photo_type_section_follows_the_card(client, card):
    html = re.sub(r"\s+", " ", _main(client))
    assert "Dermatoscope or phone camera" in html
    assert percent(card["photo_type"]["validation_accuracy"]) in html
    assert "correct it on the photo's page" in html


def test_a_single_source_card_has_no_sources_section(client, settings, tmp_path):
    install_card(settings, tmp_path, MINIMAL_CARD)
    html = _main(client)
    assert 'id="source-figures"' not in html
    assert "Dermatoscope or phone camera" not in html
    assert "does not use them" not in html


def test_the_not_a_diagnosis_notice_comes_before_the_sources_figures_once(client, card):
    html = _main(client)
    assert html.count("Not a diagnosis.") == 1
    assert html.index("Not a diagnosis.") < html.index('id="sources"')


def test_a_malformed_figure_is_left_out_not_shown(client, card, settings, tmp_path):
    # A count must be a whole number >= 0 and a figure a number: `true` is a broken card, not 100%.
    broken = json.loads(json.dumps(card))
    broken["metrics"]["validation_per_source"] = {
        "ph2": {
            "n_images": -3,
            "n_malignant": 4.0,
            "malignant_roc_auc": True,
            "sensitivity_at_80_specificity": "0.9",
            "sensitivity_at_90_specificity": 0.5,
        }
    }
    install_card(settings, tmp_path, broken)
    ph2 = re.sub(r"\s+", " ", _rows(_main(client))[0])
    assert "PH2 (Portugal)</th>" in ph2
    assert "<td>–</td> <td>–</td>" in ph2  # images (malignant), then the AUC
    assert "1.00" not in ph2 and "100.0%" not in ph2 and "90.0%" not in ph2
    assert percent(0.5) in ph2


def test_the_page_names_the_backbone_not_the_colour_layer_in_front_of_it(client, card):
    # The committed card's architecture starts with the colour-constancy layer; the page's plain
    # sentence names the network itself.
    assert card["backbone"]["architecture"].startswith("Shades-of-Gray")
    network = card["backbone"]["architecture"].split(", ")[1].split("(")[0].strip()
    html = re.sub(r"\s+", " ", _main(client))
    assert f"a {network} convolutional" in html
    assert "a Shades-of-Gray colour constancy convolutional" not in html


def test_what_age_sex_and_site_would_add_comes_from_the_study_of_this_model(client, card, tmp_path, monkeypatch):
    from education import selectors

    study = json.loads((selectors.Path(__file__).resolve().parents[2] / "reports" / "metadata_study.json").read_text())
    assert study["model_version"] == card["version"], "the committed study is of the served model"
    html = re.sub(r"\s+", " ", _main(client))
    listed = html.split('id="metadata-effects"')[1].split("</ul>")[0]
    for key, figures in study["validation_out_of_fold"]["without"].items():
        name = selectors.SOURCE_NAMES[key][0]
        after = study["validation_out_of_fold"]["with"][key]["auc"]
        assert (
            f"{name} ({selectors.SOURCE_NAMES[key][1]}): {figures['auc']:.3f} without them, {after:.3f} with them"
            in (listed)
        )

    # Another model's study, or none, backs no figure: the page leaves them out.
    (tmp_path / "metadata_study.json").write_text(json.dumps(study | {"model_version": "another"}))
    assert selectors.metadata_effects(card["version"], reports=tmp_path) == []
    (tmp_path / "metadata_study.json").write_text("{broken")
    assert selectors.metadata_effects(card["version"], reports=tmp_path) == []
    monkeypatch.setattr(selectors, "METADATA_STUDY", "missing.json")
    assert 'id="metadata-effects"' not in _main(client)
    assert "this version does not use them" in re.sub(r"\s+", " ", _main(client)).replace("<strong>", "").replace(
        "</strong>", ""
    )
