"""The report's chart (SVG on the page, drawing in the PDF): photos at their dates, the advice's bands
behind the lines, and the melanoma line drawn over the malignant one, which it often runs with."""

import base64
import re

from sharing.pdf import chart_svg_data_uri

CHART = {
    "labels": ["2025-01-01", "2025-01-02", "2025-07-01"],
    "classes": [
        {"code": code, "label": code, "values": [0.6, 0.6, 0.6] if code == "mel" else [0.0, 0.0, 0.0]}
        for code in ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
    ],
    "malignant": [0.6, 0.6, 0.6],
    "bands": {"medium": 0.1, "high": 0.4},
}


def _svg(chart: dict) -> str:
    return base64.b64decode(chart_svg_data_uri(chart).split(",", 1)[1]).decode()


def test_the_advice_bands_are_drawn_behind_the_lines():
    svg = _svg(CHART)
    for band in ("low", "medium", "high"):
        assert f"{band} advice band" in svg
    assert svg.index("high advice band") < svg.index("<polyline")
    assert "advice band" not in _svg(CHART | {"bands": None})  # no operating points, no bands


def test_photos_sit_at_their_dates():
    found = re.search(r'<polyline points="([^"]+)"', _svg(CHART))
    assert found is not None
    xs = [float(x) for x in found[1].replace(",", " ").split()[::2]]
    # A day, then half a year: the gaps on the axis say so.
    assert (xs[2] - xs[1]) > 100 * (xs[1] - xs[0])


def test_the_melanoma_line_is_drawn_over_the_malignant_line():
    lines = re.findall(r"<polyline [^>]*>", _svg(CHART))
    malignant = next(i for i, line in enumerate(lines) if "stroke-opacity: 0.45" in line)
    melanoma = next(i for i, line in enumerate(lines) if "stroke-width: 1.6" in line)
    assert malignant < melanoma  # drawn later is on top
