"""A voucher redemption printed as PDF (kernel/printing.py): the claim as
``GET /api/v1/redemptions/{id}`` shapes it, for the same readers (its provider, the program's
administrators, operators), with the signed ``voucher_redemption`` notice it opened — field by field
in Chinese, its signature, and a QR code of that notice's public page."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, Response

from exchange.parties.domain import Principal
from exchange.platform.db import Database
from exchange.vouchers import redemptions
from exchange.vouchers.schemas import RedemptionOut
from kernel.errors import InvalidState
from kernel.printing import pdf_response, print_signed
from kernel.shapes import shaped
from listings import ListingsContext, get_notice, objection_counts
from listings.facts import readable
from listings.notices import ISSUER
from listings.views import notice_out


async def redemption_pdf(
    request: Request[Any, Any, Any],
    db: Database,
    user: Principal,
    listings: ListingsContext,
    redemption_id: uuid.UUID,
    now: datetime,
) -> Response[bytes]:
    async with db.read() as session:
        redemption = shaped(RedemptionOut, await redemptions.visible_redemption(session, user, redemption_id))
        if redemption.notice_id is None:  # every claim opens its notice; kept for the type's sake
            raise InvalidState("the redemption has no public notice", state=redemption.state.value)
        notice = await get_notice(session, redemption.notice_id)
        counts = await objection_counts(session, [notice.id])
    shown = notice_out(notice, counts.get(notice.id, (0, 0)), now)
    pdf = await print_signed(
        request,
        "vouchers/redemption_pdf.html",
        signed=shown,
        public_url=listings.public_url,
        verify_path=f"/notices/{notice.id}",
        issuer=ISSUER,
        redemption=redemption,
        notice=shown,
        facts=readable(shown.content),
    )
    return pdf_response(pdf, f"redemption-{redemption.id}.pdf", private=True)
