"""A lesion's size in millimetres (Analysis.measures["size"], measurement.size.lesion_size) in plain words.

Read by the timeline, the photo page, the physician's report and the PDF, so each says the same
sentence: "5.8 mm across (± 0.3 mm)", the 6 mm flag, where the scale came from, or why there is no
size and how to add one. The numbers are the worker's; nothing is measured here.
"""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from measurement.scale import COINS, ID1_CARD_MM
from measurement.size import SIX_MM

# What a doctor reads first on a mole's history: the "D" of ABCDE.
WIDER_WORDS = (
    f"Wider than {SIX_MM:g} mm. A doctor checks moles wider than {SIX_MM:g} mm, about the size of a pencil eraser."
)
UNSURE_WORDS = f"About {SIX_MM:g} mm: too close to {SIX_MM:g} mm to tell whether it is wider."
NARROWER_WORDS = f"Less than {SIX_MM:g} mm across."
MEASURING_AGAIN_WORDS = "Measuring the size again with the new scale. This takes a few seconds."
HOW_TO_ADD = "Put a coin or a bank card beside the spot in your next photo, or mark a known length on this photo."


@dataclass(frozen=True)
class SizeWords:
    ok: bool
    # ok: "5.8 mm across (± 0.3 mm)"; else "" (see `reason`).
    across: str = ""
    # "wider" | "unsure" | "narrower" | "" and its sentence.
    flag: str = ""
    flag_text: str = ""
    # Under Details: the diameter across the longest one, the area, where the scale came from.
    other_way: str = ""
    area: str = ""
    source: str = ""
    # Not ok: why there is no size (the measurement's own plain words).
    reason: str = ""
    long_mm: float | None = None
    # The scale changed and the worker is measuring the size again: the numbers above are from before.
    measuring: bool = False
    # The last measuring again could not run, and why (the numbers above are from before it).
    not_measured_again: str = ""

    @property
    def measuring_words(self) -> str:
        return MEASURING_AGAIN_WORDS

    @property
    def details(self) -> str:
        """The numbers under Details in one line (the PDF, the report)."""
        return " ".join(part for part in (self.other_way, self.area, self.source) if part)


def _mm(value: float, error: float | None) -> str:
    return f"{value:.1f} mm" + (f" (± {error:.1f} mm)" if error is not None else "")


def _across(value: float, error: float | None) -> str:
    return f"{value:.1f} mm across" + (f" (± {error:.1f} mm)" if error is not None else "")


def _area(value: float, error: float | None) -> str:
    # Whole mm² for a mole of a few mm across; a tenth for a very small one.
    digits = 1 if value < 10 else 0
    return f"{value:.{digits}f} mm²" + (f" (± {error:.{digits}f} mm²)" if error is not None else "")


def coin_label(diameter_mm: float | None) -> str | None:
    """The plain name of the coin of this diameter in `COINS` (the first one listed), if any."""
    if diameter_mm is None:
        return None
    for label, mm in COINS.values():
        if abs(mm - diameter_mm) < 0.005:
            return label
    return None


def source_words(scale: dict, *, coin_diameter_mm: float | None = None, device_name: str = "") -> str:
    """Where the scale came from, in words: "Measured against your 1 euro coin."."""
    source = scale.get("source")
    if source == "coin":
        label = coin_label(coin_diameter_mm)
        if label:
            return f"Measured against your {label} coin."
        if coin_diameter_mm:
            return f"Measured against your coin ({coin_diameter_mm:g} mm wide)."
        return "Measured against the coin in the photo."
    if source == "card":
        return f"Measured against the card in the photo (a bank card is {ID1_CARD_MM[0]:g} mm long)."
    if source == "ruler":
        return "Measured against the ruler in the photo."
    if source == "device":
        return f"Measured with your dermatoscope{f' “{device_name}”' if device_name else ''}, from its set-up photo."
    if source == "manual":
        return "Measured from the two points you marked."
    return ""


def size_words(size: dict | None, *, coin_diameter_mm: float | None = None, device_name: str = "") -> SizeWords | None:
    """`size` (one analysis's measures["size"]) in words; None for an analysis measured before sizes were."""
    if not isinstance(size, dict):
        return None
    if not size.get("ok") or size.get("long_mm") is None:
        return SizeWords(ok=False, reason=size.get("reason_text") or "We could not tell its size in mm.")
    flag = {True: "wider", False: "narrower", None: "unsure"}[size.get("wider_than_6mm")]
    area = size.get("area_mm2")
    area_error = size.get("area_mm2_error")
    short = size.get("short_mm")
    return SizeWords(
        ok=True,
        across=_across(size["long_mm"], size.get("long_mm_error")),
        flag=flag,
        flag_text={"wider": WIDER_WORDS, "unsure": UNSURE_WORDS, "narrower": NARROWER_WORDS}[flag],
        other_way=f"The other way: {_mm(short, size.get('short_mm_error'))}." if short is not None else "",
        area=f"Area: {_area(area, area_error)}." if area is not None else "",
        source=source_words(size.get("scale") or {}, coin_diameter_mm=coin_diameter_mm, device_name=device_name),
        long_mm=float(size["long_mm"]),
    )


@dataclass(frozen=True)
class SizeSummary:
    """The lesion's latest size in mm and its first one, from its photos with a size (oldest first)."""

    latest: str  # "8.0 mm across (± 0.4 mm)"
    latest_on: date
    first: str = ""  # "" when only one photo has a size
    first_on: date | None = None
    flag_text: str = ""
    # The latest size is being measured again (its scale changed): it is the one from before until then.
    measuring: bool = False

    @property
    def sentence(self) -> str:
        text = f"Latest size: {self.latest}, on {self.latest_on:%-d %b %Y}."
        if self.measuring:
            text += " It is being measured again."
        if self.first and self.first_on:
            text += f" First measured: {self.first}, on {self.first_on:%-d %b %Y}."
        return text


def size_summary(history: Iterable[Any]) -> SizeSummary | None:
    """From a lesion's timeline entries (photo, analysis), oldest first: its latest size and first one;
    None while no photo has a size. Whether it grew is for change detection to say, not this line."""
    sized = []
    for entry in history:
        analysis = entry.analysis
        if analysis is None or analysis.status != "done" or not isinstance(analysis.measures, dict):
            continue
        words = size_words(analysis.measures.get("size"))
        if words is not None and words.ok:
            words = dataclasses.replace(words, measuring=getattr(analysis, "size_queued_at", None) is not None)
            sized.append((timezone.localtime(entry.photo.taken_at).date(), words))
    if not sized:
        return None
    (first_on, first), (latest_on, latest) = sized[0], sized[-1]
    return SizeSummary(
        latest=latest.across,
        latest_on=latest_on,
        first=first.across if len(sized) > 1 else "",
        first_on=first_on if len(sized) > 1 else None,
        flag_text=latest.flag_text,
        measuring=latest.measuring,
    )
