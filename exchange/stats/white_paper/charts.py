"""The white paper's charts, drawn by matplotlib (the Agg backend's SVG writer, no display) with the
CJK font of Debian's fonts-noto-cjk (``scripts/ensure-pdf``), the text turned into paths: the SVG
needs no font where it is shown, and WeasyPrint prints it into the PDF as drawn.

A chart is a picture of its section's table (which is printed under it): one bar per row, the value
of the column the section's ``ChartSpec`` names. Money is drawn in 万元.
"""

from __future__ import annotations

import base64
import io
import threading
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib: no display, ever

from matplotlib import font_manager
from matplotlib.figure import Figure

from exchange.stats.white_paper.domain import Ratio, Section, Unit

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FAMILY = "Noto Sans CJK SC"
WIDTH_IN = 6.4
_ONE_AT_A_TIME = threading.Lock()  # matplotlib's font cache and rc parameters are process-wide


@cache
def _families() -> list[str]:
    if CJK_FONT.exists():
        font_manager.fontManager.addfont(str(CJK_FONT))
        return [CJK_FAMILY, "DejaVu Sans"]
    return ["DejaVu Sans"]  # without the CJK font the labels are drawn as boxes; tests install it


def _number(value: object, unit: Unit) -> float:
    if isinstance(value, Ratio):
        return float(value.value or 0)
    number = float(value or 0)  # type: ignore[arg-type]
    if unit in (Unit.MONEY, Unit.VOUCHERS):
        return number / 1_000_000  # fen → 万元
    return number


def _shown(number: float, unit: Unit) -> str:
    if unit in (Unit.MONEY, Unit.VOUCHERS):
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    if unit in (Unit.PERCENT,):
        return f"{number * 100:.1f}%"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def chart_svg(section: Section) -> str | None:
    """The section's chart as an SVG document, or None when it has none."""
    spec = section.chart
    if spec is None or not section.rows:
        return None
    unit = section.columns[spec.value].unit
    labels = [str(row[spec.label]) for row in section.rows]
    values = [_number(row[spec.value], unit) for row in section.rows]
    params = {
        "svg.fonttype": "path",
        "svg.hashsalt": f"techx-{section.key}",  # the same figures draw the same file
        "font.family": _families(),
        "font.size": 9,
        "axes.unicode_minus": False,
    }
    with _ONE_AT_A_TIME, matplotlib.rc_context(params):
        height = 2.6 if spec.columns else 0.6 + 0.28 * len(labels)
        figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        axes = figure.add_subplot()
        if spec.columns:
            bars = axes.bar(labels, values, color="#2f6fab")
            axes.set_ylabel(spec.unit_name)
        else:
            bars = axes.barh(labels, values, color="#2f6fab")
            axes.invert_yaxis()  # the first row on top, as in the table
            axes.set_xlabel(spec.unit_name)
        axes.bar_label(bars, labels=[_shown(v, unit) if v else "" for v in values], padding=2, fontsize=7)
        axes.set_title(spec.title, fontsize=10)
        axes.spines[["top", "right"]].set_visible(False)
        axes.margins(x=0.12) if not spec.columns else axes.margins(y=0.15)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": "TechX"})
    return out.getvalue()


def data_uri(svg: str) -> str:
    """The SVG as an ``<img src>``: each chart its own document (no clash of ids between charts on a page)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
