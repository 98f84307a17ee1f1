"""Crash safety: SIGKILL the server in the middle of a burst of keyed money-moving requests.

After a restart the ledger verifies, every request the server acknowledged has its effect exactly
once, and every request retried with the same ``Idempotency-Key`` — acknowledged or lost in the
crash — applies at most once. Today's money movers are ledger transfers and holds over the HTTP
API; trading and payments add their requests (bids, deal payments, top-ups) as further
``Scene`` entries in ``SCENES`` and their balance effects in ``Scene.effect``.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, Api, ServerProcess

WALLETS = 6
FUNDING = 1_000_000  # fen per wallet
REQUESTS = 600
THREADS = 12
KILL_AFTER_ACKNOWLEDGED = 60


@dataclass
class World:
    """What the scenes move money between, and the operator's token."""

    ops: str
    wallets: list[str]  # account ids (liability, no overdraft)
    deposits: str  # where holds go (liability)
    bank: str  # where the funding came from (asset)
    holds: list[dict[str, Any]] = field(default_factory=list)  # pending entries not yet drawn by a capture
    initial_holds: list[dict[str, Any]] = field(default_factory=list)  # every pending entry made before the burst


@dataclass
class Move:
    """One keyed request and what became of it: before the crash, and when retried after it."""

    scene: str
    key: str
    path: str
    body: dict[str, Any]
    first: httpx.Response | None = None  # None: no answer (in flight at the kill, or refused after)
    retried: httpx.Response | None = None

    @property
    def acknowledged(self) -> bool:
        return self.first is not None and self.first.status_code == 201


@dataclass
class Scene:
    """A kind of money-moving request: how to make one, and its effect on account balances."""

    name: str
    make: Callable[[World, random.Random, str], tuple[str, dict[str, Any]]]
    # From a 201 answer: {account_id: (posted change on the normal side, pending outflow)}.
    effect: Callable[[dict[str, Any]], dict[str, tuple[int, int]]] = field(default=lambda entry: {})


def _entry(unit_from: str, unit_to: str, amount: int, key: str, kind: str) -> dict[str, Any]:
    return {
        "unit": "CNY",
        "kind": kind,
        "description": f"crash test {kind}",
        "external_ref": key,
        "postings": [
            {"account_id": unit_from, "side": "debit", "amount": amount},
            {"account_id": unit_to, "side": "credit", "amount": amount},
        ],
    }


def make_transfer(world: World, rng: random.Random, key: str) -> tuple[str, dict[str, Any]]:
    payer, payee = rng.sample(world.wallets, 2)
    return "/ledger/entries", _entry(payer, payee, rng.randint(1, 120_000), key, "transfer")


def make_hold(world: World, rng: random.Random, key: str) -> tuple[str, dict[str, Any]]:
    body = _entry(rng.choice(world.wallets), world.deposits, rng.randint(1, 60_000), key, "deposit_hold")
    body["pending"] = {"timeout_seconds": 86_400}
    return "/ledger/entries", body


def make_capture(world: World, rng: random.Random, key: str) -> tuple[str, dict[str, Any]]:
    """Post (capture) one of the holds made before the burst: the second phase of a deposit."""
    hold = world.holds.pop()
    return f"/ledger/entries/{hold['id']}/post", {"description": key}


