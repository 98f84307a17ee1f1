"""The white paper as one value and as people read it: ``white_paper`` gathers its sections (one
read transaction, the figures as of one snapshot); ``shown_sections`` writes each cell as the
pages write money, counts and moments (yuan, Beijing time) and draws each chart; ``html`` and
``pdf`` render the same template for the screen, the download and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.stats.white_paper.charts import chart_svg, data_uri
from exchange.stats.white_paper.domain import Ratio, Section, Unit, check_year
from exchange.stats.white_paper.sections import SectionMaker, sections_of
from exchange.web.formats import chinese_date, yuan
from exchange.web.templating import template_environment
from kernel.printing import print_html

TEMPLATE = "stats/white_paper_pdf.html"
NUMBERS = "一二三四五六七八九十"
ISSUER = "TechX 技术交易所"


@dataclass(frozen=True)
class WhitePaper:
    year: int
    generated_at: datetime
    sections: list[Section]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


async def white_paper(
    session: AsyncSession, year: int, now: datetime, makers: list[SectionMaker] | None = None
) -> WhitePaper:
    """The white paper of the Beijing calendar year ``year``: every section of ``SECTIONS``, in order."""
    check_year(year)
    return WhitePaper(year, now, await sections_of(session, year, makers))


# -- as people read it ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownSection:
    number: str  # 一、二、… from the section's place
    key: str
    title: str
    headers: list[str]
    numeric: list[bool]  # the columns aligned right
    rows: list[list[str]]
    total: list[str] | None
    chart: str | None  # a data URI of the chart's SVG
    chart_title: str
    note: str


def cell(value: Any, unit: Unit) -> str:
    """A value as the white paper writes it."""
    if value is None:
        return "—"
    if unit in (Unit.MONEY, Unit.VOUCHERS):
        return yuan(int(value))
    if unit is Unit.COUNT:
        return f"{int(value):,}"
    if unit is Unit.PERCENT:
        assert isinstance(value, Ratio)
        quotient = value.value
        return "—" if quotient is None else f"{float(quotient) * 100:.1f}%"
    if unit is Unit.AVERAGE:
        assert isinstance(value, Ratio)
        quotient = value.value
        return "—" if quotient is None else f"{float(quotient):.1f}"
    if unit is Unit.DATE:
        return chinese_date(value)
    return str(value)


def _number(position: int) -> str:
    if position <= 10:
        return NUMBERS[position - 1]
    tens, ones = divmod(position, 10)
    return (NUMBERS[tens - 1] if tens > 1 else "") + "十" + (NUMBERS[ones - 1] if ones else "")


def shown_sections(paper: WhitePaper) -> list[ShownSection]:
    out = []
    for position, section in enumerate(paper.sections, start=1):
        units = [c.unit for c in section.columns]
        svg = chart_svg(section)
        out.append(
            ShownSection(
                number=_number(position),
                key=section.key,
                title=section.title,
                headers=[c.title for c in section.columns],
                numeric=[u is not Unit.TEXT for u in units],
                rows=[[cell(v, u) for v, u in zip(row, units, strict=True)] for row in section.rows],
                total=[cell(v, u) for v, u in zip(section.total, units, strict=True)] if section.total else None,
                chart=data_uri(svg) if svg else None,
                chart_title=section.chart.title if section.chart else "",
                note=section.note,
            )
        )
    return out


def context(paper: WhitePaper) -> dict[str, Any]:
    return {"paper": paper, "sections": shown_sections(paper), "issuer": ISSUER}


def filename(year: int, extension: str) -> str:
    return f"techx-white-paper-{year}.{extension}"


# -- files ------------------------------------------------------------------------------------------


def standalone_environment() -> Environment:
    """The pages' template engine (the same filters and layout) for a command without a server."""
    return template_environment([Path(__file__).parent.parent / "templates"])


def html(paper: WhitePaper, environment: Environment, shown: dict[str, Any] | None = None) -> str:
    """The white paper as one HTML document (its charts inside): the file, and what the PDF prints."""
    return environment.get_template(TEMPLATE).render(**(shown or context(paper)))


async def pdf(paper: WhitePaper, environment: Environment, shown: dict[str, Any] | None = None) -> bytes:
    return await print_html(html(paper, environment, shown))


async def render_files(paper: WhitePaper, formats: tuple[str, ...]) -> dict[str, bytes]:
    """The white paper as files' contents, by name: HTML and/or PDF (charts and tables drawn once)."""
    environment = standalone_environment()
    shown = context(paper)
    files = {}
    if "html" in formats:
        files[filename(paper.year, "html")] = html(paper, environment, shown).encode("utf-8")
    if "pdf" in formats:
        files[filename(paper.year, "pdf")] = await pdf(paper, environment, shown)
    return files


def write_files(files: dict[str, bytes], out: Path) -> list[Path]:
    """``render_files``' files written into the folder ``out`` (made if missing); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        (out / name).write_bytes(content)
        written.append(out / name)
    return written
