"""Two photos of one lesion compared: the later one aligned to the earlier, both measured, what changed.

Reads only (a selector module): the owner's lesion and photos or Http404, the stored measures of
each photo's current analysis (measured here when an older analysis has none), and the alignment,
kept in the cache for an hour because finding keypoints takes about a second a photo (and the
keypoints of each photo for a day, inference.keypoints, for its other pairs). The web
process uses scikit-image here, never TensorFlow.

Photos are decoded at a bounded working size (WORKING_SIDE on the long side; a JPEG at a half,
a quarter or an eighth of its size by Pillow's draft mode, before any numpy work): a 40-megapixel
photo decoded and warped at full size cost the web process about 3.7 GB for one picture. The
alignment is still stated in each photo's full-size pixels, as the API documents it. The aligned
pictures are cached, and at most COMPARE_IMAGE_CONCURRENCY are drawn at once in a process; the
next one is refused (ComparisonBusy, a 429 with Retry-After) rather than queued in memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
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
WORKING_SIDE = 2048  # long side, in pixels, photos are decoded at for comparing
BUSY_RETRY_SECONDS = 5

_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None


class ComparisonBusy(Exception):
    """As many aligned pictures as this process may draw at once are being drawn; try again soon."""

    retry_after = BUSY_RETRY_SECONDS


def _drawing_slots() -> threading.BoundedSemaphore:
    # Made on first use, so that the setting is read after Django's settings are configured.
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.COMPARE_IMAGE_CONCURRENCY)
        return _slots


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


def _working_size(size: tuple[int, int], max_side: int = WORKING_SIDE) -> tuple[int, int]:
    """`size` (width, height) scaled down to at most `max_side` on its long side; small ones as they are."""
    width, height = size
    if max(width, height) <= max_side:
        return width, height
    factor = max_side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def _full_size(photo: Photo) -> tuple[int, int]:
    """The stored photo's size, from its row or (older rows) from the file's header, not its pixels."""
    if photo.width and photo.height:
        return photo.width, photo.height
    try:
        with photo.image.open("rb") as fh, Image.open(fh) as image:
            return image.size
    except (FileNotFoundError, OSError) as exc:
        raise Http404("The photo file is missing from storage.") from exc


def _image(photo: Photo) -> tuple[Image.Image, float]:
    """The photo as RGB at its working size, and that size's scale (working pixels per full-size pixel)."""
    try:
        with photo.image.open("rb") as fh:
            stored = Image.open(fh)
            full = stored.size
            target = _working_size(full)
            image: Image.Image = stored
            if target != full:
                # JPEG: decode at 1/2, 1/4 or 1/8 of the size, never below the target; the rest is a resize.
                stored.draft("RGB", target)
                image = stored.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
            else:
                stored.load()
            rgb = image.convert("RGB")
    except (FileNotFoundError, OSError, Image.DecompressionBombError) as exc:
        raise Http404("The photo file is missing from storage.") from exc
    return rgb, max(rgb.size) / max(full)


def _side(photo: Photo, analysis: Analysis | None, version: str | None) -> measuring.MeasuredPhoto:
    image, scale = _image(photo)
    # Measured here only for an analysis from before measures were stored (at the working size).
    measures = analysis.measures if analysis is not None and analysis.measures else measuring.photo_measures(image)
    features = keypoints.photo_features_cached(photo, image)
    if features is not None and scale != 1:
        # Keypoints found at the working size, stated per full-size pixel: the alignment's matrix,
        # scale and shift stay in full-size pixels, whatever size the photo was decoded at.
        features = dataclasses.replace(features, factor=features.factor * scale)
    probability = None
    if analysis is not None and analysis.status == Analysis.Status.DONE and analysis.model_version == version:
        probability = analysis.malignant_probability
    return measuring.MeasuredPhoto(
        photo_id=photo.pk,
        taken_on=photo.taken_at.date(),
        measures=measures,
        malignant_probability=probability,
        features=features,
    )


def _size_key(analysis: Analysis | None) -> str:
    size = (analysis.measures or {}).get("size") if analysis is not None else None
    if not isinstance(size, dict):
        return "-"
    return hashlib.sha256(json.dumps(size, sort_keys=True, default=str).encode()).hexdigest()[:16]


