"""`prose`: render an editor's plain text as paragraphs, headings, bullet lists and bold, nothing more.

Editors are trusted with words, not with HTML: their text shares an origin with patients' private
pages, so a stray <script> must show as text. Everything is escaped first; only the few marks
described in `education.models.PROSE_HELP` become tags.
"""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_BULLET = re.compile(r"^[-*] +")


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(text.strip()))


def _block(lines: list[str], heading_tag: str) -> list[str]:
    """One block of lines without blank lines: headings, a bullet list, or a paragraph, in order."""
    html: list[str] = []
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if paragraph:
            html.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if bullets:
            html.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in bullets) + "</ul>")
            bullets.clear()

    for line in lines:
        if line.startswith("## "):
            flush()
            html.append(f"<{heading_tag}>{_inline(line[3:])}</{heading_tag}>")
        elif _BULLET.match(line):
            if paragraph:
                flush()
            bullets.append(_BULLET.sub("", line))
        else:
            if bullets:
                flush()
            paragraph.append(line)
    flush()
    return html


@register.filter
def prose(text: str | None, heading_level: int = 2) -> SafeString:
    """`{{ condition.description|prose:3 }}`: headings become <h3>, the default is <h2>."""
    level = min(max(int(heading_level), 2), 6)
    lines_by_block = [block.splitlines() for block in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n"))]
    html: list[str] = []
    for lines in lines_by_block:
        html.extend(_block([line.rstrip() for line in lines if line.strip()], f"h{level}"))
    # Safe: every piece of text went through escape() above.
    return mark_safe("\n".join(html))
