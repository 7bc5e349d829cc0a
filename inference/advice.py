"""What to do about a result, in plain words: a risk band from the model card's operating points.

The bands come from the card's `operating_points` (sensitivity and specificity of the calibrated
malignant probability at each threshold, on validation data), never from thresholds made up here:

- "high" (show it to a doctor within a few weeks): at or above the lowest threshold whose
  specificity is at least HIGH_SPECIFICITY;
- "medium" (have a doctor look at it at your next visit): at or above the highest threshold whose
  sensitivity is at least MEDIUM_SENSITIVITY;
- "low" (looks like a common harmless type; keep photographing it every 3 months): below both.

Per photo type: where the card has `operating_points_by_photo_type` (`training.advice_points`: the
band starts chosen so that medium-or-high finds at least 90 % of malignant lesions on *each*
validation source of that type, with a margin for small sources), the analysis's photo type (the one
the patient gave, else the detected one: `Analysis.inputs["photo_type"]`) picks its block, and the
text quotes that type's figures (the worst source's share of malignant lesions found). Without a
block for the type, the pooled `operating_points` above.

A measured change between photos raises the band by one. A card without operating points gives
no band at all (`band` is None) and says so. Pure: no Django, no TensorFlow.

A lesion's answer (`lesion_advice`) combines its recent assessable photos: the highest malignant
probability of the last `LESION_WINDOW` photos since the last measured change. On same-lesion
HAM10000 photos its band flips less than half as often as single photos' bands, while no malignant
lesion's answer is ever below its latest photo's own band (reports/lesion_answer.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

HIGH_SPECIFICITY = 0.90
MEDIUM_SENSITIVITY = 0.90
BANDS = ("low", "medium", "high")
# How many recent photos a lesion's answer rests on (reports/lesion_answer.md: with the highest of
# the last 3, no malignant lesion is talked down below its latest photo, and bands flip less than half as often).
LESION_WINDOW = 3

NOTICE = (
    "This is not a diagnosis. Skinsite's model can be wrong in both directions; only a doctor who "
    "examines the skin can tell what a lesion is. See a doctor about any lesion that worries you, "
    "whatever this says."
)
TITLES = {
    "low": "Looks like a common harmless type: keep photographing it every 3 months",
    "medium": "Have a doctor look at it at your next visit, or in the next months",
    "high": "Has features of a harmful (malignant) type: show it to a doctor within a few weeks",
    None: "No risk band is available for this result",
}
# Plain words (a 13-year-old follows them: skinsite/tests/test_plain_words.py); "in tests" stands for the
# card's validation photos, the figures themselves are the operating point the band starts at.
TEXTS = {
    "low": (
        "The model gives it a low chance of being a harmful (malignant) type. But a low score is not an all-clear: "
        "in the model's tests, {sensitivity:.0%} of malignant lesions scored higher than this, so a few scored as "
        "low. Keep taking a photo of it every 3 months so that any change shows."
    ),
    "medium": (
        "The model gives it a medium chance of being a harmful (malignant) type. In the model's tests, "
        "{sensitivity:.0%} of malignant lesions scored this high or higher, and {specificity:.0%} of harmless ones "
        "scored lower."
    ),
    "high": (
        "The model gives it a high chance of being a harmful (malignant) type. In the model's tests, "
        "{specificity:.0%} of harmless lesions scored lower than this, and {sensitivity:.0%} of malignant ones "
        "scored this high or higher."
    ),
    None: (
        "This model comes with no tested levels for turning a score into advice, so Skinsite gives no advice "
        "here. See a doctor if the lesion worries you or changes."
    ),
}
# The same, quoting one photo type's figures: "at least" the share found in the worst source of that type.
TYPE_WORDS = {"dermoscopy": "photos taken through a dermatoscope", "clinical": "phone photos"}
TYPE_TEXTS = {
    "low": (
        "The model gives it a low chance of being a harmful (malignant) type. But a low score is not an all-clear. "
        "We tested the model on {kind}. In each clinic's photos, at least {sensitivity:.0%} of malignant lesions "
        "scored higher than this, so a few scored as low. Keep taking a photo of it every 3 months so that any "
        "change shows."
    ),
    "medium": (
        "The model gives it a medium chance of being a harmful (malignant) type. We tested the model on {kind}. "
        "In each clinic's photos, at least {sensitivity:.0%} of malignant lesions scored this high or higher. "
        "And {specificity:.0%} of harmless ones scored lower."
    ),
    "high": (
        "The model gives it a high chance of being a harmful (malignant) type. We tested the model on {kind}. "
        "{specificity:.0%} of harmless lesions scored lower than this. In each clinic's photos, at least "
        "{sensitivity:.0%} of malignant ones scored this high or higher."
    ),
}
# When a measured change raised the band: the title says why the advice is stricter than the numbers.
CHANGED_TITLES = {
    "medium": "It changed between photos: have a doctor look at it at your next visit",
    "high": "It changed between photos: show it to a doctor within a few weeks",
}
CHANGE_TEXT = " The lesion also changed between photos, so the advice is one step stricter."


def _point(raw: Mapping[str, Any]) -> dict[str, float]:
    return {
        "threshold": float(raw["threshold"]),
        "sensitivity": float(raw["sensitivity"]),
        "specificity": float(raw["specificity"]),
    }


def type_bands(card: Mapping[str, Any] | None, photo_type: str | None) -> dict[str, dict[str, float]] | None:
    """The "medium" and "high" starts of `photo_type`'s block in the card's `operating_points_by_photo_type`,
    or None when the card has none for it."""
    types = ((card or {}).get("operating_points_by_photo_type") or {}).get("types") or {}
    if photo_type not in types:
        return None
    try:
        medium, high = _point(types[photo_type]["medium"]), _point(types[photo_type]["high"])
    except (KeyError, TypeError, ValueError):
        return None
    return {"medium": min(medium, high, key=lambda p: p["threshold"]), "high": high}


def operating_bands(
    card: Mapping[str, Any] | None, photo_type: str | None = None
) -> dict[str, dict[str, float]] | None:
    """The operating points that start the "medium" and "high" bands, or None without usable points:
    `photo_type`'s own (`type_bands`) where the card has them, else the pooled ones."""
    own = type_bands(card, photo_type)
    if own is not None:
        return own
    points = ((card or {}).get("operating_points") or {}).get("points") or []
    try:
        points = sorted((_point(p) for p in points), key=lambda p: p["threshold"])
    except (KeyError, TypeError, ValueError):
        return None
    sensitive = [p for p in points if p["sensitivity"] >= MEDIUM_SENSITIVITY]
    specific = [p for p in points if p["specificity"] >= HIGH_SPECIFICITY]
    if not sensitive or not specific:
        return None
    medium, high = sensitive[-1], specific[0]
    if medium["threshold"] > high["threshold"]:  # a model that is both: one cut-off
        medium = high
    return {"medium": medium, "high": high}


