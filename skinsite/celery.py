"""The Celery application: one for the web process (which only enqueues) and the workers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skinsite.settings")

app = Celery("skinsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
