"""What happens around a lesion that someone should hear about (emails are sent from tasks)."""

from lesions.models import Analysis


def analysis_finished(analysis: Analysis) -> None:
    """Called by the worker once an analysis is done or has failed for good."""
