"""`percent`: a fraction from the model card as a percentage with one decimal, the way the model page shows it."""

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.7078 → "70.8%"; a missing figure shows as a dash rather than as 0%."""
    if value is None:
        return "–"
    return f"{value * 100:.1f}%"
