"""One compare-image request in a fresh process, and how much memory it took (test_compare_limits).

Run as `python -m lesions.tests.compare_memory_probe <url> <token>` with DATABASE_URL and
MEDIA_ROOT naming the test's database and media folder. Prints JSON: the status, the PNG's size,
the growth of the process's peak resident set (ru_maxrss) over the request, and tracemalloc's
peak (numpy's and Python's allocations; Pillow's own buffers show only in the resident set), and
the request's wall and CPU seconds (for the record only).
"""

import io
import json
import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skinsite.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from PIL import Image  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from measurement.alignment import Alignment, photo_features, warp_to_earlier  # noqa: E402


def _warm_up() -> None:
    # Load what a first request would import and set up (scikit-image, scipy, Pillow's codecs), so
    # the growth measured is the request's working memory, not a module's first import.
    small = np.zeros((64, 64, 3), dtype=np.uint8)
    photo_features(Image.fromarray(small))
    warp_to_earlier(small, Alignment(True, None, np.eye(3), 1.0, 0.0, (0.0, 0.0), 0, 0), (64, 64))
    Image.fromarray(small).save(io.BytesIO(), format="PNG")


def main(url: str, token: str) -> None:
    setup_test_environment()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    _warm_up()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(url)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    png_size = list(Image.open(io.BytesIO(response.content)).size) if response.status_code == 200 else None
    print(
        json.dumps(
            {
                "status": response.status_code,
                "png_size": png_size,
                "rss_growth_mb": (after - before) / 1024,
                "traced_peak_mb": traced_peak / 2**20,
                "seconds": round(seconds, 2),  # reported, not asserted (tracemalloc slows numpy's allocations)
                "cpu_seconds": round(cpu_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
