"""Synthetic photos of known size for the size study: a real lesion photo on real skin, with a coin, an
ID-1 card or a millimetre ruler of known size beside it.

A scene is laid out flat on the skin's plane at `mm_per_pixel`, then photographed: a camera tilt (a
homography of a pinhole camera turned by up to `tilt_deg` about an axis in the plane), blur, exposure,
sensor noise and JPEG compression. The lesion's true size is known because the study sets it: the source
photo is scaled so that its outline (the segmentation of the source photo) spans `lesion_mm`; the true
outline, carried through the same homography, is returned with the scene.

The references look like the real things, drawn at 3x and reduced: a coin is a metal disc with a raised
rim, shading from one side, an embossed relief and a specular highlight, with a soft shadow; a card has
rounded corners (ISO 7810: 3.18 mm), a printed pattern, a chip and lines of text; a ruler has 1 mm ticks,
longer 5 and 10 mm ticks and its centimetre digits.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from measurement.scale import ID1_CARD_MM

SUPER = 3  # references are drawn at 3x and reduced (anti-aliased edges)
METALS = {
    "silver": (188, 188, 192),
    "gold": (201, 168, 92),
    "copper": (178, 106, 62),
}


@dataclass(frozen=True)
class SceneSpec:
    kind: str  # "coin" | "card" | "ruler" | "none"
    mm_per_pixel: float  # on the skin's plane, before the camera's tilt
    lesion_mm: float  # the lesion's true long diameter
    width: int = 1600
    height: int = 1200
    tilt_deg: float = 0.0
    tilt_axis_deg: float = 0.0
    rotation_deg: float = 0.0  # of the reference
    blur: float = 0.0  # Gaussian sigma, pixels
    exposure: float = 1.0
    jpeg_quality: int = 90
    coin_mm: float = 23.25
    metal: str = "silver"
    card_colour: tuple[int, int, int] = (245, 245, 240)
    seed: int = 0
    extra_coin: bool = False  # a second coin (the two_coins case)


@dataclass
class Scene:
    image: Image.Image
    outline_px: np.ndarray  # the lesion's true outline in the photo's pixels (x, y)
    lesion_mask: np.ndarray  # bool, the photo's size
    spec: SceneSpec
    reference_px: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- references


def render_coin(diameter_px: float, metal: str, rng: np.random.Generator) -> Image.Image:
    """An RGBA coin `diameter_px` across (its shadow drawn separately)."""
    size = max(8, math.ceil(diameter_px * SUPER)) + 4
    r = diameter_px * SUPER / 2.0
    c = size / 2.0
    yy, xx = np.mgrid[:size, :size].astype(np.float64) + 0.5
    dx, dy = (xx - c) / r, (yy - c) / r
    rho = np.hypot(dx, dy)
    base = np.array(METALS.get(metal, METALS["silver"]), dtype=np.float64)
    light = np.array([math.cos(a := rng.uniform(0, 2 * math.pi)), math.sin(a)])
    # shading: brighter towards the light, a raised rim lit on one side and dark on the other
    shade = 1.0 + 0.12 * (dx * light[0] + dy * light[1])
    rim = (rho > 0.86) & (rho <= 1.0)
    rim_light = -(dx * light[0] + dy * light[1]) / np.maximum(rho, 1e-6)
    shade = np.where(rim, 1.0 + 0.22 * rim_light, shade)
    groove = (rho > 0.82) & (rho <= 0.86)
    shade = np.where(groove, shade * 0.8, shade)
    # embossed relief: a random pattern of strokes and a big numeral, lit from the light's side
    relief = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(relief)
    for _ in range(int(rng.integers(4, 9))):
        x0, y0 = rng.uniform(c - 0.6 * r, c + 0.6 * r, 2)
        x1, y1 = rng.uniform(c - 0.6 * r, c + 0.6 * r, 2)
        draw.line([(x0, y0), (x1, y1)], fill=255, width=max(1, int(r * 0.05)))
    draw.ellipse([c - 0.35 * r, c - 0.35 * r, c + 0.35 * r, c + 0.35 * r], outline=255, width=max(1, int(r * 0.06)))
    relief_array = ndimage.gaussian_filter(np.asarray(relief, dtype=np.float64) / 255.0, max(0.5, r * 0.01))
    gy, gx = np.gradient(relief_array)
    emboss = (gx * light[0] + gy * light[1]) * r * 0.12
    texture = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), max(0.5, r * 0.004)) * 0.03
    rgb = base[None, None, :] * (shade - emboss + texture)[..., None]
    # specular highlight
    hx, hy = c + light[0] * 0.45 * r, c + light[1] * 0.45 * r
    spec = np.exp(-(((xx - hx) ** 2 + (yy - hy) ** 2) / (2 * (0.18 * r) ** 2))) * rng.uniform(40, 90)
    rgb = rgb + spec[..., None]
    alpha = np.clip((1.0 - rho) * r + 0.5, 0.0, 1.0) * 255
    image = Image.fromarray(np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8), "RGBA")
    out_size = max(4, round(size / SUPER))
    return image.resize((out_size, out_size), Image.Resampling.LANCZOS)


def render_card(mm_per_pixel: float, colour: tuple[int, int, int], rng: np.random.Generator) -> Image.Image:
    """An RGBA ID-1 card at `mm_per_pixel`, axis-aligned."""
    long_mm, short_mm = ID1_CARD_MM
    px = SUPER / mm_per_pixel
    w, h = round(long_mm * px), round(short_mm * px)
    card = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle([0, 0, w - 1, h - 1], radius=round(3.18 * px), fill=(*colour, 255))
    # a printed pattern: a band, circles, a chip, lines of text
    ink = tuple(int(v) for v in rng.integers(20, 220, 3))
    if rng.random() < 0.6:
        top = rng.uniform(0.05, 0.6) * h
        draw.rectangle([0, top, w - 1, top + rng.uniform(0.08, 0.25) * h], fill=(*ink, 255))
    for _ in range(int(rng.integers(0, 4))):
        cx, cy, rr = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h, rng.uniform(0.05, 0.2) * h
        draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], outline=(*ink, 255), width=max(1, int(0.6 * px)))
    chip = (0.12 * w, 0.35 * h, 0.12 * w + 11 * px, 0.35 * h + 9 * px)
    draw.rounded_rectangle(chip, radius=round(1.2 * px), fill=(205, 175, 100, 255), outline=(150, 120, 60, 255))
    for line in range(int(rng.integers(1, 4))):
        y = 0.72 * h + line * 3.5 * px
        x = 0.08 * w
        for _ in range(int(rng.integers(6, 16))):
            letter_w = rng.uniform(1.2, 2.2) * px
            draw.rectangle([x, y, x + letter_w, y + 2.5 * px], fill=(40, 40, 40, 255))
            x += letter_w + 0.6 * px
    return card.resize((max(2, round(w / SUPER)), max(2, round(h / SUPER))), Image.Resampling.LANCZOS)


def render_ruler(mm_per_pixel: float, length_mm: float, rng: np.random.Generator) -> Image.Image:
    """An RGBA ruler `length_mm` long with 1 mm ticks, 5 and 10 mm ticks and centimetre digits."""
    px = SUPER / mm_per_pixel
    width_mm = rng.uniform(7.0, 12.0)
    w, h = round(length_mm * px), round(width_mm * px)
    colours = [(250, 250, 245), (250, 240, 170), (235, 235, 235), (255, 255, 255)]
    base = colours[int(rng.integers(0, len(colours)))]
    ruler = Image.new("RGBA", (w, h), (*base, int(rng.uniform(200, 255))))
    draw = ImageDraw.Draw(ruler)
    tick_w = max(1.0, rng.uniform(0.08, 0.16) * px)
    start = 2.0
    for mm in range(int(length_mm - 3)):
        x = (start + mm) * px
        tall = 4.5 if mm % 10 == 0 else 3.2 if mm % 5 == 0 else 2.0
        draw.rectangle([x - tick_w / 2, 0, x + tick_w / 2, tall * px], fill=(25, 25, 25, 255))
        if mm % 10 == 0 and mm > 0:
            _digits(draw, str(mm // 10), x, 5.5 * px, px)
    return ruler.resize((max(2, round(w / SUPER)), max(2, round(h / SUPER))), Image.Resampling.LANCZOS)


def _digits(draw: ImageDraw.ImageDraw, text: str, x: float, y: float, px: float) -> None:
    # block digits (no font file needed): each a small frame of strokes
    size = 2.2 * px
    for k, _ch in enumerate(text):
        left = x - size / 3 + k * size * 0.7
        draw.rectangle([left, y, left + size * 0.55, y + size], outline=(25, 25, 25, 255), width=max(1, int(0.2 * px)))


# ---------------------------------------------------------------- skin and lesion


def skin_background(photo: np.ndarray, mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Real skin to fill a `size` (w, h) canvas: the photo with its lesion filled in from around it."""
    photo = photo.astype(np.float64)
    skin = ~ndimage.binary_dilation(mask, iterations=max(2, mask.shape[0] // 30))
    filled = photo.copy()
    missing = ~skin
    # fill the lesion with skin texture from beside it (shifted copies), then any rest by a blurred fill
    if missing.any():
        rows, cols = np.nonzero(missing)
        bh, bw = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        for dy, dx in ((0, bw), (0, -bw), (bh, 0), (-bh, 0), (bh, bw), (-bh, -bw), (bh, -bw), (-bh, bw)):
            shifted = np.roll(photo, (dy, dx), axis=(0, 1))
            shifted_skin = np.roll(skin, (dy, dx), axis=(0, 1))
            take = missing & shifted_skin
            filled[take] = shifted[take]
            missing &= ~take
        if missing.any():
            weights = ndimage.gaussian_filter((~missing).astype(np.float64), photo.shape[0] / 12)
            for channel in range(3):
                blurred = ndimage.gaussian_filter(filled[..., channel] * ~missing, photo.shape[0] / 12)
                filled[..., channel][missing] = (blurred / np.maximum(weights, 1e-6))[missing]
    height, width = photo.shape[:2]
    # crop away the edge (dark dermatoscope corners), then cover the canvas
    crop = filled[height // 8 : height - height // 8, width // 8 : width - width // 8]
    picture = Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8))
    w, h = size
    factor = max(w / picture.width, h / picture.height)
    picture = picture.resize(
        (math.ceil(picture.width * factor), math.ceil(picture.height * factor)), Image.Resampling.BICUBIC
    )
    return np.asarray(picture, dtype=np.float64)[:h, :w]


def _feret_px(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    points = np.column_stack([xs, ys]).astype(np.float64)
    if len(points) > 3000:
        from measurement.references import _convex_hull_indices

        points = points[_convex_hull_indices(points)]
    diffs = points[:, None, :] - points[None, :, :]
    return float(np.hypot(diffs[..., 0], diffs[..., 1]).max()) + 1.0


def _homography(spec: SceneSpec) -> np.ndarray:
    """The photo of the flat scene by a camera turned by `tilt_deg` (pinhole, focal 1.1 x width)."""
    f = 1.1 * spec.width
    k = np.array([[f, 0, spec.width / 2.0], [0, f, spec.height / 2.0], [0, 0, 1.0]])
    axis = math.radians(spec.tilt_axis_deg)
    u = np.array([math.cos(axis), math.sin(axis), 0.0])
    angle = math.radians(spec.tilt_deg)
    ux = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    rotation = np.eye(3) * math.cos(angle) + math.sin(angle) * ux + (1 - math.cos(angle)) * np.outer(u, u)
    h = k @ rotation @ np.linalg.inv(k)
    # keep the photo's centre where it was
    centre = h @ np.array([spec.width / 2.0, spec.height / 2.0, 1.0])
    shift = np.array(
        [[1, 0, spec.width / 2.0 - centre[0] / centre[2]], [0, 1, spec.height / 2.0 - centre[1] / centre[2]], [0, 0, 1]]
    )
    return shift @ h


def _apply(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    homogeneous = np.column_stack([points, np.ones(len(points))]) @ h.T
    return homogeneous[:, :2] / homogeneous[:, 2:3]


def build_scene(
    spec: SceneSpec, lesion_photo: np.ndarray, lesion_mask: np.ndarray, skin_photo: np.ndarray, skin_mask: np.ndarray
) -> Scene:
    """One photo of known size (see the module's docstring)."""
    rng = np.random.default_rng(spec.seed)
    w, h = spec.width, spec.height
    canvas = skin_background(skin_photo, skin_mask, (w, h))
    # the lesion: scaled so its outline spans lesion_mm, pasted with a soft edge of its own skin
    feret_src = _feret_px(lesion_mask)
    k = spec.lesion_mm / spec.mm_per_pixel / feret_src
    src = Image.fromarray(lesion_photo.astype(np.uint8))
    new_size = (max(2, round(src.width * k)), max(2, round(src.height * k)))
    src = src.resize(new_size, Image.Resampling.BICUBIC)
    mask_img = Image.fromarray(lesion_mask.astype(np.uint8) * 255).resize(new_size, Image.Resampling.BILINEAR)
    mask_small = np.asarray(mask_img) > 127
    lesion_px = spec.lesion_mm / spec.mm_per_pixel
    soft = ndimage.binary_dilation(mask_small, iterations=max(2, round(0.12 * lesion_px)))
    alpha = ndimage.gaussian_filter(soft.astype(np.float64), max(1.0, 0.05 * lesion_px))
    alpha = np.clip(alpha * 1.5, 0, 1)
    alpha[mask_small] = 1.0
    # the lesion sits in the middle third of the photo, the reference in free space beside it
    ys, xs = np.nonzero(mask_small)
    lesion_cx, lesion_cy = xs.mean(), ys.mean()
    target = np.array([w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)])
    ox, oy = round(target[0] - lesion_cx), round(target[1] - lesion_cy)
    src_arr = np.asarray(src, dtype=np.float64)
    # match the pasted skin's colour to the background's around the lesion
    ring = soft & ~mask_small
    _paste(canvas, src_arr, alpha, ox, oy, ring)
    full_mask = np.zeros((h, w), dtype=bool)
    _paste_mask(full_mask, mask_small, ox, oy)
    # the reference in a free place away from the lesion
    reference_px: dict[str, Any] = {}
    lesion_radius = 0.5 * spec.lesion_mm / spec.mm_per_pixel
    homography = _homography(spec)
    if spec.kind != "none":
        ref = _reference_image(spec, rng)
        ref = ref.rotate(spec.rotation_deg, resample=Image.Resampling.BICUBIC, expand=True)
        placed = _place(ref, target, lesion_radius, (w, h), rng, homography=homography)
        if placed is not None:
            _paste_rgba(canvas, ref, placed, shadow=True)
            reference_px = {"kind": spec.kind, "box": [placed[0], placed[1], ref.width, ref.height]}
            if spec.extra_coin:
                second = render_coin(spec.coin_mm / spec.mm_per_pixel, spec.metal, rng)
                occupied = (placed[0], placed[1], ref.width, ref.height)
                spot = _place(second, target, lesion_radius, (w, h), rng, avoid=occupied, homography=homography)
                if spot is not None:
                    _paste_rgba(canvas, second, spot, shadow=True)
    # the camera: tilt, blur, exposure, noise, JPEG
    photo = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    if spec.tilt_deg > 0:
        inverse = np.linalg.inv(homography)
        coeffs = (inverse / inverse[2, 2]).flatten()[:8]
        photo = photo.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC)
        mask_photo = Image.fromarray(full_mask.astype(np.uint8) * 255).transform(
            (w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.NEAREST
        )
        full_mask = np.asarray(mask_photo) > 127
    if spec.blur > 0:
        photo = photo.filter(ImageFilter.GaussianBlur(spec.blur))
    array = np.asarray(photo, dtype=np.float64) * spec.exposure
    array = array + rng.normal(0, 2.0, array.shape)
    photo = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=spec.jpeg_quality)
    buffer.seek(0)
    photo = Image.open(buffer)
    photo.load()
    outline = _outline_points(mask_small, ox, oy)
    return Scene(
        image=photo,
        outline_px=_apply(homography, outline),
        lesion_mask=full_mask,
        spec=spec,
        reference_px=reference_px,
    )


def _reference_image(spec: SceneSpec, rng: np.random.Generator) -> Image.Image:
    if spec.kind == "coin":
        return render_coin(spec.coin_mm / spec.mm_per_pixel, spec.metal, rng)
    if spec.kind == "card":
        return render_card(spec.mm_per_pixel, spec.card_colour, rng)
    length = min(rng.uniform(40, 100), 0.75 * spec.width * spec.mm_per_pixel)
    return render_ruler(spec.mm_per_pixel, max(15.0, length), rng)


def _outline_points(mask: np.ndarray, ox: int, oy: int) -> np.ndarray:
    from skimage import measure

    contours = measure.find_contours(np.pad(mask, 1).astype(float), 0.5)
    contour = max(contours, key=len) - 1.0
    return np.column_stack([contour[:, 1] + ox, contour[:, 0] + oy])


def _paste(canvas: np.ndarray, src: np.ndarray, alpha: np.ndarray, ox: int, oy: int, ring: np.ndarray) -> None:
    h, w = canvas.shape[:2]
    sh, sw = src.shape[:2]
    x0, y0, x1, y1 = max(0, ox), max(0, oy), min(w, ox + sw), min(h, oy + sh)
    if x1 <= x0 or y1 <= y0:
        return
    part = src[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    a = alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox, None]
    target = canvas[y0:y1, x0:x1]
    ring_part = ring[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    if ring_part.any():
        gain = np.median(target[ring_part], axis=0) / np.maximum(np.median(part[ring_part], axis=0), 1.0)
        part = part * np.clip(gain, 0.6, 1.6)
    canvas[y0:y1, x0:x1] = target * (1 - a) + part * a


def _paste_mask(full: np.ndarray, mask: np.ndarray, ox: int, oy: int) -> None:
    h, w = full.shape
    sh, sw = mask.shape
    x0, y0, x1, y1 = max(0, ox), max(0, oy), min(w, ox + sw), min(h, oy + sh)
    full[y0:y1, x0:x1] |= mask[y0 - oy : y1 - oy, x0 - ox : x1 - ox]


def _place(
    ref: Image.Image,
    lesion_centre: np.ndarray,
    lesion_radius: float,
    size: tuple[int, int],
    rng: np.random.Generator,
    avoid: tuple[int, int, int, int] | None = None,
    homography: np.ndarray | None = None,
) -> tuple[int, int] | None:
    """A top-left corner where the reference lies inside the photo, clear of the lesion (and of `avoid`);
    with `homography` (the camera's tilt), inside the photo as the camera sees it: the whole reference in
    the frame, as the /learn/ page asks."""
    w, h = size
    margin = 0.03 * min(w, h)
    if ref.width + 2 * margin >= w or ref.height + 2 * margin >= h:
        return None
    opaque = np.argwhere(np.asarray(ref)[..., 3] > 128)[:, ::-1].astype(np.float64)  # (x, y)
    if len(opaque) > 600:
        opaque = opaque[rng.choice(len(opaque), 600, replace=False)]
    clearance = lesion_radius * 2.4 + 0.02 * min(w, h)  # outside the crop the study outlines the lesion on
    best: tuple[float, int, int] | None = None  # next to the lesion, as the /learn/ page asks
    for _ in range(300):
        x = rng.uniform(margin, w - ref.width - margin)
        y = rng.uniform(margin, h - ref.height - margin)
        points = opaque + np.array([x, y])
        if homography is not None:
            seen = _apply(homography, points)
            if seen.min() < margin or (seen[:, 0] > w - margin).any() or (seen[:, 1] > h - margin).any():
                continue
        if np.min(np.hypot(points[:, 0] - lesion_centre[0], points[:, 1] - lesion_centre[1])) < clearance:
            continue
        if avoid is not None:
            ax, ay, aw, ah = avoid
            inside = (points[:, 0] > ax - margin) & (points[:, 0] < ax + aw + margin)
            inside &= (points[:, 1] > ay - margin) & (points[:, 1] < ay + ah + margin)
            if inside.any():
                continue
        gap = float(np.min(np.hypot(points[:, 0] - lesion_centre[0], points[:, 1] - lesion_centre[1])))
        if best is None or gap < best[0]:
            best = (gap, round(x), round(y))
    return None if best is None else (best[1], best[2])


def _paste_rgba(canvas: np.ndarray, ref: Image.Image, at: tuple[int, int], *, shadow: bool) -> None:
    rgba = np.asarray(ref, dtype=np.float64)
    alpha = rgba[..., 3:4] / 255.0
    x, y = at
    h, w = rgba.shape[:2]
    if shadow:
        offset = max(1, round(0.03 * max(w, h)))
        soft = ndimage.gaussian_filter(alpha[..., 0], max(1.0, 0.02 * max(w, h)))[..., None] * 0.35
        region = canvas[y + offset : y + offset + h, x + offset : x + offset + w]
        hh, ww = region.shape[:2]
        region *= 1.0 - soft[:hh, :ww]
    region = canvas[y : y + h, x : x + w]
    canvas[y : y + h, x : x + w] = region * (1 - alpha) + rgba[..., :3] * alpha
