"""`{% lesion_size analysis photo as size %}`: an analysis's size in words (lesions.size_words), or None.

The photo is passed, not read through the analysis, so a timeline of many photos asks nothing more
of the database: it gives the coin the patient said was in the photo and the dermatoscope's name.
"""

import dataclasses
from typing import Any

from django import template

from lesions.size_words import (
    NARROWER_WORDS,
    UNSURE_WORDS,
    WIDER_WORDS,
    SizeSummary,
    SizeWords,
    size_summary,
    size_words,
)

register = template.Library()


@register.simple_tag
def lesion_size(analysis: Any, photo: Any = None) -> SizeWords | None:
    if analysis is None or getattr(analysis, "status", None) != "done":
        return None
    size = (analysis.measures or {}).get("size") if isinstance(analysis.measures, dict) else None
    device = getattr(photo, "device", None) if photo is not None and getattr(photo, "device_id", None) else None
    words = size_words(
        size,
        coin_diameter_mm=getattr(photo, "coin_diameter_mm", None),
        device_name=getattr(device, "name", "") if device is not None else "",
    )
    if getattr(analysis, "size_queued_at", None) is not None:  # the worker is measuring it again
        return dataclasses.replace(words or SizeWords(ok=False), measuring=True)
    error: str = getattr(analysis, "size_error", "")
    if words is not None and error:  # the last measuring again could not run: the size is from before
        return dataclasses.replace(words, not_measured_again=error)
    return words


@register.simple_tag
def size_flag_words(flag: str) -> str:
    """The 6 mm flag's sentence ("wider", "unsure", "narrower"), for the phone capture's script to show."""
    return {"wider": WIDER_WORDS, "unsure": UNSURE_WORDS, "narrower": NARROWER_WORDS}[flag]


@register.simple_tag
def lesion_size_summary(history: Any) -> SizeSummary | None:
    """`{% lesion_size_summary history as summary %}`: the lesion's latest and first size in mm."""
    return size_summary(history or [])


_REFERENCE_WORDS = {
    "coin": "The yellow ring shows the coin Skinsite measured against.",
    "card": "The yellow outline shows the card Skinsite measured against.",
    "ruler": "The yellow line shows the part of the ruler Skinsite measured against.",
}


@register.simple_tag
def scale_reference(analysis: Any) -> dict | None:
    """Where the coin, card or ruler was found on the photo (measurement.scale's `reference`), in
    percent of the photo's width and height for an SVG drawn over it; None when none was found."""
    if analysis is None or getattr(analysis, "status", None) != "done" or not isinstance(analysis.measures, dict):
        return None
    size = analysis.measures.get("size")
    reference = ((size or {}).get("scale") or {}).get("reference") or {} if isinstance(size, dict) else {}
    kind = reference.get("kind")
    shape: dict[str, float | str]
    try:
        if kind == "coin":
            (x, y), rx = reference["centre"], float(reference["radius_x"])
            ry = float(reference.get("radius_y") or rx)
            shape = {"cx": 100 * float(x), "cy": 100 * float(y), "rx": 100 * rx, "ry": 100 * ry}
        elif kind == "card":
            shape = {"points": " ".join(f"{100 * float(x):.2f},{100 * float(y):.2f}" for x, y in reference["corners"])}
        elif kind == "ruler":
            (x1, y1), (x2, y2) = reference["line"]
            shape = {"x1": 100 * float(x1), "y1": 100 * float(y1), "x2": 100 * float(x2), "y2": 100 * float(y2)}
        else:
            return None
    except (KeyError, TypeError, ValueError):
        return None  # an older or partial reference: the size's words still say where it came from
    return {"kind": kind, "words": _REFERENCE_WORDS[kind], **shape}
