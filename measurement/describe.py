"""What changed, in plain words for the patient and the physician."""

from __future__ import annotations

from datetime import date

from measurement.thresholds import AREA, ASYMMETRY, BORDER, COLOURS, MALIGNANT, SIZE, Change


def _since(earlier_date: date | None) -> str:
    # "in March" reads well within a year; older photos get the year too.
    if earlier_date is None:
        return "in the earlier photo"
    if (date.today() - earlier_date).days < 300:
        return f"in {earlier_date:%B}"
    return f"in {earlier_date:%B %Y}"


def describe_change(changes: list[Change], *, earlier_date: date | None = None) -> list[str]:
    """One plain sentence per change, e.g. "The lesion is about 30% larger than in March."."""
    since = _since(earlier_date)
    sentences = []
    for change in changes:
        if change.measure == AREA:
            percent = round(abs(change.later - 1.0) * 100 / 5) * 5 or 5
            size = "larger" if change.later > 1.0 else "smaller"
            sentences.append(f"The lesion is about {percent}% {size} than {since}.")
        elif change.measure == SIZE:
            sentences.append(
                f"The spot is {change.later:.1f} mm across, {change.later - change.earlier:.1f} mm wider than {since}."
            )
        elif change.measure == BORDER:
            sentences.append(f"The outline is more irregular than {since}.")
        elif change.measure == ASYMMETRY:
            sentences.append(f"The shape is less symmetrical than {since}.")
        elif change.measure == COLOURS:
            names = change.colours_added
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            noun = "A new colour" if len(names) == 1 else "New colours"
            verb = "appears" if len(names) == 1 else "appear"
            sentences.append(f"{noun} ({listed}) {verb} that was not there {since}.")
        elif change.measure == MALIGNANT:
            sentences.append(
                f"The model's estimate that it is a malignant type rose from {change.earlier:.0%} to "
                f"{change.later:.0%} since {since.removeprefix('in ')}."
            )
    return sentences
