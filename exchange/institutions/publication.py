"""What an institution's transfer notice (公示) says and when it runs: opened in the transaction
that completes 决策 decision, with the institution's period on the exchange's working calendar;
cancelled when the process stops. A return (a correction) leaves it as it is: the corrected
decision keeps it if it notices the same thing, else a new notice supersedes it.
``transfer_notice`` moves the process when the notice ends; ``processes`` opens and ends it here,
so that every way of deciding, returning or stopping (the API, the pages) does the same."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.config import configuration
from exchange.institutions.domain import Step, notice_closes_at
from exchange.institutions.models import Disclosure, TransferProcess
from exchange.parties.domain import OrgKind
from exchange.parties.models import Org
from listings import ListingsContext, Notice, NoticeKind, open_notice, working_calendar
from listings.domain import NoticeStatus
from listings.notices import cancel_notice, lock_notice

SUBJECT = "institution_process"


def notice_body(process: TransferProcess, disclosure: Disclosure, org: Org) -> dict[str, Any]:
    """What the public sees of a transfer decision (JSON-native; amounts in fen)."""
    decision = process.decision or {}
    evaluation = process.evaluation
    return {
        "institution": {"org_id": str(org.id), "name": org.name},
        "process_id": str(process.id),
        "achievement": {
            "title": disclosure.title,
            "summary": disclosure.summary,
            "field": disclosure.field,
            "ip_assets": [
                {"kind": a.get("kind"), "number": a.get("number"), "title": a.get("title")}
                for a in disclosure.ip_assets
            ],
        },
        "inventors": [
            {"name": i["name"], "affiliation": i["affiliation"], "share_bp": i["share_bp"]}
            for i in disclosure.inventors
        ],
        "intended_form": disclosure.intended_form,
        "decision": {
            "minutes": decision.get("minutes", ""),
            "pricing": decision.get("pricing"),
            "floor_price": decision.get("floor_price"),
            "counterparty": decision.get("counterparty", ""),
            "related_inventors": list(decision.get("related_inventors") or []),
            "related_party_declaration": decision.get("related_party_declaration", ""),
        },
        "appraisal": (
            {
                "kind": evaluation.get("kind"),
                "appraised_value": evaluation.get("appraised_value"),
                "appraiser": evaluation.get("appraiser", ""),
                "report_number": evaluation.get("report_number", ""),
                "report_date": evaluation.get("report_date"),
            }
            if evaluation
            else None
        ),
    }


def noticed(notice: Notice) -> dict[str, Any]:
    """What a notice says (its signed content's ``body``)."""
    return json.loads(notice.content)["body"]  # type: ignore[no-any-return]


async def notice_decision(
    session: AsyncSession, ctx: ListingsContext, process: TransferProcess, now: datetime
) -> Notice:
    """The decision's notice, with the institution's period (409 ``calendar-year-missing`` when a
    working-day period runs into a year the exchange's calendar has no data for: the caller's
    transaction then writes nothing).

    A corrected decision (决策 again after a return) whose notice would say exactly what the notice
    in force says keeps that notice: still running, or closed having run its period (the caller
    then completes 公示). One that changes what was noticed opens a new notice, superseding a
    running one (its pending objections move to the new one); a notice that ran stays closed, a
    cancelled one (an objection upheld) is never kept."""
    org = await session.get(Org, process.org_id)
    disclosure = await session.get(Disclosure, process.disclosure_id)
    assert org is not None and disclosure is not None
    body = notice_body(process, disclosure, org)
    previous = await lock_notice(session, process.notice_id) if process.notice_id is not None else None
    if previous is not None and previous.status != NoticeStatus.CANCELLED.value and noticed(previous) == body:
        return previous
    running = previous is not None and previous.status in (NoticeStatus.OPEN.value, NoticeStatus.SUSPENDED.value)
    config = await configuration(session, org.id, OrgKind(org.kind), least_share_bp=ctx.rules.inventor_reward_min_bp)
    calendar = await working_calendar(session, ctx.calendar)
    closes_at = notice_closes_at(now, config.rules.notice_days, config.rules.notice_unit, calendar)
    notice = await open_notice(
        session,
        ctx,
        kind=NoticeKind.INSTITUTION_TRANSFER,
        subject_type=SUBJECT,
        subject_id=process.id,
        title=f"成果转化公示：{disclosure.title}",
        body=body,
        now=now,
        closes_at=closes_at,
        supersedes=previous if running else None,
    )
    process.notice_id = notice.id
    await session.flush()
    return notice


async def end_running_notice(session: AsyncSession, process: TransferProcess, reason: str, now: datetime) -> None:
    """The process stopped: its running notice is cancelled (pending objections lapse)."""
    if process.notice_id is None or process.step == Step.NOTICE.value:
        return
    notice = await session.get(Notice, process.notice_id)
    if notice is not None:
        await cancel_notice(session, notice, reason, now)