def capture_effect(entry: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """The hold's amount leaves the pending side and becomes posted."""
    changes: dict[str, tuple[int, int]] = {}
    for posting in entry["postings"]:
        if posting["side"] == "credit":
            changes[posting["account_id"]] = (posting["amount"], 0)
        else:
            changes[posting["account_id"]] = (-posting["amount"], -posting["amount"])
    return changes


def ledger_effect(entry: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Liability accounts: a credit raises the balance; a pending debit is a held outflow."""
    changes: dict[str, tuple[int, int]] = {}
    for posting in entry["postings"]:
        sign = 1 if posting["side"] == "credit" else -1
        posted, held = changes.get(posting["account_id"], (0, 0))
        if entry["status"] == "pending":
            held += posting["amount"] if sign < 0 else 0
        else:
            posted += sign * posting["amount"]
        changes[posting["account_id"]] = (posted, held)
    return changes


SCENES = [
    Scene("ledger-transfer", make_transfer, ledger_effect),
    Scene("ledger-hold", make_hold, ledger_effect),
    Scene("ledger-capture", make_capture, capture_effect),
]
HOLDS_BEFORE = 80  # enough for every capture the burst may draw


def setup_world(api: Api) -> World:
    ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)

    def account(code: str, type_: str, no_overdraft: bool) -> str:
        body = {"code": code, "unit": "CNY", "type": type_, "no_overdraft": no_overdraft}
        return api.ok("POST", "/ledger/accounts", ops, status=201, json=body)["id"]

    bank = account("bank:settlement", "asset", False)
    deposits = account("listing:crash:deposits", "liability", False)
    wallets = [account(f"org:crash-{i}:cash", "liability", True) for i in range(WALLETS)]
    for i, wallet in enumerate(wallets):
        api.ok(
            "POST",
            "/ledger/entries",
            ops,
            status=201,
            json=_entry(bank, wallet, FUNDING, f"fund-{i}", "top_up"),
            headers={"Idempotency-Key": f"fund-{i}"},
        )
    world = World(ops=ops, wallets=wallets, deposits=deposits, bank=bank)
    rng = random.Random(7)
    for i in range(HOLDS_BEFORE):
        path, body = make_hold(world, rng, f"hold-before-{i}")
        body["postings"][0]["amount"] = body["postings"][1]["amount"] = 1_000 + i
        hold = api.ok("POST", path, ops, status=201, json=body, headers={"Idempotency-Key": body["external_ref"]})
        world.holds.append(hold)
        world.initial_holds.append(hold)
    return world


def burst(server: ServerProcess, world: World, moves: list[Move]) -> None:
    """Send the moves from many threads; SIGKILL the server once enough were acknowledged."""
    acknowledged = threading.Semaphore(0)
    killed = threading.Event()
    local = threading.local()

    def send(move: Move) -> None:
        if killed.is_set():
            return
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=30)
        try:
            move.first = local.client.post(
                move.path,
                json=move.body,
                headers={"Authorization": f"Bearer {world.ops}", "Idempotency-Key": move.key},
            )
        except httpx.TransportError:
            return  # no answer: the client does not know whether it happened
        if move.acknowledged:
            acknowledged.release()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(send, m) for m in moves]
        for _ in range(KILL_AFTER_ACKNOWLEDGED):
            assert acknowledged.acquire(timeout=120), "the burst stalled before the kill"
        server.kill()
        killed.set()
        for future in futures:
            future.result()


def test_sigkill_mid_burst_loses_nothing_acknowledged_and_retries_apply_once(server: ServerProcess, api: Api):
    world = setup_world(api)
    rng = random.Random(20261127)
    moves = []
    for i in range(REQUESTS):
        scene = rng.choice([s for s in SCENES if s.name != "ledger-capture" or world.holds])
        key = f"crash-{scene.name}-{i}"
        path, body = scene.make(world, rng, key)
        moves.append(Move(scene.name, key, path, body))

    burst(server, world, moves)
    acknowledged = [m for m in moves if m.acknowledged]
    unanswered = [m for m in moves if m.first is None]
    assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED
    assert unanswered, "the kill came after the burst ended"

    server.start()
    ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)

    # Every move retried with its key: an acknowledged one replays its first answer; a lost one
    # either replays what had committed before the kill or applies now — never twice.
    with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=30) as client:
        for move in moves:
            move.retried = client.post(
                move.path, json=move.body, headers={"Authorization": f"Bearer {ops}", "Idempotency-Key": move.key}
            )
            assert move.retried.status_code in (201, 422), move.retried.text
            if move.acknowledged:
                assert move.retried.status_code == 201
                assert move.retried.headers.get("Idempotent-Replayed") == "true"
                assert move.retried.json() == move.first.json()  # type: ignore[union-attr]
            # Twice more: now every key has an answer on record and replays it.
            if move.retried.status_code == 201:
                third = client.post(
                    move.path, json=move.body, headers={"Authorization": f"Bearer {ops}", "Idempotency-Key": move.key}
                )
                assert third.status_code == 201 and third.json()["id"] == move.retried.json()["id"]

    committed_unseen = sum(
        1 for m in unanswered if m.retried is not None and m.retried.headers.get("Idempotent-Replayed") == "true"
    )
    print(f"acknowledged {len(acknowledged)}, unanswered {len(unanswered)} ({committed_unseen} had committed)")

    # Each effect present exactly once: one entry per key, and balances equal the model's.
    applied = [m for m in moves if m.retried is not None and m.retried.status_code == 201]
    ids = Counter(m.retried.json()["id"] for m in applied)  # type: ignore[union-attr]
    assert len(ids) == len(applied) and max(ids.values()) == 1
    for move in acknowledged:
        stored = api.ok("GET", f"/ledger/entries/{move.first.json()['id']}", ops)  # type: ignore[union-attr]
        assert stored["postings"] == move.first.json()["postings"]  # type: ignore[union-attr]

    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for wallet in world.wallets:
        expected[wallet][0] = FUNDING
    for hold in world.initial_holds:
        for account_id, (posted, held) in ledger_effect(hold).items():
            expected[account_id][0] += posted
            expected[account_id][1] += held
    effects = {s.name: s.effect for s in SCENES}
    for move in applied:
        for account_id, (posted, held) in effects[move.scene](move.retried.json()).items():  # type: ignore[union-attr]
            expected[account_id][0] += posted
            expected[account_id][1] += held
    for account_id in [*world.wallets, world.deposits]:
        account = api.ok("GET", f"/ledger/accounts/{account_id}", ops)
        posted, held = expected[account_id]
        assert (account["balance"], account["balance"] - account["available"]) == (posted, held), account_id
        assert account["available"] >= 0 or account_id == world.deposits

    # Nothing created out of thin air, and the ledger's hashes and chain verify.
    assert api.ok("GET", "/ledger/trial-balance", ops)["balanced"] is True
    bank = api.ok("GET", f"/ledger/accounts/{world.bank}", ops)
    assert bank["balance"] == WALLETS * FUNDING  # every move stayed between wallets and deposits
    server.stop()
    server.techx("ledger", "seal")
    verified = server.techx("ledger", "verify")
    assert verified.stdout.startswith("OK"), verified.stdout
