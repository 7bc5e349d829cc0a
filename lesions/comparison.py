"""Two photos of one lesion compared: the later one aligned to the earlier, both measured, what changed.

Reads only (a selector module): the owner's lesion and photos or Http404, the stored measures of
each photo's current analysis (measured here when an older analysis has none), and the alignment,
kept in the cache for an hour because finding keypoints takes about a second a photo (and the
keypoints of each photo for a day, inference.keypoints, for its other pairs). The web
process uses scikit-image here, never TensorFlow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.http import Http404
from PIL import Image
from scipy import ndimage

from accounts.models import User
from inference import keypoints, measuring
from inference.models import Analysis
from lesions.models import Lesion, Photo
from lesions.selectors import current_analysis, heatmap_file, lesion_get
from measurement.alignment import Alignment, warp_to_earlier
from measurement.thresholds import load_thresholds

CACHE_SECONDS = 3600
LAYERS = ("photo", "heatmap", "outline")


@dataclass(frozen=True)
class PhotoPair:
    lesion: Lesion
    earlier: Photo
    later: Photo
    earlier_analysis: Analysis | None
    later_analysis: Analysis | None


@dataclass(frozen=True)
class Comparison:
    pair: PhotoPair
    earlier_measures: dict[str, Any] | None
    later_measures: dict[str, Any] | None
    result: dict[str, Any]  # inference.measuring.compare_measured's dict: alignment, relative_area, changes...

    @property
    def aligned(self) -> bool:
        return bool(self.result["alignment"]["ok"])


def photo_pair_get(*, user: User, lesion_id: int, a: Any, b: Any) -> PhotoPair:
    """The two photos of the user's lesion, earlier first; Http404 for anything else (or a == b)."""
    return photo_pair_of_lesion(lesion=lesion_get(user=user, lesion_id=lesion_id), a=a, b=b)


def photo_pair_of_lesion(*, lesion: Lesion, a: Any, b: Any) -> PhotoPair:
    """Photos `a` and `b` of a lesion the caller already checked access to (the owner's, or one a
    share link covers), earlier first; Http404 for ids of any other photo, junk, or a == b."""
    try:
        ids = {int(a), int(b)}
    except (TypeError, ValueError):
        raise Http404("Choose two photos of this lesion.") from None
    if not all(0 < i < 2**63 for i in ids):  # beyond any database's integer: no such photo
        raise Http404("Choose two photos of this lesion.")
    photos = list(lesion.photos.filter(pk__in=ids).order_by("taken_at", "id").prefetch_related("analyses"))
    if len(ids) != 2 or len(photos) != 2:
        raise Http404("Choose two photos of this lesion.")
    earlier, later = photos
    return PhotoPair(lesion, earlier, later, current_analysis(earlier), current_analysis(later))


def _image(photo: Photo) -> Image.Image:
    try:
        with photo.image.open("rb") as fh:
            image = Image.open(fh)
            image.load()
            return image.convert("RGB")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("The photo file is missing from storage.") from exc


def _side(photo: Photo, analysis: Analysis | None, image: Image.Image, version: str | None) -> measuring.MeasuredPhoto:
    measures = analysis.measures if analysis is not None and analysis.measures else measuring.photo_measures(image)
    probability = None
    if analysis is not None and analysis.status == Analysis.Status.DONE and analysis.model_version == version:
        probability = analysis.malignant_probability
    return measuring.MeasuredPhoto(
        photo_id=photo.pk,
        taken_on=photo.taken_at.date(),
        measures=measures,
        malignant_probability=probability,
        features=keypoints.photo_features_cached(photo, image),
    )


def photo_pair_compare(pair: PhotoPair) -> Comparison:
    """Align, measure and compare the pair (cached by photo ids and analyses)."""
    a, b = pair.earlier_analysis, pair.later_analysis
    key = f"compare:v1:{pair.earlier.pk}:{pair.later.pk}:{a.pk if a else 0}:{b.pk if b else 0}"
    cached = cache.get(key)
    if cached is None:
        # Probabilities are compared only between analyses by one model version.
        version = a.model_version if a is not None and b is not None and a.model_version == b.model_version else None
        earlier = _side(pair.earlier, a, _image(pair.earlier), version)
        later = _side(pair.later, b, _image(pair.later), version)
        result = measuring.compare_measured(earlier, later, load_thresholds(), kind="chosen")
        cached = {"earlier": earlier.measures, "later": later.measures, "result": result}
        cache.set(key, cached, CACHE_SECONDS)
    return Comparison(pair, cached["earlier"], cached["later"], cached["result"])


def _alignment(comparison: Comparison) -> Alignment:
    data = comparison.result["alignment"]
    return Alignment(
        ok=True,
        reason=None,
        matrix=np.array(data["matrix"], dtype=float),
        scale=data["scale"],
        rotation_degrees=data["rotation_degrees"],
        shift=tuple(data["shift"]),
        inliers=data["inliers"],
        matches=data["matches"],
    )


def aligned_later_png(comparison: Comparison, *, layer: str = "photo") -> bytes:
    """The later photo (or its heatmap, or its outline) warped onto the earlier photo's pixels, as PNG.

    Http404 when the photos are not aligned (no wrong overlay is ever drawn) or the layer is missing.
    """
    if layer not in LAYERS or not comparison.aligned:
        raise Http404("These photos could not be aligned.")
    earlier_size = _image(comparison.pair.earlier).size  # (width, height)
    later_image = _image(comparison.pair.later)
    if layer == "heatmap":
        field = heatmap_file(comparison.pair.later)
        if field is None:
            raise Http404("No heatmap for this photo.")
        with field.open("rb") as fh:
            source = Image.open(fh).convert("RGB").resize(later_image.size)
        array = np.asarray(source)
    elif layer == "outline":
        from skimage.draw import polygon_perimeter

        outline = (comparison.later_measures or {}).get("outline") or []
        if not outline:
            raise Http404("No outline for this photo.")
        width, height = later_image.size
        rows = [y * height for _, y in outline]
        cols = [x * width for x, _ in outline]
        mask = np.zeros((height, width), dtype=bool)
        rr, cc = polygon_perimeter(rows, cols, shape=mask.shape)
        mask[rr, cc] = True
        # A one-pixel line would break up when resampled: draw it about 1% of the photo wide.
        mask = ndimage.binary_dilation(mask, iterations=max(1, round(max(width, height) / 200)))
        warped = warp_to_earlier(mask, _alignment(comparison), (earlier_size[1], earlier_size[0]))
        rgba = np.zeros((*warped.shape, 4), dtype=np.uint8)
        rgba[warped] = (0, 229, 255, 255)
        return _png(Image.fromarray(rgba, "RGBA"))
    else:
        array = np.asarray(later_image)
    warped = warp_to_earlier(array, _alignment(comparison), (earlier_size[1], earlier_size[0]))
    return _png(Image.fromarray(warped))


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
