"""The shared report as a PDF, and the probability and size charts drawn once for the PDF and the HTML report.

Pure Python (ReportLab): no browser, no system libraries, so the web process builds a PDF in
well under a second for a typical report. The chart is a ReportLab drawing: embedded as vector
graphics in the PDF and rendered to SVG for the HTML report, so both show the same picture.
"""

import base64
import importlib.util
import io
import logging
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import timezone
from PIL import Image as PILImage
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.legends import LineLegend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from inference.models import Analysis
from lesions.imaging import THUMBNAIL_SIZE
from lesions.models import Photo
from lesions.size_words import size_summary, size_words
from sharing.selectors import ReportSection
from training.contract import CLASS_LABELS, CLASSES

logger = logging.getLogger(__name__)

# The same colours as the patient's chart (static/skinsite/timeline.js).
CLASS_COLOURS = {
    "akiec": "#e67e22",
    "bcc": "#d35400",
    "bkl": "#16a085",
    "df": "#8e44ad",
    "mel": "#c0392b",
    "nv": "#2980b9",
    "vasc": "#7f8c8d",
}
MALIGNANT_LABEL = "Any malignant type (akiec + bcc + mel)"
NOT_A_DIAGNOSIS = (
    "Not a diagnosis. Skinsite's results come from a computer model and can be wrong. They inform; "
    "they do not diagnose. If a lesion changes, bleeds, itches or worries you, see a doctor or dermatologist."
)


