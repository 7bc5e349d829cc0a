"""What inference tells /metrics and /readyz (skinsite.metrics, skinsite.health), registered in apps.ready.

Analyses by status, refusals by reason and the model version are counted from the rows at scrape
time, so any web process answers for all workers; upload-to-result time is observed by the worker
as each analysis ends (prometheus_client's multiprocess files add up the worker processes).
"""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count
from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inference import quality, services
from inference.models import Analysis

UPLOAD_TO_RESULT = Histogram(
    "skinsite_upload_to_result_seconds",
    "From a photo's upload to its first analysis ending (done, not assessable or failed).",
    ["status"],
    buckets=(5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600),
)

# The refusal reasons (inference.quality), by a short stable label: the text a patient reads may change.
REFUSAL_REASONS = {
    quality.TOO_DARK: "too_dark",
    quality.TOO_BRIGHT: "too_bright",
    quality.BLANK: "blank",
    quality.BLURRY: "blurry",
    quality.NOT_COLOUR: "not_colour",
    quality.NOT_SKIN: "not_skin",
    quality.NOT_LESION: "not_lesion",
    quality.NO_LESION_VISIBLE: "no_lesion_visible",
}


def refusal_label(reason: str) -> str:
    return REFUSAL_REASONS.get(reason, "other")


class AnalysisCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        by_status = GaugeMetricFamily(
            "skinsite_analyses", "Analyses by status (pending and running are queued or in work).", labels=["status"]
        )
        counts = dict(Analysis.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in Analysis.Status.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status

        refusals = GaugeMetricFamily(
            "skinsite_analysis_refusals",
            "Photos the model refused to score (not assessable), by reason.",
            labels=["reason"],
        )
        by_reason: dict[str, int] = dict.fromkeys([*REFUSAL_REASONS.values(), "other"], 0)
        rows = Analysis.objects.filter(status=Analysis.Status.NOT_ASSESSABLE).values_list("error")
        for error, n in rows.annotate(n=Count("id")).order_by():
            by_reason[refusal_label(error)] += n
        for label, n in by_reason.items():
            refusals.add_metric([label], n)
        yield refusals

        installed = GaugeMetricFamily("skinsite_model_info", "The installed model (1), by version.", labels=["version"])
        installed.add_metric([services.current_model_version()], 1)
        yield installed

        seen = services.worker_with_model_seen(within_seconds=settings.READY_WORKER_MAX_AGE)
        workers = GaugeMetricFamily(
            "skinsite_worker_with_model_up",
            f"1 when a worker with the model loaded was seen within {settings.READY_WORKER_MAX_AGE} s.",
            labels=["version"],
        )
        workers.add_metric([seen.model_version if seen else ""], 1 if seen else 0)
        yield workers


def worker_ready() -> None:
    """/readyz: a worker with the model loaded sent a heartbeat within READY_WORKER_MAX_AGE seconds."""
    if services.worker_with_model_seen(within_seconds=settings.READY_WORKER_MAX_AGE) is None:
        raise RuntimeError(f"no worker with the model seen within {settings.READY_WORKER_MAX_AGE} s")


def observe_upload_to_result(sender: Any, analysis: Analysis, first_result: bool, **kwargs: object) -> None:
    """Receiver of `analysis_finished`: a photo's first answer only (a new model's re-run is not an upload)."""
    if not first_result or analysis.finished_at is None:
        return
    uploaded_at = analysis.photo.uploaded_at
    UPLOAD_TO_RESULT.labels(analysis.status).observe(max((analysis.finished_at - uploaded_at).total_seconds(), 0))
