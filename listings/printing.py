"""A notice printed as PDF (kernel/printing.py): the notice as ``GET /api/v1/notices/{id}`` shapes
it, field by field in Chinese as its page shows it, with its signature and a QR code of its page."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response

from kernel.printing import pdf_response, print_signed
from listings import notices
from listings.context import ListingsContext, UnitOfWork
from listings.facts import readable
from listings.notices import ISSUER
from listings.views import notice_out


async def notice_pdf(
    request: Request[Any, Any, Any], db: UnitOfWork, now: Any, listings: ListingsContext, notice_id: uuid.UUID
) -> Response[bytes]:
    """Anyone may read a notice: its PDF is as public as its page (``/notices/{id}``, the QR's target)."""
    async with db.read() as session:
        notice = await notices.get_notice(session, notice_id)
        counts = await notices.objection_counts(session, [notice.id])
    shown = notice_out(notice, counts.get(notice.id, (0, 0)), now)
    pdf = await print_signed(
        request,
        "listings/notice_pdf.html",
        signed=shown,
        public_url=listings.public_url,
        verify_path=f"/notices/{notice.id}",
        issuer=ISSUER,
        notice=shown,
        facts=readable(shown.content),
    )
    return pdf_response(pdf, f"notice-{notice.id}.pdf", private=False)
