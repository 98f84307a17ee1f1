"""A deal's settlement statement (技术交易结算单): the price, each side's fee, the inventor reward
and the seller's proceeds of every settled payment, with the ledger entries that moved them.

It is drawn from the deal as ``GET /api/v1/deals/{id}`` shows it (``views.deal_out``) and signed
when read with the exchange's current key, so a printed statement can be checked offline like a
certificate; it exists once a payment has been settled (a lump sum, or a down payment)."""

from __future__ import annotations

import json
from typing import Any

from exchange.trading.deals import ISSUER
from exchange.trading.domain import DealState
from exchange.trading.models import Deal
from exchange.trading.schemas import DealOut, SettlementStatementOut
from kernel.errors import InvalidState
from kernel.signing import Signer, sign_content
from kernel.time import rfc3339

SETTLED_STATES = (DealState.PAYING_INSTALMENTS.value, DealState.SETTLED.value)


def _at(moment: Any) -> str | None:
    return rfc3339(moment) if moment else None


def statement_content(deal: Deal, shown: DealOut) -> dict[str, Any]:
    if deal.state not in SETTLED_STATES:
        raise InvalidState(
            f"the settlement statement is issued once a payment is settled; the deal is {deal.state}", state=deal.state
        )
    listing = deal.snapshot["listing"]
    party = ("name", "credit_code")
    settled = [p for p in shown.payment_schedule if p.settled_at is not None]
    return {
        "statement": "技术交易结算单 settlement statement",
        "issuer": ISSUER,
        "deal_id": str(shown.id),
        "state": shown.state,
        "listing": {"number": listing["number"], "title": listing["title"]},
        "seller": {k: deal.snapshot["seller"][k] for k in party},
        "buyer": {k: deal.snapshot["buyer"][k] for k in party},
        "price": shown.price,
        "fees": {"seller": shown.fees.seller_fee, "buyer": shown.fees.buyer_fee},
        "buyer_fee_vouchers": shown.fees.buyer_fee_vouchers,
        "inventor_reward": shown.fees.inventor_reward,
        "seller_proceeds": shown.fees.seller_proceeds,
        **({"brokerage": deal.snapshot["brokerage"]} if deal.snapshot.get("brokerage") else {}),
        "certificate_signature": deal.certificate_signature,
        "settled_at": _at(shown.settled_at),
        "payments": [
            {
                "seq": p.seq,
                "amount": p.amount,
                "from_deposit": p.from_deposit,
                "paid_at": _at(p.paid_at),
                "settled_at": _at(p.settled_at),
                "seller_fee": p.seller_fee,
                "buyer_fee": p.buyer_fee,
                "buyer_fee_vouchers": p.buyer_fee_vouchers,
                "inventor_reward": p.inventor_reward,
                "seller_proceeds": p.seller_proceeds,
                "settlement_entry_ids": p.settlement_entry_ids,
                **({"settlement_legs": p.settlement_legs} if p.settlement_legs else {}),
            }
            for p in settled
        ],
    }


def settlement_statement(deal: Deal, shown: DealOut, signer: Signer) -> SettlementStatementOut:
    text, signature = sign_content(signer, statement_content(deal, shown))
    return SettlementStatementOut(
        deal_id=deal.id, content=json.loads(text), signed_content=text, signature=signature, key_id=signer.key_id
    )
