"""The annual white paper (年度白皮书): the exchange's year in figures, in Chinese, as HTML and PDF
(``techx report white-paper``, ``/console/reports/white-paper``).

``white_paper(session, year, now)`` gathers the sections of ``SECTIONS``, each a function
``(session, year) -> Section`` of aggregates computed by the database; a section added later is a
function of that shape appended to ``SECTIONS``. See docs/reports.md.
"""

from exchange.stats.white_paper.domain import ChartSpec, Column, Ratio, Section, Unit, YearOutOfRange, region_of
from exchange.stats.white_paper.paper import WhitePaper, render_files, shown_sections, white_paper, write_files
from exchange.stats.white_paper.sections import SECTIONS, SectionMaker

__all__ = [
    "SECTIONS",
    "ChartSpec",
    "Column",
    "Ratio",
    "Section",
    "SectionMaker",
    "Unit",
    "WhitePaper",
    "YearOutOfRange",
    "region_of",
    "render_files",
    "shown_sections",
    "white_paper",
    "write_files",
]
