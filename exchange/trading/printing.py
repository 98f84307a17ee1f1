"""A deal's certificate and its settlement statement printed as PDF (kernel/printing.py): the same
documents ``GET /api/v1/deals/{id}/certificate`` and ``…/settlement`` return, for the same readers
(the deal's parties and operators), field by field in Chinese with the signature and a QR code.

The QR code links to the deal's result notice (``/notices/{id}``): the certificate's page is for the
parties only, the notice is what anyone — a bank, the tax office — may open to check the deal's
parties and price against the exchange's signed publication."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response

from exchange.parties.domain import Principal
from exchange.platform.db import Database
from exchange.trading import deals, schedule
from exchange.trading.context import TradingContext
from exchange.trading.deals import ISSUER
from exchange.trading.models import Deal
from exchange.trading.schemas import CertificateOut, SettlementStatementOut
from exchange.trading.statements import settlement_statement
from exchange.trading.views import certificate_out, deal_out
from kernel.errors import InvalidState
from kernel.printing import pdf_response, print_signed
from listings.facts import NOTICE_WORDS, readable

MOMENTS = ("issued_at", "signed_at", "due_at", "deadline_at", "payment_due_at", "paid_at", "settled_at")
WORDS = NOTICE_WORDS.extended(
    labels={
        "certificate": "凭证",
        "statement": "结算单",
        "deal_id": "交易编号",
        "issued_at": "签发时间",
        "state": "交易状态",
        "listing": "科技成果",
        "credit_code": "统一社会信用代码",
        "pricing_mode": "定价方式",
        "payment_terms": "付款条件",
        "installments": "分期",
        "adjustments": "调整条款",
        "fees": "交易服务费",
        "inventor_reward": "发明人奖励",
        "result_notice_id": "成交结果公示编号",
        "signatures": "双方签署",
        "user_id": "签署人 ID",
        "signed_at": "签署时间",
        "payment_due_at": "付款截止",
        "payment_schedule": "付款安排",
        "payments": "已结算款项",
        "seq": "期次",
        "due_months": "签署后月数",
        "due_at": "应付日期",
        "deadline_at": "最迟付款",
        "paid_at": "付款时间",
        "settled_at": "结算时间",
        "from_deposit": "保证金抵扣",
        "seller_fee": "转让方服务费",
        "buyer_fee": "受让方服务费",
        "buyer_fee_vouchers": "创新券抵扣服务费",
        "seller_proceeds": "转让方实收",
        "settlement_entry_ids": "结算分录",
        "certificate_signature": "交易凭证签名",
        "brokerage": "技术经纪",
        "broker": "技术经纪人",
        "broker_org": "经纪机构",
        "credential_number": "证书编号",
        "commission": "经纪佣金",
        "commission_bp": "佣金比例",
        "commission_fixed": "固定佣金",
        "owed_by": "佣金支付方",
        "basis": "佣金计算方式",
        "broker_id": "经纪人编号",
        "settlement_legs": "其他结算款项",
        "payer": "支付方",
        "label": "说明",
        "entry_id": "分录",
    },
    money={
        "inventor_reward",
        "seller_fee",
        "buyer_fee",
        "buyer_fee_vouchers",
        "seller_proceeds",
        "from_deposit",
        ("fees", "seller"),
        ("fees", "buyer"),
        ("installments", "amount"),
        ("payment_schedule", "amount"),
        "commission",
        "commission_fixed",
        ("settlement_legs", "amount"),
    },
    moments=MOMENTS,
    order=("certificate", "statement", "deal_id", "issued_at", "listing", "seller", "buyer", "price", "fees"),
)


async def _deal(db: Database, user: Principal, deal_id: uuid.UUID) -> Deal:
    async with db.read() as session:
        return await deals.visible_deal(session, user, deal_id)


def _verify_path(deal: Deal) -> str:
    return f"/notices/{deal.notice_id}" if deal.notice_id else f"/deals/{deal.id}/certificate"


async def certificate_of(db: Database, user: Principal, deal_id: uuid.UUID) -> tuple[Deal, CertificateOut]:
    deal = await _deal(db, user, deal_id)
    if deal.certificate is None:
        raise InvalidState(
            f"the certificate is issued when both parties have signed; the deal is {deal.state}", state=deal.state
        )
    return deal, certificate_out(deal)


async def statement_of(
    db: Database, user: Principal, trading: TradingContext, deal_id: uuid.UUID
) -> tuple[Deal, SettlementStatementOut]:
    async with db.read() as session:
        deal = await deals.visible_deal(session, user, deal_id)
        ids = [deal.id]
        payments, notes = await schedule.schedules_of(session, ids), await schedule.notifications_of(session, ids)
    shown = deal_out(deal, payments.get(deal.id, []), notes.get(deal.id, []))
    return deal, settlement_statement(deal, shown, trading.listings.signer)


async def certificate_pdf(
    request: Request[Any, Any, Any], db: Database, user: Principal, trading: TradingContext, deal_id: uuid.UUID
) -> Response[bytes]:
    deal, certificate = await certificate_of(db, user, deal_id)
    pdf = await print_signed(
        request,
        "trading/certificate_pdf.html",
        signed=certificate,
        public_url=trading.listings.public_url,
        verify_path=_verify_path(deal),
        issuer=ISSUER,
        title="技术交易凭证",
        facts=readable(certificate.content, WORDS),
    )
    return pdf_response(pdf, f"certificate-{deal.id}.pdf", private=True)


async def settlement_pdf(
    request: Request[Any, Any, Any], db: Database, user: Principal, trading: TradingContext, deal_id: uuid.UUID
) -> Response[bytes]:
    deal, statement = await statement_of(db, user, trading, deal_id)
    pdf = await print_signed(
        request,
        "trading/certificate_pdf.html",
        signed=statement,
        public_url=trading.listings.public_url,
        verify_path=_verify_path(deal),
        issuer=ISSUER,
        title="技术交易结算单",
        facts=readable(statement.content, WORDS),
    )
    return pdf_response(pdf, f"settlement-{deal.id}.pdf", private=True)
