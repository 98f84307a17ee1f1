"""Signed documents as PDF: an HTML page of the application's templates, printed by WeasyPrint with
its fonts embedded, carrying a QR code of the document's public verification page.

Every module prints what it owns (a notice in ``listings``, a certificate and a settlement
statement in trading, a redemption in vouchers) from the same view its JSON route returns, through
the template engine the pages use (so money and time are written by the same filters). The
templates extend ``pdf/layout.html`` of exchange/web, which names a CJK font (Debian's
fonts-noto-cjk, installed by ``scripts/ensure-pdf``).

WeasyPrint needs Pango (a system library) and is imported on first use: without it the rest of the
exchange runs, and printing answers 503 ``pdf-unavailable``. See docs/documents.md, *PDFs*.
"""

from __future__ import annotations

import asyncio
import threading
from functools import cache
from typing import Any, Protocol

import segno
from litestar import Request, Response

from kernel.errors import DomainError

PDF = "application/pdf"


class PdfUnavailable(DomainError):
    problem_type = "pdf-unavailable"
    status = 503
    title = "PDFs cannot be printed on this server"


# Pango and fontconfig are not safe to drive from two threads at once: one document at a time, in a
# worker thread so that the event loop keeps serving while a page is laid out.
_ONE_AT_A_TIME = threading.Lock()


@cache
def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the package is there, Pango is not
        raise PdfUnavailable(f"the PDF printer cannot start: {exc}") from exc
    return weasyprint


def qr_code(url: str) -> str:
    """A QR code of ``url`` as a PNG data URI (a bitmap: every PDF reader shows it, and a phone scans it)."""
    return segno.make(url, error="m").png_data_uri(scale=4, border=4)


def _print(weasyprint: Any, html: str) -> bytes:
    with _ONE_AT_A_TIME:
        return weasyprint.HTML(string=html).write_pdf()  # type: ignore[no-any-return]


class Signed(Protocol):
    """What a signed document shows of its signature (a notice, a certificate, a statement)."""

    @property
    def signed_content(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def algorithm(self) -> str: ...


async def print_signed(
    request: Request[Any, Any, Any],
    template: str,
    *,
    signed: Signed,
    public_url: str,
    verify_path: str,
    issuer: str,
    **context: Any,
) -> bytes:
    """``template`` (extending ``pdf/layout.html``, rendered by the application's template engine)
    printed as PDF, with the signature of ``signed`` and a QR code of ``public_url + verify_path``."""
    weasyprint = _weasyprint()  # 503 before any work when this server cannot print
    verify_url = public_url.rstrip("/") + verify_path
    shown = {
        **context,
        "signed": signed,
        "verify_url": verify_url,
        "qr": qr_code(verify_url),
        "public_url": public_url.rstrip("/"),
        "issuer": issuer,
    }
    html = request.app.template_engine.get_template(template).render(**shown)
    return await asyncio.to_thread(_print, weasyprint, html)


def pdf_response(pdf: bytes, filename: str, *, private: bool) -> Response[bytes]:
    """The PDF as a download named ``filename``; a private document is never stored on the way."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if private:
        headers["Cache-Control"] = "private, no-store"
    return Response(pdf, media_type=PDF, headers=headers)


async def print_document(request: Request[Any, Any, Any], template: str, **context: Any) -> bytes:
    """``template`` printed as PDF without a signature (a report the reader checks against the
    exchange's own figures, not a document a third party verifies): the same engine, filters, fonts
    and one-at-a-time printer as ``print_signed``; 503 ``pdf-unavailable`` where this server cannot print."""
    weasyprint = _weasyprint()
    html = request.app.template_engine.get_template(template).render(**context)
    return await asyncio.to_thread(_print, weasyprint, html)


async def print_html(html: str) -> bytes:
    """An HTML document already rendered (by a command, which has no request), printed as PDF by the
    same one-at-a-time printer; ``PdfUnavailable`` where this machine cannot print."""
    weasyprint = _weasyprint()
    return await asyncio.to_thread(_print, weasyprint, html)
