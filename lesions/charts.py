"""The numbers behind a lesion's probability, measures and size charts (drawn by Chart.js in the browser,
and as an SVG for the physician's report and PDF by sharing.pdf)."""

from inference.advice import operating_bands
from inference.models import Analysis
from inference.services import installed_model_card
from lesions.selectors import TimelineEntry
from measurement.size import SIX_MM
from training.contract import CLASS_LABELS, CLASSES


def timeline_chart_data(history: list[TimelineEntry]) -> dict:
    """One point per finished analysis, in the order the photos were taken.

    Photos still pending or failed are left out rather than drawn as zeros, which would read as
    "no risk" on the chart.
    """
    done = [(e.photo, e.analysis) for e in history if e.analysis and e.analysis.status == Analysis.Status.DONE]
    return {
        "labels": [photo.taken_at.date().isoformat() for photo, _ in done],
        "classes": [
            {
                "code": code,
                "label": CLASS_LABELS[code],
                "values": [round(getattr(analysis, f"p_{code}"), 4) for _, analysis in done],
            }
            for code in CLASSES
        ],
        "malignant": [_probability(analysis) for _, analysis in done],
        # Where the advice's bands start on the malignant line ({"medium": p, "high": p}), drawn behind
        # it; null when the installed model's card gives no operating points (then there is no advice).
        "bands": advice_band_starts(),
        # The outline's measures beside the probabilities; null where the photo could not be outlined
        # (a gap in the line, not a zero).
        "measures": [
            {"code": key, "label": label, "values": [_measure(analysis, key) for _, analysis in done]}
            for key, label in MEASURES
        ],
        "size": size_chart_data([analysis for _, analysis in done]),
    }


def size_chart_data(analyses: list[Analysis]) -> dict:
    """The longest diameter in mm of each analysis (None where the photo had no scale: a gap), its
    uncertainty (one standard deviation, drawn as an error bar) and the 6 mm line; `any` is False
    when no photo has a size, and then no size chart is drawn."""
    sizes = [_size(analysis) for analysis in analyses]
    return {
        "label": "Longest diameter (mm)",
        "values": [round(float(s["long_mm"]), 2) if s else None for s in sizes],
        "errors": [round(float(s.get("long_mm_error") or 0.0), 2) if s else None for s in sizes],
        "six_mm": SIX_MM,
        "any": any(sizes),
    }


def _size(analysis: Analysis) -> dict | None:
    size = (analysis.measures or {}).get("size") if isinstance(analysis.measures, dict) else None
    return size if isinstance(size, dict) and size.get("ok") and size.get("long_mm") is not None else None


def advice_band_starts() -> dict[str, float] | None:
    """The malignant probabilities at which the "medium" and "high" advice start (inference.advice)."""
    bands = operating_bands(installed_model_card())
    if bands is None:
        return None
    return {band: round(point["threshold"], 4) for band, point in bands.items()}


def _probability(analysis: Analysis) -> float:
    """A done analysis's malignant probability, rounded for the chart."""
    assert analysis.malignant_probability is not None  # set with the status, in inference.services
    return round(analysis.malignant_probability, 4)


MEASURES = (
    ("asymmetry", "Asymmetry (0 = symmetric)"),
    ("border_irregularity", "Border irregularity (1 = circle)"),
    ("colour_count", "ABCD colours present"),
)


def _measure(analysis: Analysis, key: str) -> float | None:
    values = analysis.measure_values
    return None if values is None or values.get(key) is None else round(float(values[key]), 4)