def photo_pair_compare(pair: PhotoPair) -> Comparison:
    """Align, measure and compare the pair (cached by photo ids and analyses)."""
    a, b = pair.earlier_analysis, pair.later_analysis
    # The sizes in mm are in the key: a scale marked by hand later rewrites them in the same analyses.
    key = (
        f"compare:v2:{pair.earlier.pk}:{pair.later.pk}:{a.pk if a else 0}:{b.pk if b else 0}"
        f":{_size_key(a)}:{_size_key(b)}"
    )
    cached = cache.get(key)
    if cached is None:
        # Probabilities are compared only between analyses by one model version.
        version = a.model_version if a is not None and b is not None and a.model_version == b.model_version else None
        earlier = _side(pair.earlier, a, version)
        later = _side(pair.later, b, version)
        result = measuring.compare_measured(earlier, later, load_thresholds(), kind="chosen")
        cached = {"earlier": earlier.measures, "later": later.measures, "result": result}
        cache.set(key, cached, CACHE_SECONDS)
    return Comparison(pair, cached["earlier"], cached["later"], cached["result"])


def _alignment(comparison: Comparison, *, earlier_scale: float = 1.0, later_scale: float = 1.0) -> Alignment:
    """The comparison's alignment, between the photos at the given scales of their full sizes."""
    data = comparison.result["alignment"]
    matrix = np.array(data["matrix"], dtype=float)
    # From later working pixels to later full-size pixels, through the alignment, to earlier working pixels.
    matrix = np.diag([earlier_scale, earlier_scale, 1.0]) @ matrix @ np.diag([1 / later_scale, 1 / later_scale, 1.0])
    return Alignment(
        ok=True,
        reason=None,
        matrix=matrix,
        scale=data["scale"],
        rotation_degrees=data["rotation_degrees"],
        shift=tuple(data["shift"]),
        inliers=data["inliers"],
        matches=data["matches"],
    )


def _png_key(pair: PhotoPair, layer: str) -> str:
    # Named by both photos' uploads (ids and hashes), their analyses (the outline, the heatmap and the
    # alignment's cache come from them), the layer and the working size: it never stands for other pixels.
    a, b = pair.earlier_analysis, pair.later_analysis
    return (
        f"compare-png:v1:{WORKING_SIDE}:{pair.earlier.pk}:{pair.earlier.sha256}:{pair.later.pk}:{pair.later.sha256}"
        f":{a.pk if a else 0}:{b.pk if b else 0}:{layer}"
    )


def aligned_later_png_cached(pair: PhotoPair, *, layer: str = "photo") -> bytes:
    """`aligned_later_png` of the pair's comparison, from the cache when drawn in the last hour.

    Raises ComparisonBusy when this process is drawing as many pictures as it may at once, and
    Http404 as `aligned_later_png` does.
    """
    if layer not in LAYERS:
        raise Http404("These photos could not be aligned.")
    key = _png_key(pair, layer)
    png = cache.get(key)
    if png is not None:
        return png
    slots = _drawing_slots()
    # Wait a bounded while for a slot: one compare page asks for its three layers at once, which
    # must not fail on an ordinary visit; only a longer queue (many at once) is answered busy.
    if not slots.acquire(timeout=settings.COMPARE_IMAGE_WAIT_SECONDS):
        raise ComparisonBusy()
    try:
        png = cache.get(key)  # drawn by the request this one waited for
        if png is None:
            png = aligned_later_png(photo_pair_compare(pair), layer=layer)
    finally:
        slots.release()
    cache.set(key, png, CACHE_SECONDS)
    return png


def aligned_later_png(comparison: Comparison, *, layer: str = "photo") -> bytes:
    """The later photo (or its heatmap, or its outline) warped onto the earlier photo's pixels, as PNG,
    the earlier photo's size scaled down to WORKING_SIDE on its long side.

    Http404 when the photos are not aligned (no wrong overlay is ever drawn) or the layer is missing.
    """
    if layer not in LAYERS or not comparison.aligned:
        raise Http404("These photos could not be aligned.")
    earlier_full = _full_size(comparison.pair.earlier)  # its header only: its pixels are not needed
    earlier_size = _working_size(earlier_full)  # (width, height)
    earlier_scale = max(earlier_size) / max(earlier_full)
    later_image, later_scale = _image(comparison.pair.later)
    alignment = _alignment(comparison, earlier_scale=earlier_scale, later_scale=later_scale)
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
        warped = warp_to_earlier(mask, alignment, (earlier_size[1], earlier_size[0]))
        rgba = np.zeros((*warped.shape, 4), dtype=np.uint8)
        rgba[warped] = (0, 229, 255, 255)
        return _png(Image.fromarray(rgba, "RGBA"))
    else:
        array = np.asarray(later_image)
    warped = warp_to_earlier(array, alignment, (earlier_size[1], earlier_size[0]))
    return _png(Image.fromarray(warped))


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
