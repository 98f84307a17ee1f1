"""/metrics shows what operators must see beyond HTTP: pending withdrawals, the sealing backlog,
the sweeper's lag, reconciliation differences and failing webhook deliveries, as numbers after a scenario."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from exchange.accounting.jobs import seal_pending
from exchange.platform.live_outbox import record_events
from tests.api.test_payments_bank import top_up
from tests.helpers import operator, verified

API = "/api/v1"


SCRAPER_TOKEN = "scraper-token-of-the-operations-tests"


async def gauges(client, app) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Scrape as Prometheus does: /metrics is served only to the bearer of TECHX_METRICS_TOKEN."""
    app.state.settings = dataclasses.replace(app.state.settings, metrics_token=SCRAPER_TOKEN)
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPER_TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name.startswith("techx_")
    }


async def test_a_withdrawal_pending_for_two_days_and_the_unsealed_entries_show(client, app, clock):
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    before = await gauges(client, app)
    assert before[("techx_withdrawals_pending", ())] == 0
    assert before[("techx_withdrawals_oldest_pending_seconds", ())] == 0
    assert before[("techx_reconciliation_open_differences", (("provider", "bank_transfer"),))] == 0
    assert before[("techx_webhook_deliveries_failing", ())] == 0

    await top_up(client, ops, buyer, 100_000)
    requested = await client.post(
        f"{API}/withdrawals",
        json={"amount": 60_000, "payee": "招商银行 6225 **** 0001"},
        headers={**buyer.headers, "Idempotency-Key": "w-1"},
    )
    assert requested.status_code == 201, requested.text
    clock.advance(timedelta(days=2))

    after = await gauges(client, app)
    assert after[("techx_withdrawals_pending", ())] == 1
    assert after[("techx_withdrawals_oldest_pending_seconds", ())] == 172_800
    assert after[("techx_ledger_unsealed_entries", ())] >= 2  # the transfer and the withdrawal's hold
    assert after[("techx_ledger_oldest_unsealed_seconds", ())] >= 172_800

    state = app.state
    await seal_pending(state.db, state.keyring, state.settings, state.clock)
    sealed = await gauges(client, app)
    assert sealed[("techx_ledger_unsealed_entries", ())] == 0
    assert sealed[("techx_ledger_oldest_unsealed_seconds", ())] == 0
    assert sealed[("techx_withdrawals_pending", ())] == 1  # still waiting for an operator


async def test_the_sweep_lag_grows_while_the_sweeper_does_not_run(client, app, clock):
    await app.state.sweeper.run_once(app.state.db, clock.now())
    fresh = await gauges(client, app)
    assert fresh[("techx_sweep_lag_seconds", (("step", "notices"),))] == 0
    assert fresh[("techx_sweep_rows_set_aside", (("step", "notices"),))] == 0
    clock.advance(timedelta(minutes=10))
    stale = await gauges(client, app)
    lag = {labels[0][1]: v for (name, labels), v in stale.items() if name == "techx_sweep_lag_seconds"}
    assert lag == {step: 600 for step in app.state.sweeper.step_names}


async def test_live_events_waiting_for_the_relay_show_with_their_age(client, app):
    empty = await gauges(client, app)
    assert empty[("techx_live_events_waiting", ())] == 0
    assert empty[("techx_live_events_oldest_waiting_seconds", ())] == 0
    # what a JetStream process records in a bid's transaction; no relay runs here (memory backend)
    events = [("auction:a", "bid", {"seq": 1}), ("auction:a", "bid", {"seq": 2})]
    await app.state.db.transaction(lambda session: record_events(session, events))
    waiting = await gauges(client, app)
    assert waiting[("techx_live_events_waiting", ())] == 2
    assert 0 <= waiting[("techx_live_events_oldest_waiting_seconds", ())] < 60
