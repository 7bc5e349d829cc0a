"""What every journey checks on each page it visits, in Debian's Chromium.

- axe-core (npm, `node_modules/axe-core`) finds no WCAG 2.2 A/AA violation;
- at the phone size, the page is no wider than the screen (nothing slides sideways);
- with SCREENSHOTS=<folder> in the environment, the journey's key pages are saved there as PNG
  (how docs/screenshots/ was made); without it nothing is written, so CI leaves the tree clean.

axe is served to the page from its own origin (a routed `/__axe__.js`), so it runs under the
site's real Content-Security-Policy (`script-src 'self'`) instead of a policy bypassed for tests.
"""

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__axe__.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Phone screenshots at device_scale_factor 1 keep the committed PNGs small.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])

axe_marks = [
    # `npm ci` installs it (.ci/run does); CI must run the journeys, a bare checkout skips them.
    pytest.mark.skipif(not AXE.exists() and not os.environ.get("CI"), reason="needs axe-core: npm ci (package.json)"),
]


class Journey:
    """One person's way through the site on one screen; `check()` each page it reaches."""

    def __init__(self, page, *, name: str, screen: dict) -> None:
        self.page = page
        self.name = name
        self.phone = bool(screen.get("is_mobile"))
        self.size = "phone" if self.phone else "desktop"
        self.problems: list[str] = []
        self.shots = 0
        assert AXE.exists(), f"{AXE} is missing: run `npm ci` (package.json)"
        serve_axe(page.context)

    def check(self, shot: str = "") -> None:
        """axe and the width on the page as it is now; a screenshot named `shot` if asked for."""
        page = self.page
        page.wait_for_load_state("load")
        # A button's colour fading after a click (Pico's 0.2 s transitions) is measured once it ends.
        page.evaluate(SETTLED)
        where = page.url
        for violation in axe_violations(page):
            nodes = "; ".join(_node(node) for node in violation["nodes"][:5])
            self.problems.append(
                f"{where}: axe {violation['id']} ({violation['impact']}), {violation['help']}: {nodes}"
            )
        if self.phone:
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > page.viewport_size["width"]:
                wide = page.evaluate(WIDEST)
                self.problems.append(f"{where}: {width} px wide on a {page.viewport_size['width']} px phone ({wide})")
        folder = os.environ.get("SCREENSHOTS")
        if shot and folder:
            self.shots += 1
            path = Path(folder) / f"{self.name}-{self.size}-{self.shots:02d}-{shot}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            png = page.screenshot(full_page=False, animations="disabled", caret="hide")
            # 128 colours without dithering: a third of the bytes, the text and photos still clear.
            image = Image.open(io.BytesIO(png)).convert("RGB")
            image.quantize(128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def _node(node: dict) -> str:
    """The element, and for a contrast failure its colours (what to change in the CSS)."""
    data = next((check.get("data") for check in node.get("any", []) if isinstance(check.get("data"), dict)), None)
    colours = f" [{data.get('fgColor')} on {data.get('bgColor')}: {data.get('contrastRatio')}]" if data else ""
    return " ".join(node["target"]) + colours


def serve_axe(context) -> None:
    source = AXE.read_text()
    context.route(
        re.compile(r".*/__axe__\.js$"), lambda route: route.fulfill(body=source, content_type="text/javascript")
    )


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    return page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(r => r.violations)",
        WCAG_22_AA,
    )


# Waits for the page's finite animations and transitions (an endless spinner never ends).
SETTLED = """() => Promise.all(document.getAnimations()
  .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
  .map((a) => a.finished.catch(() => null)))"""

# Names the elements that stick out past the right edge, to say what to fix.
WIDEST = """() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    let scrolled = false;  // inside a box that scrolls (or clips) it: not what widens the page
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') { scrolled = true; break; }
    }
    if (!scrolled && r.right > w + 1 && r.width > 0) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      const cls = typeof el.className === 'string' && el.className ? el.className.trim() : '';
      const classes = cls ? '.' + cls.replace(/ +/g, '.') : '';
      out.push(name + classes + ' ' + Math.round(r.right));
    }
  }
  return out.slice(0, 6).join(', ');
}"""
