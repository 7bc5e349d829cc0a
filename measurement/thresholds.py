"""When a difference between two photos of a lesion is a change, not noise.

Each threshold is the difference that at most a few same-lesion HAM10000 photo pairs (judged
unchanged) exceed, chosen together so that at most 5% of such pairs exceed any of them
(`python -m evaluation.change_study`, reports/change_detection.md). The app loads `thresholds.json`.

A change is called when, from the earlier photo to the later one:
- asymmetry rises by more than `asymmetry`;
- border irregularity rises by more than `border_irregularity`;
- `new_colours` or more ABCD colours appear;
- the area grows by more than the factor `area_ratio`, or shrinks below its inverse;
- the malignant probability rises by more than `malignant_probability` (when set);
- the long diameter grows by more than `long_diameter_growth_mm` millimetres, when both photos have a
  size in mm (measurement.size; the threshold is the repeat-photo noise measured by
  `python -m evaluation.size_study`, reports/size.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measurement.measures import LesionMeasures
from measurement.size import size_growth

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.json"

ASYMMETRY = "asymmetry"
BORDER = "border_irregularity"
COLOURS = "colours"
AREA = "area"
MALIGNANT = "malignant_probability"
SIZE = "long_diameter_mm"
MEASURES = (ASYMMETRY, BORDER, COLOURS, AREA, SIZE, MALIGNANT)


@dataclass(frozen=True)
class ChangeThresholds:
    asymmetry: float
    border_irregularity: float
    new_colours: int
    area_ratio: float  # > 1
    malignant_probability: float | None = None  # None: not calibrated, never called a change
    provenance: dict[str, Any] = field(default_factory=dict)  # data, n pairs, false-alarm rates
    long_diameter_growth_mm: float | None = None  # None: not measured, never called a change
    size_provenance: dict[str, Any] = field(default_factory=dict)  # the size study's scenes and pairs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_thresholds(path: Path | str | None = None) -> ChangeThresholds:
    """The committed thresholds (or those in `path`)."""
    data = json.loads(Path(path or THRESHOLDS_FILE).read_text(encoding="utf-8"))
    return ChangeThresholds(
        asymmetry=float(data["asymmetry"]),
        border_irregularity=float(data["border_irregularity"]),
        new_colours=int(data["new_colours"]),
        area_ratio=float(data["area_ratio"]),
        malignant_probability=None
        if data.get("malignant_probability") is None
        else float(data["malignant_probability"]),
        provenance=dict(data.get("provenance", {})),
        long_diameter_growth_mm=None
        if data.get("long_diameter_growth_mm") is None
        else float(data["long_diameter_growth_mm"]),
        size_provenance=dict(data.get("size_provenance", {})),
    )


@dataclass(frozen=True)
class Change:
    """One measure that changed beyond its threshold, from the earlier photo to the later one."""

    measure: str  # one of MEASURES
    earlier: float
    later: float
    colours_added: tuple[str, ...] = ()  # for COLOURS

    @property
    def ratio(self) -> float:
        return self.later / self.earlier if self.earlier else math.inf

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "earlier": round(self.earlier, 4),
            "later": round(self.later, 4),
            "colours_added": list(self.colours_added),
        }


def detect_changes(
    earlier: LesionMeasures | None,
    later: LesionMeasures | None,
    thresholds: ChangeThresholds,
    *,
    relative_area: float | None = None,
    earlier_probability: float | None = None,
    later_probability: float | None = None,
    earlier_size: dict[str, Any] | None = None,
    later_size: dict[str, Any] | None = None,
) -> list[Change]:
    """The measures that changed beyond their thresholds, in MEASURES order.

    Pass None for what is unknown (an outline or an alignment that failed, a missing analysis):
    what cannot be measured is never called a change. `relative_area` is the later area over the
    earlier one on aligned photos (measures.relative_area). `earlier_size` and `later_size` are the
    photos' Analysis.measures["size"] dicts (measurement.size.lesion_size): growth of the long diameter
    is a change only when both are ok.
    """
    changes: list[Change] = []
    if earlier is not None and later is not None:
        if later.asymmetry - earlier.asymmetry > thresholds.asymmetry:
            changes.append(Change(ASYMMETRY, earlier.asymmetry, later.asymmetry))
        if later.border_irregularity - earlier.border_irregularity > thresholds.border_irregularity:
            changes.append(Change(BORDER, earlier.border_irregularity, later.border_irregularity))
        added = tuple(name for name in later.colours if name not in earlier.colours)
        if len(added) >= thresholds.new_colours:
            changes.append(Change(COLOURS, earlier.colour_count, later.colour_count, colours_added=added))
    if relative_area is not None and not 1.0 / thresholds.area_ratio <= relative_area <= thresholds.area_ratio:
        changes.append(Change(AREA, 1.0, relative_area))
    growth = size_growth(earlier_size, later_size)
    growth_limit = thresholds.long_diameter_growth_mm
    if growth is not None and growth_limit is not None and growth > growth_limit:
        earlier_mm = float((earlier_size or {})["long_mm"])
        changes.append(Change(SIZE, earlier_mm, earlier_mm + growth))
    limit = thresholds.malignant_probability
    known = limit is not None and earlier_probability is not None and later_probability is not None
    if known and later_probability - earlier_probability > limit:  # type: ignore[operator]
        changes.append(Change(MALIGNANT, earlier_probability, later_probability))  # type: ignore[arg-type]
    return changes
