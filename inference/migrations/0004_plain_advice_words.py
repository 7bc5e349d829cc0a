"""Stored advice in the plain words of inference.advice (issue 21): each analysis keeps its band and the
operating point it rests on; only its title and sentence are rewritten, from those.

The words are copied here, not imported, so that this migration says the same thing however
`inference.advice` is worded later.
"""

from django.db import migrations

TITLES = {
    "low": "Looks like a common harmless type: keep photographing it every 3 months",
    "medium": "Have a doctor look at it at your next visit, or in the next months",
    "high": "Has features of a harmful (malignant) type: show it to a doctor within a few weeks",
    None: "No risk band is available for this result",
}
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
CHANGED_TITLES = {
    "medium": "It changed between photos: have a doctor look at it at your next visit",
    "high": "It changed between photos: show it to a doctor within a few weeks",
}
CHANGE_TEXT = " The lesion also changed between photos, so the advice is one step stricter."
BANDS = ("low", "medium", "high")


def _band_before_change(advice: dict) -> str | None:
    """The band the probability alone gave, whose sentence and operating point the advice holds."""
    band = advice["band"]
    if not advice.get("changed"):
        return band
    if band == "medium":
        return "low"
    # A change raised it to high from medium or from high: the old sentence says which.
    text = str(advice.get("text", ""))
    if "benign lesions stay below" in text:
        return "high"
    if "of benign ones are below it" in text:
        return "medium"
    return None


def _reworded(advice: dict) -> dict | None:
    """The advice in plain words, or None when it is not one that `advice_for` wrote."""
    band, point = advice.get("band"), advice.get("based_on")
    if band is None:
        return advice | {"title": TITLES[None], "text": TEXTS[None]}
    if band not in BANDS or not isinstance(point, dict):
        return None
    before = _band_before_change(advice)
    if before is None:
        return None
    try:
        text = TEXTS[before].format(**point)
    except (KeyError, ValueError, TypeError):
        return None
    if advice.get("changed"):
        return advice | {"title": CHANGED_TITLES[band], "text": text + CHANGE_TEXT}
    return advice | {"title": TITLES[band], "text": text}


def reword(apps, schema_editor):
    Analysis = apps.get_model("inference", "Analysis")
    for analysis in Analysis.objects.exclude(advice=None).only("id", "advice").iterator():
        if not isinstance(analysis.advice, dict):
            continue
        reworded = _reworded(analysis.advice)
        if reworded is not None and reworded != analysis.advice:
            analysis.advice = reworded
            analysis.save(update_fields=["advice"])


class Migration(migrations.Migration):
    dependencies = [("inference", "0003_worker_heartbeat")]

    operations = [migrations.RunPython(reword, migrations.RunPython.noop)]
