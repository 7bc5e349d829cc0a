"""Draws the pictures of the /learn/size/ page: a real phone photo of a mole with a coin or a card beside it.

The skin and the mole are a PAD-UFES-20 smartphone photo (testdata/pad_ufes20/PAT_1161_578_233.jpg,
CC BY 4.0, Pacheco et al. 2020); the coin and the card are drawn here (Pillow), at the scale a mole of
about 6 mm would have beside them. Run once, from the repository root:

    python education/content/size_pictures.py

It writes static/education/size-coin.jpg, size-card.jpg and size-coin-on-spot.jpg (each under 100 KB).
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "testdata" / "pad_ufes20" / "PAT_1161_578_233.jpg"
OUT = ROOT / "static" / "education"
SIZE = (640, 480)
PX_PER_MM = 10.5  # the mole below is about 65 px, so about 6 mm, across
EURO_MM = 23.25


def _skin_and_mole() -> tuple[Image.Image, Image.Image, Image.Image]:
    """Plain skin filling the picture (the photo's top, mirrored) and the mole cut out with a soft edge."""
    photo = Image.open(SOURCE).convert("RGB")
    top = photo.crop((0, 0, photo.width, 240))
    skin = Image.new("RGB", (photo.width, 480))
    skin.paste(top, (0, 0))
    skin.paste(top.transpose(Image.Transpose.FLIP_TOP_BOTTOM), (0, 240))
    skin = skin.resize(SIZE, Image.Resampling.LANCZOS)
    mole = photo.crop((130, 240, 450, 410))
    mask = Image.new("L", mole.size, 0)
    ImageDraw.Draw(mask).ellipse((14, 10, mole.width - 14, mole.height - 10), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(12))
    scale = 0.5
    size = (round(mole.width * scale), round(mole.height * scale))
    return skin, mole.resize(size, Image.Resampling.LANCZOS), mask.resize(size, Image.Resampling.LANCZOS)


def _shadow(picture: Image.Image, shape: Image.Image, offset: tuple[int, int], blur: float, strength: float) -> None:
    """Darkens the skin under `shape` (an L mask the size of the picture), shifted and blurred."""
    shifted = Image.new("L", shape.size, 0)
    shifted.paste(shape, offset)  # not ImageChops.offset, which wraps round the edges
    shadow = shifted.filter(ImageFilter.GaussianBlur(blur))
    dark = Image.new("RGB", picture.size, (60, 45, 40))
    picture.paste(Image.blend(picture, dark, strength), (0, 0), shadow)


def _coin(diameter: int) -> tuple[Image.Image, Image.Image]:
    """A two-metal coin like a 1 euro: a silver ring round a gold centre, a raised "1", lit from the top left."""
    r = diameter / 2
    coin = Image.new("RGB", (diameter, diameter))
    pixels = coin.load()
    assert pixels is not None
    for y in range(diameter):
        for x in range(diameter):
            dx, dy = x - r + 0.5, y - r + 0.5
            d = math.hypot(dx, dy) / r
            if d > 1:
                continue
            light = 1.0 + 0.25 * (-(dx + dy) / (r * 1.41))  # brighter towards the top left
            if d > 0.93 or 0.70 < d < 0.74:
                base = (150, 150, 155) if d > 0.93 else (170, 140, 70)  # the rims
            elif d > 0.72:
                base = (196, 198, 204)  # silver ring
            else:
                base = (206, 166, 82)  # gold centre
            pixels[x, y] = tuple(min(255, round(c * light)) for c in base)
    draw = ImageDraw.Draw(coin)
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", round(diameter * 0.42))
    except OSError:
        font = ImageFont.load_default(round(diameter * 0.42))
    centre = (r, r * 1.02)
    draw.text((centre[0] + 2, centre[1] + 2), "1", font=font, fill=(120, 92, 40), anchor="mm")
    draw.text(centre, "1", font=font, fill=(232, 200, 120), anchor="mm")
    for k in range(12):  # the stars on the ring
        a = 2 * math.pi * k / 12
        star_x, star_y = r + 0.83 * r * math.cos(a), r + 0.83 * r * math.sin(a)
        draw.regular_polygon((star_x, star_y, diameter * 0.018), 5, fill=(160, 162, 170))
    mask = Image.new("L", coin.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, diameter - 1, diameter - 1), fill=255)
    return coin.filter(ImageFilter.GaussianBlur(0.6)), mask


def _with_coin(centre: tuple[int, int], mole_at: tuple[int, int]) -> Image.Image:
    skin, mole, mole_mask = _skin_and_mole()
    picture = skin.copy()
    picture.paste(mole, mole_at, mole_mask)
    diameter = round(EURO_MM * PX_PER_MM)
    coin, mask = _coin(diameter)
    corner = (centre[0] - diameter // 2, centre[1] - diameter // 2)
    shape = Image.new("L", SIZE, 0)
    shape.paste(mask, corner)
    _shadow(picture, shape, (6, 8), 6, 0.55)
    picture.paste(coin, corner, mask)
    return picture


def coin_beside() -> Image.Image:
    return _with_coin((445, 250), (60, 205))


def coin_on_spot() -> Image.Image:
    return _with_coin((345, 240), (120, 205))


def card_beside() -> Image.Image:
    skin, mole, mole_mask = _skin_and_mole()
    picture = skin.copy()
    picture.paste(mole, (130, 120), mole_mask)
    w, h = round(85.60 * PX_PER_MM), round(53.98 * PX_PER_MM)
    card = Image.new("RGB", (w, h), (38, 92, 160))
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, round(h * 0.18), w, round(h * 0.30)), fill=(24, 60, 112))  # a stripe
    draw.rounded_rectangle((60, 150, 150, 220), radius=10, fill=(214, 182, 96))  # the chip
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=round(3.18 * PX_PER_MM), fill=255)
    card = card.rotate(-8, resample=Image.Resampling.BICUBIC, expand=True)
    mask = mask.rotate(-8, resample=Image.Resampling.BICUBIC, expand=True)
    corner = (300, 250)
    shape = Image.new("L", SIZE, 0)
    shape.paste(mask, corner)
    _shadow(picture, shape, (5, 7), 5, 0.5)
    picture.paste(card, corner, mask)
    return picture


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, picture in (
        ("size-coin.jpg", coin_beside()),
        ("size-card.jpg", card_beside()),
        ("size-coin-on-spot.jpg", coin_on_spot()),
    ):
        path = OUT / name
        picture.save(path, format="JPEG", quality=80, optimize=True, progressive=True)
        print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