def advice_for(
    *,
    malignant_probability: float | None,
    card: Mapping[str, Any] | None,
    changed: bool = False,
    photo_type: str | None = None,
) -> dict:
    """The advice stored with an analysis: band, title, text, the operating point it rests on, notice.

    `photo_type` is the type the photo was scored as (given by the patient, else detected); the card's
    points for that type are used where it has them (`based_on` then names the type)."""
    own = type_bands(card, photo_type)
    bands = own or operating_bands(card)
    if bands is None or malignant_probability is None:
        return {
            "band": None,
            "title": TITLES[None],
            "text": TEXTS[None],
            "based_on": None,
            "changed": changed,
            "notice": NOTICE,
        }
    if malignant_probability >= bands["high"]["threshold"]:
        band = "high"
    elif malignant_probability >= bands["medium"]["threshold"]:
        band = "medium"
    else:
        band = "low"
    point: dict[str, Any] = dict(bands["high"] if band == "high" else bands["medium"])
    if own is not None and photo_type is not None:
        text = TYPE_TEXTS[band].format(kind=TYPE_WORDS.get(photo_type, photo_type), **point)
        point["photo_type"] = photo_type
    else:
        text = TEXTS[band].format(**point)
    if changed:
        band = BANDS[min(len(BANDS) - 1, BANDS.index(band) + 1)]
        text += CHANGE_TEXT
    return {
        "band": band,
        "title": CHANGED_TITLES[band] if changed else TITLES[band],
        "text": text,
        "based_on": point,
        "changed": changed,
        "notice": NOTICE,
    }


