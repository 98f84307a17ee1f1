"""实施: the office carries out the decision once its notice closed, at the exchange.

- A listed or auction price: a listing DRAFT of the institution, created by listings' own service
  (``create_listing``, with the exchange's listing rules), carrying the decision's record: the
  achievement and its IP, the inventors, the floor price as the asking price, the appraisal of
  record and the institution's declared inventor share. The seller then submits it for review in
  its workspace, as every listing.
- A negotiated price: the contract signed with the named counterparty (at least the floor price,
  with a verified organisation at the exchange named as the decision names it). The exchange forms
  a deal only from an announced listing and a buyer's intent (a deal row names both), and its
  ``negotiated_price`` notice opens when that deal forms; so the implementation records the
  contract and creates the listing draft with pricing ``negotiated`` at the contract's amount,
  which the office submits and concludes with the counterparty through the exchange's negotiation —
  whose deal then runs the negotiated-price notice (SPEC §3.5).

Either way the step completes in the same transaction and the process is finished.

The exchange's negotiation would let a seller accept any buyer at any price; a deal of a listing
that a process implemented keeps to the decision (``DecidedTerms``, asked by trading before an
accepted offer forms a deal): the negotiated price's counterparty at the signed contract's amount,
a listed price not below the decided floor price.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.config import configuration
from exchange.institutions.domain import InvalidStepRecord, ProcessStatus, Step, complete
from exchange.institutions.models import Disclosure, TransferProcess
from exchange.institutions.processes import acting_role, domain_process, get_process, history_of, write_act
from exchange.institutions.schemas import ContractIn, ImplementationIn
from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from exchange.parties.models import Org
from kernel.errors import InvalidState
from listings import ContentGuard, Listing, ListingsContext
from listings.domain import AppraisalReport, ListingContent, PricingMode, TransferTerms, to_plain
from listings.errors import InvalidListing
from listings.service import create_listing


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


async def counterparty_org(session: AsyncSession, decision: dict[str, Any], contract: ContractIn) -> Org:
    """The counterparty's verified organisation: the one given, named as the decision's
    counterparty; or, none given, the one verified organisation of that name. 422 on
    ``contract.counterparty_org_id`` otherwise."""
    named = decision.get("counterparty", "")
    field = "contract.counterparty_org_id"
    if contract.counterparty_org_id is None:
        rows = (await session.scalars(select(Org).where(func.lower(Org.name) == named.strip().lower()))).all()
        matches = [o for o in rows if o.verified and o.status == "active" and _key(o.name) == _key(named)]
        if len(matches) != 1:
            raise InvalidStepRecord(
                f"{field}: name the counterparty's organisation at the exchange "
                f"({len(matches)} verified organisations are named {named})",
                field=field,
            )
        return matches[0]
    org = await session.get(Org, contract.counterparty_org_id)
    if org is None or not org.verified or org.status != "active":
        raise InvalidStepRecord(f"{field}: the counterparty is a verified, active organisation at the exchange",
                                field=field)  # fmt: skip
    if _key(org.name) != _key(named):
        raise InvalidStepRecord(
            f"{field}: {org.name} is not the counterparty the decision names ({named})", field=field
        )
    return org


def _appraisal(evaluation: dict[str, Any] | None) -> tuple[int | None, AppraisalReport | None]:
    if not evaluation:
        return None, None
    report = None
    if evaluation.get("report_number") and evaluation.get("appraiser") and evaluation.get("report_date"):
        report = AppraisalReport(
            report_number=evaluation["report_number"],
            appraiser=evaluation["appraiser"],
            report_date=evaluation["report_date"],
        )
    return evaluation.get("appraised_value"), report


async def implement(
    session: AsyncSession,
    ctx: ListingsContext,
    caller: Principal,
    process_id: uuid.UUID,
    data: ImplementationIn,
    now: datetime,
) -> TransferProcess:
    process = await get_process(session, process_id, lock=True)
    caller.require_member_of(process.org_id)
    before = domain_process(process, await history_of(session, process.id))
    role = await acting_role(session, caller, process, data.role, before.workflow.roles(Step.IMPLEMENTATION))
    after = complete(before, Step.IMPLEMENTATION, role=role, actor=caller.display_name, at=now, note=data.note)
    decision = process.decision or {}
    pricing = PricingMode(decision["pricing"])
    floor = int(decision["floor_price"])
    disclosure = await session.get(Disclosure, process.disclosure_id)
    assert disclosure is not None
    config = await configuration(session, process.org_id, caller.org_kind,
                                 least_share_bp=ctx.rules.inventor_reward_min_bp)  # fmt: skip
    contract: dict[str, Any] | None = None
    related_codes: list[str] = []
    asking = floor
    if pricing is PricingMode.NEGOTIATED:
        if data.contract is None:
            raise InvalidStepRecord("contract: a negotiated price is implemented with its signed contract",
                                    field="contract")  # fmt: skip
        if data.contract.amount < floor:
            raise InvalidStepRecord(f"contract.amount: the price is at least the floor price ({floor} fen)",
                                    field="contract.amount")  # fmt: skip
        org = await counterparty_org(session, decision, data.contract)
        asking = data.contract.amount
        contract = {
            "amount": data.contract.amount,
            "terms": data.contract.terms.strip(),
            "signed_on": data.contract.signed_on.isoformat(),
            "counterparty": decision.get("counterparty", ""),
            "counterparty_org_id": str(org.id),
            "counterparty_credit_code": org.credit_code,
        }
        related_codes = [org.credit_code]
    elif data.contract is not None:
        raise InvalidStepRecord("contract: a listed or auction price finds its buyer at the exchange",
                                field="contract")  # fmt: skip
    related = {_key(n) for n in decision.get("related_inventors") or []}
    appraised, report = _appraisal(process.evaluation)
    plain: dict[str, Any] = {
        "title": disclosure.title,
        "summary": disclosure.summary,
        "field": disclosure.field,
        "keywords": list(disclosure.keywords),
        "maturity": disclosure.maturity,
        "ip_assets": to_plain(data.ip_assets) if data.ip_assets is not None else list(disclosure.ip_assets),
        "inventors": [
            {"name": i["name"], "related_to_buyer": related_codes if _key(i["name"]) in related else []}
            for i in disclosure.inventors
        ],
        "deal": to_plain(data.deal if data.deal is not None else TransferTerms()),
        "pricing": {
            "mode": pricing.value,
            "asking_price": asking,
            "appraised_value": appraised,
            "deposit": data.deposit,
            "increment": data.increment if pricing is not PricingMode.NEGOTIATED else None,
            "appraisal_report": to_plain(report) if report else None,
        },
        "inventor_reward_bp": config.rules.inventor_share_bp if caller.is_public_institution else None,
    }
    content = msgspec.convert(plain, ListingContent)
    listing: Listing = await create_listing(session, ctx, actor_of(caller), content, None, now)
    process.listing_id = listing.id
    process.contract = contract
    record = {"listing_id": str(listing.id), "listing_number": listing.number, "pricing": pricing.value,
              "asking_price": asking, "contract": contract}  # fmt: skip
    await write_act(session, caller.user_id, process, before, after, now, record)
    return process


class DecidedTerms:
    """Trading's deal guard: an accepted offer on the listing of a transfer process forms a deal
    only as the decision (and, for a negotiated price, its signed contract) says; 409
    ``invalid-state`` naming the rule otherwise, and nothing is written."""

    async def check_negotiated_deal(
        self, session: AsyncSession, *, listing_id: uuid.UUID, buyer_org_id: uuid.UUID, price: int
    ) -> None:
        process = await session.scalar(select(TransferProcess).where(TransferProcess.listing_id == listing_id))
        if process is None or process.status != ProcessStatus.FINISHED.value or not process.decision:
            return  # not a listing a process implemented (实施 sets it and finishes the process)
        contract = process.contract
        if contract:
            if str(buyer_org_id) != contract["counterparty_org_id"]:
                raise InvalidState(
                    f"the institution decided a negotiated price with {contract['counterparty']} only",
                    state="decided", rule="decided-counterparty",
                )  # fmt: skip
            if price != int(contract["amount"]):
                raise InvalidState(
                    f"the deal is at the signed contract's amount ({contract['amount']} fen), not {price} fen",
                    state="decided", rule="contract-amount",
                )  # fmt: skip
            return
        floor = int(process.decision["floor_price"])
        if price < floor:
            raise InvalidState(
                f"the institution decided a floor price of {floor} fen; {price} fen is below it",
                state="decided", rule="decided-floor-price",
            )  # fmt: skip


class DecidedListing(ContentGuard):
    """Listings' content guard: the listing 实施 created keeps the decision's floor price — an
    edit of its draft, an amendment, its submission or a relisting asking less is 422
    ``invalid-listing`` naming ``pricing.asking_price``. An auction's bids start at the asking
    price, so its deal never falls below the floor either (``DecidedTerms`` guards negotiated deals)."""

    async def check(self, session: AsyncSession, listing: Listing, content: ListingContent) -> None:
        process = await session.scalar(select(TransferProcess).where(TransferProcess.listing_id == listing.id))
        if process is None or not process.decision:
            return
        floor = int(process.decision["floor_price"])
        asking = content.pricing.asking_price
        if asking < floor:
            raise InvalidListing(
                f"pricing.asking_price: the institution decided a floor price of {floor} fen; {asking} fen is below it",
                field="pricing.asking_price",
            )