@lru_cache(maxsize=1)
def _font_names() -> tuple[str, str]:
    """A TrueType font that covers patients' names in most scripts, registered once per process.

    The PDF core fonts only know Latin-1. DejaVu Sans ships with matplotlib (a requirement);
    ReportLab's own Vera is the fallback.
    """
    candidates = []
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.submodule_search_locations:
        ttf = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
        candidates.append((ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"))
    reportlab = importlib.util.find_spec("reportlab")
    assert reportlab is not None and reportlab.submodule_search_locations  # a package, imported above
    rl_fonts = Path(reportlab.submodule_search_locations[0]) / "fonts"
    candidates.append((rl_fonts / "Vera.ttf", rl_fonts / "VeraBd.ttf"))
    for regular, bold in candidates:
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("Report", str(regular)))
            pdfmetrics.registerFont(TTFont("Report-Bold", str(bold)))
            return "Report", "Report-Bold"
    return "Helvetica", "Helvetica-Bold"


# --- The chart -------------------------------------------------------------------------------


def chart_drawing(chart: dict, *, width: float = 17 * cm, height: float = 8.5 * cm) -> Drawing | None:
    """The probability chart of one lesion from `lesions.charts.timeline_chart_data`; None if empty.

    Photos sit at their dates on the x axis (not evenly spaced), so a fast change reads as one.
    """
    if not chart["labels"]:
        return None
    days = [date.fromisoformat(label).toordinal() for label in chart["labels"]]
    series = [(c["label"], CLASS_COLOURS[c["code"]], c["values"]) for c in chart["classes"]]
    series.append((MALIGNANT_LABEL, "#000000", chart["malignant"]))

    legend_height = 2.2 * cm
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = 1.3 * cm, legend_height + 0.8 * cm
    plot.width, plot.height = width - 1.8 * cm, height - legend_height - 1.6 * cm
    _draw_bands(drawing, plot, chart.get("bands"))
    # The malignant line first, so underneath: wide and pale, it often runs with the melanoma line,
    # which is drawn over it and stays visible. The legend keeps the series' order.
    drawn = [series[-1], *series[:-1]]
    plot.data = [list(zip(days, values, strict=True)) for _, _, values in drawn]
    for index, (_, colour, _) in enumerate(drawn):
        line = plot.lines[index]
        line.strokeColor = colors.HexColor(colour)
        line.strokeWidth = 1.6 if colour == CLASS_COLOURS["mel"] else 1.2
        line.symbol = makeMarker("FilledCircle", size=3, fillColor=colors.HexColor(colour))
    malignant = plot.lines[0]
    malignant.strokeColor = colors.Color(0, 0, 0, alpha=0.45)
    malignant.strokeWidth = 3.5
    malignant.strokeDashArray = [5, 3]

    first, last = min(days), max(days)
    # One photo (or one day) still needs a visible axis: pad it by a few days either side.
    span = max(last - first, 1)
    plot.xValueAxis.valueMin = first - max(span // 20, 3)
    plot.xValueAxis.valueMax = last + max(span // 20, 3)
    distinct = sorted(set(days))
    if len(distinct) <= 6:
        plot.xValueAxis.valueSteps = distinct
    plot.xValueAxis.labelTextFormat = lambda value: date.fromordinal(round(value)).strftime("%d %b %Y")
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 1, 0.25
    plot.yValueAxis.labelTextFormat = lambda value: f"{value:.0%}"
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.dx = -3
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#e4e7eb")
    drawing.add(plot)

    legend = LineLegend()
    legend.alignment = "right"  # swatch, then its label
    legend.x, legend.y = 1.3 * cm, legend_height - 0.2 * cm
    legend.columnMaximum = 4
    legend.fontSize = 7
    legend.dx, legend.dy = 14, 2
    legend.deltay = 12
    legend.dxTextSpace = 4
    legend.deltax = width / 2 - 1 * cm
    legend.colorNamePairs = [(colors.HexColor(colour), label) for label, colour, _ in series]
    drawing.add(legend)
    drawing.add(String(1.3 * cm, height - 0.35 * cm, "Estimated probability of each lesion type", fontSize=8))
    return drawing


BAND_FILLS = {"low": "#e8f3ec", "medium": "#fcf0e1", "high": "#f9e5e4"}


def _draw_bands(drawing: Drawing, plot: LinePlot, bands: dict[str, float] | None) -> None:
    """The advice's bands behind the plot: where "medium" and "high" start on the malignant line."""
    if not bands:
        return
    for band, start, end in (
        ("low", 0.0, bands["medium"]),
        ("medium", bands["medium"], bands["high"]),
        ("high", bands["high"], 1.0),
    ):
        if end <= start:
            continue
        bottom = plot.y + start * plot.height
        drawing.add(
            Rect(
                plot.x,
                bottom,
                plot.width,
                (end - start) * plot.height,
                fillColor=colors.HexColor(BAND_FILLS[band]),
                strokeColor=None,
            )
        )
        drawing.add(
            String(
                plot.x + 3,
                bottom + (end - start) * plot.height - 8,
                f"{band} advice band",
                fontSize=6,
                fillColor=colors.HexColor("#52606d"),
            )
        )


def size_chart_drawing(chart: dict, *, width: float = 17 * cm, height: float = 6 * cm) -> Drawing | None:
    """The longest diameter in mm at each photo's date, with error bars (one standard deviation) and
    the 6 mm line, from `timeline_chart_data`'s "size"; None when no photo has a size."""
    size = chart.get("size") or {}
    if not chart["labels"] or not size.get("any"):
        return None
    days = [date.fromisoformat(label).toordinal() for label in chart["labels"]]
    measured = [
        (day, value, error or 0.0)
        for day, value, error in zip(days, size["values"], size["errors"], strict=True)
        if value is not None
    ]
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = 1.3 * cm, 0.9 * cm
    plot.width, plot.height = width - 1.8 * cm, height - 1.7 * cm
    plot.data = [[(day, value) for day, value, _ in measured]]
    plot.lines[0].strokeColor = colors.HexColor("#374151")
    plot.lines[0].strokeWidth = 1.4
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3.5, fillColor=colors.HexColor("#374151"))
    first, last = min(days), max(days)
    span = max(last - first, 1)
    x_min, x_max = first - max(span // 20, 3), last + max(span // 20, 3)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = x_min, x_max
    distinct = sorted({day for day, _, _ in measured})
    if len(distinct) <= 6:
        plot.xValueAxis.valueSteps = distinct
    plot.xValueAxis.labelTextFormat = lambda value: date.fromordinal(round(value)).strftime("%d %b %Y")
    plot.xValueAxis.labels.fontSize = 7
    six = float(size["six_mm"])
    top = max([six + 1] + [value + error for _, value, error in measured])
    y_max = float(int(top) + 1)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, y_max
    plot.yValueAxis.valueStep = 1 if y_max <= 10 else 2 if y_max <= 20 else 5
    plot.yValueAxis.labelTextFormat = lambda value: f"{value:g}"
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.dx = -3
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#e4e7eb")
    drawing.add(plot)

    def to_x(day: float) -> float:
        return plot.x + (day - x_min) / (x_max - x_min) * plot.width

    def to_y(mm: float) -> float:
        return plot.y + max(0.0, min(mm, y_max)) / y_max * plot.height

    red = colors.HexColor("#c9302c")
    drawing.add(Line(plot.x, to_y(six), plot.x + plot.width, to_y(six), strokeColor=red, strokeDashArray=[4, 3]))
    drawing.add(String(plot.x + 3, to_y(six) + 2, f"{six:g} mm", fontSize=6.5, fillColor=red))
    dark = colors.HexColor("#1f2937")
    for day, value, error in measured:
        if not error:
            continue
        x, low, high = to_x(day), to_y(value - error), to_y(value + error)
        for x1, y1, x2, y2 in ((x, low, x, high), (x - 3, low, x + 3, low), (x - 3, high, x + 3, high)):
            drawing.add(Line(x1, y1, x2, y2, strokeColor=dark, strokeWidth=0.8))
    drawing.add(
        String(1.3 * cm, height - 0.35 * cm, "Longest diameter in mm (bars: ± one standard deviation)", fontSize=8)
    )
    return drawing


def _svg_data_uri(drawing: Drawing | None) -> str:
    if drawing is None:
        return ""
    svg = renderSVG.drawToString(drawing)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def chart_svg_data_uri(chart: dict) -> str:
    """The chart as an SVG data URI for an <img> (no script runs in an image), or "" if empty."""
    return _svg_data_uri(chart_drawing(chart))


def size_chart_svg_data_uri(chart: dict) -> str:
    """The size chart as an SVG data URI, or "" when no photo has a size."""
    return _svg_data_uri(size_chart_drawing(chart))


# --- The PDF ---------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _font_names()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=bold, alignment=TA_LEFT, fontSize=18),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, spaceBefore=14),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontName=regular, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontName=regular, fontSize=8, leading=10),
        "date": ParagraphStyle("date", parent=base["BodyText"], fontName=bold, fontSize=9.5, leading=13),
        "notice": ParagraphStyle(
            "notice",
            parent=base["BodyText"],
            fontName=regular,
            fontSize=9,
            leading=12,
            borderColor=colors.HexColor("#c9302c"),
            borderWidth=0.8,
            borderPadding=6,
            backColor=colors.HexColor("#fbeeee"),
            spaceBefore=6,
            spaceAfter=10,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    # Paragraph parses a little XML: anything a patient typed is escaped first.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _thumbnail(photo: Photo, width: float = 3.2 * cm) -> Image | str:
    field = photo.thumbnail_file
    try:
        with field.open("rb") as fh:
            data = io.BytesIO(fh.read())
    except (OSError, ValueError):
        logger.warning("Photo %s has no readable file for the PDF", photo.pk)
        return "(photo missing)"
    ratio = (photo.height / photo.width) if photo.width and photo.height else 0.75
    return Image(data, width=width, height=width * ratio)


def _heatmap(analysis: Analysis | None, styles: dict, width: float = 3.2 * cm) -> list:
    """Where the model looked, beside the photo; nothing until the analysis is done with a heatmap."""
    if analysis is None or analysis.status != Analysis.Status.DONE or not analysis.heatmap:
        return []
    try:
        with analysis.heatmap.open("rb") as fh:
            overlay = PILImage.open(fh)
            overlay.load()
    except (OSError, ValueError):
        logger.warning("Analysis %s has no readable heatmap for the PDF", analysis.pk)
        return []
    # The stored overlay is larger than the photo's thumbnail; a PDF of many photos stays small.
    overlay.thumbnail(THUMBNAIL_SIZE)
    data = io.BytesIO()
    overlay.convert("RGB").save(data, format="JPEG", quality=85)
    data.seek(0)
    return [
        Image(data, width=width, height=width * overlay.height / overlay.width),
        _p("Where the model looked (red: weighed most)", styles["small"]),
    ]


def _measure_lines(analysis: Analysis) -> list[str]:
    """The outline's measures, what changed and the advice, as on the report page."""
    lines = []
    values = analysis.measure_values
    if values:
        colours = ", ".join(values["colours"]) or "none"
        lines.append(
            f"Measured: asymmetry {values['asymmetry']:.2f}, border irregularity "
            f"{values['border_irregularity']:.2f}, colours {values['colour_count']} ({colours})"
        )
    elif analysis.measures:
        lines.append(f"Could not outline the lesion: {analysis.measures.get('reason_text') or 'no outline'}.")
    if analysis.change_sentences:
        lines.append("What changed: " + " ".join(analysis.change_sentences))
    elif analysis.change:
        lines.append("No measured change against the previous and first photos.")
    if analysis.advice:
        band = analysis.advice.get("band")
        lines.append(f"Advice{f' ({band})' if band else ''}: {analysis.advice['title']}. {analysis.advice['text']}")
    return lines


def _size_lines(analysis: Analysis, photo: Photo) -> list[str]:
    """The size in mm as the report page says it (lesions.size_words); nothing for an older analysis."""
    device = photo.device if photo.device_id else None
    words = size_words(
        (analysis.measures or {}).get("size"),
        coin_diameter_mm=photo.coin_diameter_mm,
        device_name=device.name if device else "",
    )
    if words is None:
        return []
    if not words.ok:
        return [f"No size in mm: {words.reason}"]
    return [f"Size: {words.across}. {words.flag_text}", words.details]


def _analysis_cells(analysis: Analysis | None, styles: dict, photo: Photo | None = None) -> list:
    if analysis is None:
        return [_p("Not analysed yet.", styles["small"])]
    if analysis.status == Analysis.Status.FAILED:
        return [_p(f"Analysis failed: {analysis.error}", styles["small"])]
    if analysis.status == Analysis.Status.NOT_ASSESSABLE:
        return [_p(f"Not assessable: {analysis.error}.", styles["small"])]
    if analysis.status != Analysis.Status.DONE:
        return [_p("Analysis still running.", styles["small"])]
    lines = [
        f"Most likely: {analysis.predicted_label} ({analysis.predicted_class})",
        f"Chance of a malignant type: {analysis.malignant_probability:.0%}",
        "  ".join(f"{code} {getattr(analysis, f'p_{code}'):.0%}" for code in CLASSES),
    ]
    if analysis.inputs_sentence:
        lines.append(f"{analysis.inputs_sentence}.")
    if analysis.photo_type_sentence_for_physician:
        lines.append(f"{analysis.photo_type_sentence_for_physician}.")
    lines += _measure_lines(analysis)
    if photo is not None:
        lines += _size_lines(analysis, photo)
    lines.append(f"Model {analysis.model_version}")
    return [_p(line, styles["small" if i else "body"]) for i, line in enumerate(lines)]


def _section_flowables(section: ReportSection, styles: dict) -> list:
    lesion = section.lesion
    since = section.followed_since
    flow: list = [
        CondPageBreak(6 * cm),
        _p(lesion.name, styles["h2"]),
        _p(
            f"{lesion.get_body_site_display()}{f' · followed since {since:%d %b %Y}' if since else ''} · "
            f"{len(section.history)} photo{'s' if len(section.history) != 1 else ''}",
            styles["body"],
        ),
        Spacer(1, 6),
    ]
    if section.assessment is not None:  # the lesion's answer leads, as on the report page
        answer = section.assessment
        band = answer.get("band")
        lead = f"{answer['title']}{f' ({band})' if band else ''}."
        if band == "high":
            malignant = answer["most_likely_malignant"]
            lead += f" Most likely malignant type: {malignant['label']} ({malignant['probability']:.0%})."
        flow += [_p(lead, styles["body"]), Spacer(1, 6)]
    summary = size_summary(section.history)
    if summary is not None:
        flow += [_p(summary.sentence, styles["small"]), Spacer(1, 6)]
    drawing = chart_drawing(section.chart)
    if drawing is not None:
        flow.append(drawing)
        size_drawing = size_chart_drawing(section.chart)
        if size_drawing is not None:
            flow += [Spacer(1, 4), size_drawing]
    elif section.history:
        flow.append(_p("The chart appears once the first analysis is done.", styles["small"]))
    if not section.history:
        flow.append(_p("No photos yet.", styles["body"]))
        return flow
    # The heatmap sits beside its photo; the date heads the text so the estimates keep their width.
    rows = [
        [
            _thumbnail(entry.photo),
            _heatmap(entry.analysis, styles),
            [
                _p(f"{timezone.localtime(entry.photo.taken_at):%d %b %Y}", styles["date"]),
                *_analysis_cells(entry.analysis, styles, entry.photo),
            ],
        ]
        for entry in section.history
    ]
    table = Table(rows, colWidths=[3.6 * cm, 3.6 * cm, 9.8 * cm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEABOVE", (0, 0), (-1, -1), 0.4, colors.HexColor("#cbd2d9")),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    flow.append(Spacer(1, 6))
    flow.append(table)
    return flow


def report_pdf_build(
    *,
    patient_name: str,
    sections: list[ReportSection],
    shared_with: str = "",
    message: str = "",
    expires_at: datetime | None = None,
) -> bytes:
    """The report for `sections` as PDF bytes: who, when, the notice, then each lesion's chart and photos."""
    styles = _styles()
    regular, _ = _font_names()
    generated = timezone.localtime()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.8 * cm,
        bottomMargin=1.8 * cm,
        title=f"Skin lesion report: {patient_name}",
        author="Skinsite",
        subject="Photos of skin lesions over time with a computer model's estimates (not a diagnosis)",
    )
    story: list = [_p(f"Skin lesion report: {patient_name}", styles["title"])]
    facts = f"Generated {generated:%d %b %Y %H:%M %Z}"
    if shared_with:
        facts += f" · shared with {shared_with}"
    if expires_at:
        facts += f" · link valid until {timezone.localtime(expires_at):%d %b %Y}"
    story.append(_p(facts, styles["small"]))
    if message:
        story += [Spacer(1, 6), _p(f"Message from {patient_name}:\n{message}", styles["body"])]
    story.append(_p(NOT_A_DIAGNOSIS, styles["notice"]))
    story.append(
        _p(
            "Lesion types (HAM10000): "
            + "; ".join(f"{code} = {label}" for code, label in CLASS_LABELS.items())
            + ". Malignant types: akiec, bcc, mel.",
            styles["small"],
        )
    )
    if not sections:
        story.append(_p("No lesions to show.", styles["body"]))
    for section in sections:
        story += _section_flowables(section, styles)

    def _footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.HexColor("#616e7c"))
        canvas.drawString(2 * cm, 1 * cm, f"Skinsite report for {patient_name} · not a diagnosis")
        canvas.drawRightString(A4[0] - 2 * cm, 1 * cm, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
