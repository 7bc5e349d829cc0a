from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    default_auto_field = "django.db.models.BigAutoField"

    # Heatmap files leave storage with their rows through lesions.receivers, which owns the
    # retried deletion of stored files (inference uses only lesions' models).
