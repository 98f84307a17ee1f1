"""Objections to an institution's own notices (成果转化公示, 收益分配方案公示), on both databases:
the handlers of the kind name who resolves them besides the operators (``resolving_side``), here
the members of the organisation whose subjects the notices are about. That side upholds (the notice
is cancelled, the handler told) or dismisses (the period closes as usual) and lists what it
resolves (``GET /objections?side=resolver``); another organisation is refused and changes nothing;
operators still resolve them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import listings
from listings import NoticeHandler, NoticeKind
from listings.models import Notice
from tests.helpers import Party, assert_problem, join, operator, relogin, verified

API = "/api/v1"
REASON = "该成果的完成人名单遗漏了一位主要完成人，请核实后再行公示。"


class TransferOffice(NoticeHandler):
    """What an institutions module would register: an organisation's technology-transfer office
    resolves the objections to the notices about its own transfer decisions."""

    def __init__(self) -> None:
        self.subjects: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.events: list[tuple[str, uuid.UUID]] = []

    def own(self, party: Party) -> uuid.UUID:
        subject = uuid.uuid4()
        self.subjects.setdefault(uuid.UUID(party.org_id), set()).add(subject)
        return subject

    def resolving_side(self, actor):
        own = self.subjects.get(actor.org_id)
        return Notice.subject_id.in_(own) if own else None

    async def on_upheld(self, session, notice, objection, now):
        self.events.append(("upheld", notice.subject_id))

    async def on_dismissed(self, session, notice, objection, now):
        self.events.append(("dismissed", notice.subject_id))

    async def on_closed(self, session, notice, now):
        self.events.append(("closed", notice.subject_id))

    async def on_objection_resolved(self, session, notice, objection, now):
        self.events.append((f"resolved:{objection.status}", notice.subject_id))


async def open_transfer_notice(app: Any, subject_id: uuid.UUID, *, days: int = 15) -> Notice:
    now = app.state.clock.now()
    return await app.state.db.transaction(
        lambda s: listings.open_notice(
            s,
            app.state.listings,
            kind=NoticeKind.INSTITUTION_TRANSFER,
            subject_type="institution_process",
            subject_id=subject_id,
            title="成果转化公示：固态锂电池制备方法",
            body={"decision": "转让", "price": 48_000_000},
            now=now,
            closes_at=now + timedelta(days=days),
        )
    )


async def objected(client: Any, notice: Notice, objector: Party) -> str:
    filed = await client.post(
        f"{API}/notices/{notice.id}/objections", json={"reason": REASON}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    return str(filed.json()["id"])


async def resolve(client: Any, party: Party, objection_id: str, decision: str) -> Any:
    return await client.post(
        f"{API}/objections/{objection_id}/resolve",
        json={"decision": decision, "note": "经技术转移中心核查"},
        headers=party.headers,
    )


async def resolver_ids(client: Any, party: Party, **params: str) -> list[str]:
    page = await client.get(f"{API}/objections", params={"side": "resolver", **params}, headers=party.headers)
    assert page.status_code == 200, page.text
    return [o["id"] for o in page.json()["items"]]


async def notice_status(client: Any, notice: Notice) -> str:
    shown = await client.get(f"{API}/notices/{notice.id}")
    assert shown.status_code == 200, shown.text
    return str(shown.json()["status"])


async def setting(client: Any, app: Any) -> tuple[TransferOffice, Party, Party, Party, Party]:
    office = TransferOffice()
    app.state.listings.hooks.register_notice_handler(NoticeKind.INSTITUTION_TRANSFER, office)
    ops = await operator(client, app)
    university = await verified(client, ops, "university", "某理工大学")
    other = await verified(client, ops, "university", "另一所大学")
    objector = await verified(client, ops)
    return office, ops, university, other, objector


async def test_the_institution_upholds_an_objection_to_its_own_notice_and_another_is_refused(client, app) -> None:
    office, ops, university, other, objector = await setting(client, app)
    officer = await join(client, university)  # any member of the organisation
    ours = office.own(university)
    theirs = office.own(other)
    notice = await open_transfer_notice(app, ours)
    elsewhere = await open_transfer_notice(app, theirs)
    oid = await objected(client, notice, objector)
    other_oid = await objected(client, elsewhere, objector)

    # The resolving side lists exactly the objections it resolves, and reads them.
    assert await resolver_ids(client, officer) == [oid]
    assert await resolver_ids(client, university) == [oid]
    assert await resolver_ids(client, other) == [other_oid]
    assert await resolver_ids(client, objector) == []
    assert (await client.get(f"{API}/objections/{oid}", headers=officer.headers)).status_code == 200
    # Without ``side`` its list holds them too, beside its own objections.
    listed = (await client.get(f"{API}/objections", headers=officer.headers)).json()["items"]
    assert [o["id"] for o in listed] == [oid]

    # Another organisation is refused as before (403, as for an objection that does not exist) ...
    assert_problem(await resolve(client, other, oid, "upheld"), 403, "forbidden")
    assert_problem(await resolve(client, objector, oid, "upheld"), 403, "forbidden")
    assert_problem(await resolve(client, other, str(uuid.uuid4()), "upheld"), 403, "forbidden")
    # ... and nothing changed.
    assert await notice_status(client, notice) == "open"
    shown = await client.get(f"{API}/objections/{oid}", headers=ops.headers)
    assert shown.json()["status"] == "pending" and shown.json()["resolved_at"] is None
    assert office.events == []
    # The resolving side does not answer for the subject either (it sees the objection: 403, not 404).
    answered = await client.post(
        f"{API}/objections/{oid}/answer", json={"answer": "完成人名单已经核实，无遗漏。"}, headers=officer.headers
    )
    assert_problem(answered, 403, "forbidden")

    upheld = await resolve(client, officer, oid, "upheld")
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld" and upheld.json()["resolution_note"] == "经技术转移中心核查"
    assert await notice_status(client, notice) == "cancelled"
    assert office.events == [("upheld", ours), ("resolved:upheld", ours)]
    # Once resolved it is resolved: a second decision is refused.
    assert_problem(await resolve(client, university, oid, "dismissed"), 409, "invalid-state")

    # The past ones stay on its list; the pending filter leaves them out.
    assert await resolver_ids(client, officer) == [oid]
    assert await resolver_ids(client, officer, status="pending") == []
    assert await resolver_ids(client, officer, status="upheld") == [oid]
    # The other organisation's objection was never touched.
    assert await notice_status(client, elsewhere) == "open"
    assert await resolver_ids(client, other, status="pending") == [other_oid]


async def test_a_dismissal_by_the_institution_closes_the_period_as_usual(client, app, clock) -> None:
    office, _ops, university, _other, objector = await setting(client, app)
    ours = office.own(university)
    notice = await open_transfer_notice(app, ours, days=1)
    oid = await objected(client, notice, objector)
    clock.advance(timedelta(days=1, minutes=1))
    assert (await app.state.sweeper.run_once(app.state.db, clock.now()))["notices"] == 1
    assert await notice_status(client, notice) == "suspended"
    await relogin(client, university)

    dismissed = await resolve(client, university, oid, "dismissed")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"
    assert await notice_status(client, notice) == "closed"
    assert office.events == [("dismissed", ours), ("closed", ours), ("resolved:dismissed", ours)]


async def test_operators_still_resolve_an_institutions_objections(client, app) -> None:
    office, ops, university, _other, objector = await setting(client, app)
    ours = office.own(university)
    notice = await open_transfer_notice(app, ours)
    oid = await objected(client, notice, objector)
    # Operators resolve every objection; their ``side=resolver`` is what they resolve besides that: none.
    assert await resolver_ids(client, ops) == []
    assert oid in [o["id"] for o in (await client.get(f"{API}/objections", headers=ops.headers)).json()["items"]]

    upheld = await resolve(client, ops, oid, "upheld")
    assert upheld.status_code == 200, upheld.text
    assert await notice_status(client, notice) == "cancelled"
    assert office.events == [("upheld", ours), ("resolved:upheld", ours)]


async def test_side_resolver_is_a_documented_value_and_nothing_else_is(client, app) -> None:
    ops = await operator(client, app)
    assert_problem(
        await client.get(f"{API}/objections", params={"side": "office"}, headers=ops.headers),
        400,
        "validation-error",
        "side",
    )
    schema = (await client.get("/schema/openapi.json")).json()
    params = schema["paths"]["/api/v1/objections"]["get"]["parameters"]
    [side] = [p for p in params if p["name"] == "side"]
    assert "ObjectionSide" in str(side["schema"])
    assert schema["components"]["schemas"]["ObjectionSide"]["enum"] == ["objector", "seller", "resolver"]


async def test_kinds_whose_handlers_name_nobody_are_resolved_by_operators_only(client, app) -> None:
    # An institution's distribution plan with no handler naming a resolver: members are refused.
    ops = await operator(client, app)
    university = await verified(client, ops, "university")
    objector = await verified(client, ops)
    now = app.state.clock.now()
    plan = await app.state.db.transaction(
        lambda s: listings.open_notice(
            s,
            app.state.listings,
            kind=NoticeKind.DISTRIBUTION_PLAN,
            subject_type="distribution_plan",
            subject_id=uuid.uuid4(),
            title="收益分配方案公示：固态锂电池制备方法",
            body={"inventors_share_bp": 7000},
            now=now,
        )
    )
    oid = await objected(client, plan, objector)
    assert_problem(await resolve(client, university, oid, "dismissed"), 403, "forbidden")
    assert await resolver_ids(client, university) == []
    assert (await resolve(client, ops, oid, "dismissed")).status_code == 200


async def test_the_board_shows_an_institutions_notices_with_their_chinese_names(client, app) -> None:
    transfer = await open_transfer_notice(app, uuid.uuid4())
    now = app.state.clock.now()
    plan = await app.state.db.transaction(
        lambda s: listings.open_notice(
            s,
            app.state.listings,
            kind=NoticeKind.DISTRIBUTION_PLAN,
            subject_type="distribution_plan",
            subject_id=uuid.uuid4(),
            title="收益分配方案公示：抗体药物偶联技术",
            body={"inventors_share_bp": 7000},
            now=now,
        )
    )
    board = f"{API}/notices"
    by_kind = await client.get(board, params={"kind": "institution_transfer"})
    assert by_kind.status_code == 200, by_kind.text
    assert [n["id"] for n in by_kind.json()["items"]] == [str(transfer.id)]
    plans = (await client.get(board, params={"kind": "distribution_plan"})).json()["items"]
    assert [(n["id"], n["kind"]) for n in plans] == [(str(plan.id), "distribution_plan")]
    assert {n["id"] for n in (await client.get(board)).json()["items"]} == {str(transfer.id), str(plan.id)}
    # The plan's default period: 15 working days after Monday 2 March 2026 (the end of Monday 23 March).
    assert plan.closes_at.isoformat() == "2026-03-23T16:00:00+00:00"

    page = await client.get("/notices", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "成果转化公示" in page.text and "收益分配方案公示" in page.text
    assert 'value="institution_transfer"' in page.text and 'value="distribution_plan"' in page.text
    filtered = await client.get("/notices", params={"kind": "distribution_plan"}, headers={"accept": "text/html"})
    assert str(plan.id) in filtered.text and str(transfer.id) not in filtered.text
    shown = await client.get(f"/notices/{transfer.id}", headers={"accept": "text/html"})
    assert shown.status_code == 200 and "成果转化公示" in shown.text and "成果转化决策" in shown.text
