"""The sklesion reference gets its inputs the way its own preprocess() builds them."""

import numpy as np
import pytest

from training.contract import LOCALIZATIONS
from training.reference import SKLESION_SITES, main, sklesion_metadata

# sklesion 0.2.2's model_props, as far as the metadata vector goes.
PROPS = {
    "age_mean": 51.9,
    "age_max": 90.0,
    "oh_map": {
        "sex": {"female": [1, 0, 0], "male": [0, 1, 0], "unknown": [0, 0, 1]},
        "loc": {
            "arm": [1, 0, 0, 0, 0],
            "head-or-neck": [0, 1, 0, 0, 0],
            "leg-or-genital": [0, 0, 1, 0, 0],
            "trunk": [0, 0, 0, 1, 0],
            "unknown": [0, 0, 0, 0, 1],
        },
    },
}


def test_the_metadata_vector_is_one_hot_sex_and_site_then_age():
    vector = sklesion_metadata(PROPS, "45.0", "male", "face")
    np.testing.assert_allclose(vector, [0, 1, 0, 0, 1, 0, 0, 0, 0.5, 0])


def test_missing_age_takes_the_mean_and_sets_the_flag_unknown_values_map_to_unknown():
    vector = sklesion_metadata(PROPS, "", "", "acral")
    np.testing.assert_allclose(vector, [0, 0, 1, 0, 0, 0, 0, 1, 51.9 / 90.0, 1], rtol=1e-6)


def test_every_ham10000_site_but_acral_has_a_coarse_site():
    assert set(SKLESION_SITES) == set(LOCALIZATIONS) - {"acral"}
    assert set(SKLESION_SITES.values()) <= set(PROPS["oh_map"]["loc"])


def test_without_sklesion_installed_the_command_says_so_and_succeeds(monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "sklesion", None)
    assert main(["--out", str(tmp_path)]) == 0
    assert "sklesion is not installed" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("site", sorted(SKLESION_SITES))
def test_each_site_is_one_hot(site):
    vector = sklesion_metadata(PROPS, "60", "female", site)
    assert vector[3:8].sum() == 1
