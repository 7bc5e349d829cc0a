"""What a comparison of two photos shows, beside the views that show it.

One answer shape serves every reader: the compare API (lesions.api.lesions), the patient's
compare page (lesions.views.lesion_compare) and a physician's (sharing.report_views). Each reader
names the picture URLs it may open (`ComparisonLinks`): a physician's page must never point at the
patient's login-only addresses. The comparing itself is lesions.comparison.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from inference.models import Analysis
from lesions import comparison, selectors
from lesions.models import Lesion, Photo


@dataclass(frozen=True)
class ComparisonLinks:
    """Where a comparison's pictures are served: absolute API URLs for a token, the patient's
    compare page, and a physician's report, whose pictures must come from report URLs (the
    patient's need the patient's login)."""

    photo: Callable[[Photo], str]
    heatmap: Callable[[Photo], str]  # asked only for a photo whose analysis has a heatmap
    aligned: Callable[[comparison.PhotoPair, str], str]  # the later photo on the earlier, by layer


def pair_query(pair: comparison.PhotoPair, layer: str | None = None) -> str:
    """`?a=<earlier>&b=<later>` (and `&layer=`): how every compare URL names its pair."""
    return f"?a={pair.earlier.pk}&b={pair.later.pk}" + (f"&layer={layer}" if layer else "")


def comparison_data(result: comparison.Comparison, links: ComparisonLinks) -> dict[str, Any]:
    """The compare API's answer, also the compare pages' (patient and physician), each with its `links`."""
    pair = result.pair

    def side(photo: Photo, analysis: Analysis | None, measures: dict[str, Any] | None) -> dict[str, Any]:
        done = analysis if analysis is not None and analysis.status == Analysis.Status.DONE else None
        return {
            "photo_id": photo.pk,
            "taken_at": photo.taken_at,
            "image_url": links.photo(photo),
            "heatmap_url": links.heatmap(photo) if done and done.heatmap else None,
            "measures": measures,
            "size": (measures or {}).get("size"),
            "advice": done.advice if done else None,
        }

    aligned = result.aligned
    has_heatmap = bool(pair.later_analysis and pair.later_analysis.heatmap)
    has_outline = bool((result.later_measures or {}).get("outline"))
    return {
        "earlier": side(pair.earlier, pair.earlier_analysis, result.earlier_measures),
        "later": side(pair.later, pair.later_analysis, result.later_measures),
        "alignment": result.result["alignment"],
        "relative_area": result.result["relative_area"],
        "growth_mm": result.result.get("growth_mm"),
        "changes": result.result["changes"],
        "sentences": result.result["sentences"],
        "aligned_later_url": links.aligned(pair, "photo") if aligned else None,
        "aligned_later_heatmap_url": links.aligned(pair, "heatmap") if aligned and has_heatmap else None,
        "aligned_later_outline_url": links.aligned(pair, "outline") if aligned and has_outline else None,
    }


def compare_page_context(
    request: HttpRequest, lesion: Lesion, links: ComparisonLinks, *, with_not_assessable: bool = True
) -> dict[str, Any]:
    """What a compare page shows (the patient's, a physician's): the lesion's photos and, with two or
    more, the pair `?a=&b=` (default: the first and the last assessable photo) compared, pictures from
    `links`. A physician's page (`with_not_assessable=False`) does not list photos refused as not
    assessable. The caller has checked access to `lesion`; photos of any other lesion are Http404."""
    photos = list(lesion.photos.order_by("taken_at", "id"))
    results = list(selectors.assessable_photos(lesion.photos.order_by("taken_at", "id")))
    if not with_not_assessable:
        photos = results
    context: dict[str, Any] = {"lesion": lesion, "photos": photos}
    # The default pair is two results; with fewer than two, the first and last of all photos.
    defaults = results if len(results) >= 2 else photos
    if len(photos) >= 2:
        a, b = request.GET.get("a", defaults[0].pk), request.GET.get("b", defaults[-1].pk)
        pair = comparison.photo_pair_of_lesion(lesion=lesion, a=a, b=b)
        result = comparison.photo_pair_compare(pair)
        context |= {"pair": pair, "result": result, "data": comparison_data(result, links)}
    return context
