from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    default_auto_field = "django.db.models.BigAutoField"

    # Heatmap files leave storage with their rows through lesions.receivers, which owns the
    # retried deletion of stored files (inference uses only lesions' models).

    def ready(self) -> None:
        from inference import metrics
        from inference.signals import analysis_finished
        from skinsite import health
        from skinsite import metrics as site_metrics

        site_metrics.register_collector(metrics.AnalysisCollector())
        health.register_check("worker", metrics.worker_ready)
        analysis_finished.connect(metrics.observe_upload_to_result, dispatch_uid="metrics-upload-to-result")
