"""A stored photo's ORB keypoints, found once and kept in Django's cache for every pair it is in.

Finding keypoints is most of a comparison's time (about a second for a phone photo), and one
photo is compared many times: with each new photo of its lesion by the worker, and with any other
on the compare pages (the patient's and the physician's). A cached entry is named by the photo,
the hash of its upload, the size it was decoded at (the worker decodes large JPEGs at a fraction of
their size, the web at a bounded working size, lesions.comparison; keypoints and their scale differ)
and the algorithm's version, so it can never stand for other pixels or another method. Descriptors
are stored as packed bits (16 KB, not 128 KB, a photo). The cache fails open (skinsite/cache.py):
without it, keypoints are found again, with the same result.
"""

from __future__ import annotations

import numpy as np
from django.core.cache import cache
from PIL import Image

from inference import measuring
from inference.models import AnalysedPhoto
from measurement.alignment import FEATURES_VERSION, PhotoFeatures

CACHE_SECONDS = 24 * 3600


def _key(photo: AnalysedPhoto, image: Image.Image) -> str:
    width, height = image.size
    return f"photo-features:{FEATURES_VERSION}:{photo.pk}:{photo.sha256}:{width}x{height}"


def _packed(features: PhotoFeatures) -> dict:
    return {
        "xy": features.xy,
        "bits": np.packbits(features.descriptors, axis=1),
        "width": features.descriptors.shape[1],
        "factor": features.factor,
    }


def _unpacked(entry: dict) -> PhotoFeatures:
    descriptors = np.unpackbits(entry["bits"], axis=1, count=entry["width"]).astype(bool)
    return PhotoFeatures(xy=entry["xy"], descriptors=descriptors, factor=entry["factor"])


def photo_features_cached(photo: AnalysedPhoto, image: Image.Image) -> PhotoFeatures | None:
    """The keypoints of `image`, the stored `photo` as the caller decoded it (None: none found)."""
    key = _key(photo, image)
    entry = cache.get(key)
    if entry is not None:
        return _unpacked(entry)
    features = measuring.features_of(image)
    if features is not None:  # a failure is not kept: it says nothing about the next try
        cache.set(key, _packed(features), CACHE_SECONDS)
    return features
