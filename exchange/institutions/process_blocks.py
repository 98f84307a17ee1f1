"""The 公示 and 实施 blocks of the process page: the notice in force with its objections and what
the office may do with them, the implementation's form and the listing's deals. ``pages`` renders
them; ``notice_pages`` handles their forms."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.contracts import InstitutionsContext
from exchange.institutions.domain import Role, Step
from exchange.institutions.models import ContractRegistration
from exchange.institutions.page_forms import Form
from exchange.institutions.reports import CANCELLED, DEALS
from exchange.institutions.schemas import ProcessOut
from exchange.parties.domain import Principal
from listings import notices
from listings.domain import DealType, LicenseScope, PricingMode
from listings.models import Notice, Objection

RESOLVE_CHOICES = {"decision": ["upheld", "dismissed"], "deal_type": [t.value for t in DealType],
                   "license_scope": [s.value for s in LicenseScope]}  # fmt: skip


# ----------------------------------------------------------------------------------------------
# The blocks of the process page


async def _deals_of(session: AsyncSession, ctx: InstitutionsContext, listing_id: uuid.UUID) -> list[dict[str, Any]]:
    """The listing's deals (not cancelled), each with whether both signed and its registration."""
    found = await session.execute(
        select(DEALS.c.id, DEALS.c.price, DEALS.c.state, DEALS.c.created_at)
        .where(DEALS.c.listing_id == listing_id, DEALS.c.state != CANCELLED)
        .order_by(DEALS.c.created_at)
    )
    deals = []
    for deal_id, price, state, created_at in found.all():
        facts = await ctx.deals.deal_facts(session, deal_id)
        registration = await session.scalar(select(ContractRegistration).where(ContractRegistration.deal_id == deal_id))
        deals.append({"id": deal_id, "price": price, "state": state, "created_at": created_at,
                      "signed": bool(facts and facts.signed), "registration": registration})  # fmt: skip
    return deals


def implementation_values(out: ProcessOut) -> dict[str, str]:
    """The implementation form as first shown: a transfer, the disclosure's IP assets (to add their
    expiry dates, which a listing needs)."""
    values = {"deal.type": DealType.TRANSFER.value}
    for i, asset in enumerate(out.disclosure.ip_assets):
        for name in ("kind", "number", "title", "expires_on"):
            values[f"ip_assets.{i}.{name}"] = str(asset.get(name) or "")
    return values


async def process_blocks(session: AsyncSession, user: Principal, out: ProcessOut, state: Any) -> dict[str, Any]:
    """What the 公示 and 实施 blocks show and offer this caller."""
    ctx: InstitutionsContext = state["institutions"]
    now = state["clock"].now()
    notice = await session.get(Notice, out.notice_id) if out.notice_id else None
    days_left = None
    objections: list[Objection] = []
    if notice is not None:
        days_left = (await notices.working_days_left(session, ctx.listings, [notice], now)).get(notice.id)
        objections = list(
            (
                await session.scalars(
                    select(Objection).where(Objection.notice_id == notice.id).order_by(Objection.filed_at, Objection.id)
                )
            ).all()
        )
    office = Role.OFFICE in out.my_roles
    order = [w.step for w in out.workflow]
    before = [s.value for s in order[: order.index(Step.NOTICE)]] if Step.NOTICE in order else []
    pricing = (out.decision or {}).get("pricing")
    return {
        "notice": notice,
        "notice_days_left": days_left,
        "objections": objections,
        "may_resolve": office and out.step is Step.NOTICE,
        "resolve_to": before,
        "may_implement": office and out.step is Step.IMPLEMENTATION,
        "pricing": pricing,
        "negotiated": pricing == PricingMode.NEGOTIATED.value,
        "implementation_form": Form("implementation", implementation_values(out)),
        "deals": await _deals_of(session, ctx, out.listing_id) if out.listing_id else [],
        "new_form": Form,
        "block_choices": RESOLVE_CHOICES,
    }