class AssessedPhoto(Protocol):
    """What `lesion_advice` reads of one photo's finished analysis (`inference.models.Analysis`)."""

    @property
    def malignant_probability(self) -> float | None: ...

    @property
    def change(self) -> Any: ...


def photo_type_of(analysis: Any) -> str | None:
    """The photo type an analysis was scored as (`Analysis.inputs["photo_type"]`: given, else detected), if
    it records one."""
    inputs = getattr(analysis, "inputs", None)
    photo_type = inputs.get("photo_type") if isinstance(inputs, Mapping) else None
    return photo_type if isinstance(photo_type, str) else None


def changed_since_previous(change: Any) -> bool:
    """Whether an analysis's stored `change` measured a change against the photo just before it.

    That change starts a lesion's answer afresh. A change against the first photo alone does not:
    every photo after a real change differs from the first, and would otherwise reset it each time.
    """
    if not isinstance(change, Mapping) or not change.get("changed"):
        return False
    comparisons = change.get("comparisons")
    if not isinstance(comparisons, list):
        return True  # stored before comparisons were kept: trust the summary
    return any(isinstance(c, Mapping) and c.get("kind") == "previous" and c.get("changes") for c in comparisons)


def _band_rank(analysis: AssessedPhoto, card: Mapping[str, Any] | None) -> int:
    band = advice_for(
        malignant_probability=analysis.malignant_probability, card=card, photo_type=photo_type_of(analysis)
    )["band"]
    return BANDS.index(band) if band in BANDS else -1


def lesion_advice(*, analyses: Sequence[AssessedPhoto], card: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A lesion's answer from its assessable photos' analyses, oldest first; None without any.

    The highest malignant probability of the last `LESION_WINDOW` photos since the last photo that
    changed measurably from the one before it (that photo included), banded as one photo's is; the
    band is raised by one while a measured change is among those photos. The highest, not the mean:
    the mean flips as rarely but talks some malignant lesions down below their latest photo's band.
    With points per photo type (each analysis's `inputs` says its type) a lower probability can be a
    higher band, so the photo with the highest band is taken (the highest probability among equals).
    Besides `advice_for`'s keys: `malignant_probability` (the combined one), `photos` (how many it
    rests on) and `latest_band` (the latest photo's own band, for the details).
    """
    scored = [a for a in analyses if a.malignant_probability is not None]
    if not scored:
        return None
    start = max((i for i, a in enumerate(scored) if changed_since_previous(a.change)), default=0)
    window = scored[start:][-LESION_WINDOW:]
    highest = max(window, key=lambda a: (_band_rank(a, card), a.malignant_probability or 0.0))
    probability = highest.malignant_probability
    changed = any(isinstance(a.change, Mapping) and bool(a.change.get("changed")) for a in window)
    last_change = scored[-1].change
    latest = advice_for(
        malignant_probability=scored[-1].malignant_probability,
        card=card,
        changed=isinstance(last_change, Mapping) and bool(last_change.get("changed")),
        photo_type=photo_type_of(scored[-1]),
    )
    # Banded by the points of the photo type of the photo it comes from (an analysis's `inputs`, if any).
    answer = advice_for(
        malignant_probability=probability, card=card, changed=changed, photo_type=photo_type_of(highest)
    )
    return answer | {
        "malignant_probability": probability,
        "photos": len(window),
        "latest_band": latest["band"],
    }
