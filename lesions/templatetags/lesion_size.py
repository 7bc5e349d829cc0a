"""`{% lesion_size analysis photo as size %}`: an analysis's size in words (lesions.size_words), or None.

The photo is passed, not read through the analysis, so a timeline of many photos asks nothing more
of the database: it gives the coin the patient said was in the photo and the dermatoscope's name.
"""

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
    return size_words(
        size,
        coin_diameter_mm=getattr(photo, "coin_diameter_mm", None),
        device_name=getattr(device, "name", "") if device is not None else "",
    )


@register.simple_tag
def size_flag_words(flag: str) -> str:
    """The 6 mm flag's sentence ("wider", "unsure", "narrower"), for the phone capture's script to show."""
    return {"wider": WIDER_WORDS, "unsure": UNSURE_WORDS, "narrower": NARROWER_WORDS}[flag]


@register.simple_tag
def lesion_size_summary(history: Any) -> SizeSummary | None:
    """`{% lesion_size_summary history as summary %}`: the lesion's latest and first size in mm."""
    return size_summary(history or [])
