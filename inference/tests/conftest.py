"""The real-worker fixtures (`celery_worker`, `shared_media`, `worker_media`) are in the root
conftest.py, so the browser flows in lesions/tests/flows share the same single worker process.
"""
