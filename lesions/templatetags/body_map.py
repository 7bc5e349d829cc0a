"""`{% body_map_svg %}`: the body map outline (static/lesions/bodymap.svg) inline in a page.

Inline, not in an <img> or <object>: the page's script must reach the regions (and the
Content-Security-Policy has `object-src 'none'`). The ids get a prefix so that two maps on one
page (the dashboard's dots and a form's picker) do not share ids.
"""

import re
from collections.abc import Sequence
from functools import cache

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from lesions.bodymap import SVG_FILE
from lesions.selectors import BodyMapDot

register = template.Library()

_ID = re.compile(r'\b(id|aria-labelledby)="([^"]+)"')
_UNKNOWN_BOX = re.compile(r'<g id="[^"]*site-unknown".*?</g>\s*', re.DOTALL)
OVERVIEW_DESC = "A human body seen from the front and from the back, with a dot for each of your lesions."
_DESC = re.compile(r"(<desc[^>]*>).*?(</desc>)", re.DOTALL)
_VIEW_OFFSET = re.compile(r'data-view="(\w+)" transform="translate\(([-\d.]+),([-\d.]+)\)"')


@cache
def _outline() -> str:
    # The file's own width and height would fix its size; the page's CSS sizes it instead.
    return SVG_FILE.read_text().replace(' width="440" height="500"', "", 1)


@cache
def view_offsets() -> dict[str, tuple[float, float]]:
    """Where each view's own coordinates start in the whole drawing: {"front": (10, 36), ...}."""
    return {view: (float(x), float(y)) for view, x, y in _VIEW_OFFSET.findall(_outline())}


@register.simple_tag
def body_map_svg(prefix: str, dots: Sequence[BodyMapDot] | None = None, css_class: str = "") -> SafeString:
    """The outline with ids `<prefix>-…`; `dots` (lesions.selectors.BodyMapDot) drawn on top, as links."""
    svg = _ID.sub(lambda m: f'{m[1]}="{" ".join(f"{prefix}-{i}" for i in m[2].split())}"', _outline())
    if css_class:
        svg = svg.replace('class="bodymap"', f'class="bodymap {css_class}"', 1)
    if dots is not None:
        # The "not sure" button means nothing on a map of placed lesions.
        svg = _UNKNOWN_BOX.sub("", svg)
        svg = _DESC.sub(rf"\g<1>{OVERVIEW_DESC}\g<2>", svg)
        views = [(view, x, y, [d for d in dots if d.view == view]) for view, (x, y) in view_offsets().items()]
        layer = render_to_string("lesions/_bodymap_dots.svg", {"views": views})
        head, _, tail = svg.rpartition("</svg>")
        svg = head + layer + "</svg>" + tail
    return mark_safe(svg)  # our own static file, and a template that escapes
