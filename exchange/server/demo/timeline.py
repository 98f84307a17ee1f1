"""The demo's scenes in the order of its calendar (the clock only moves forward).

S is the start of the present-day story, about thirteen weeks before the present P (the
university's process first). The clock starts earlier, at H, for the demo's history (two deals
settled long ago, whose implementation reports come due: tracking.py); the cast registers then.
A new scene goes where its moments fall.
"""

from __future__ import annotations

from exchange.server.demo import calendar, credit, demands, institution, market, money, programs, scenes
from exchange.server.demo import registry as registry_demo
from exchange.server.demo import tracking as tracking_demo
from exchange.server.demo.stage import Scene

SCENES: list[Scene] = [
    calendar.scene_calendar,  # S: a demo fixture for a year without data that the demo runs into
    scenes.scene_parties,  # H: the history's start, about nineteen months before P
    tracking_demo.scene_tracking_history,  # H .. S: two deals settled long ago; their implementation reports
    institution.scene_transfer_office,  # S + 1 h: the university's people join; roles, settings
    institution.scene_decided_transfers,  # S .. S + 20 d: two decisions, their notices; 实施 of one
    scenes.scene_wallets,  # S: bank transfers recorded
    programs.scene_program,  # S + 1 h
    scenes.scene_past_listings,  # S .. S + 3 d
    market.scene_trading_announcements,  # S + 3 d .. S + 4 d: intents and deposits
    programs.scene_service_orders,  # S + 6 d .. about S + 20 d
    credit.scene_credit,  # three hours after: ratings, an answer, a complaint, a demonstration institution
    scenes.scene_period_ends,  # about P − 30 d
    market.scene_trading_opens,  # the trading listings' period ends: auctions, negotiations, deals
    market.scene_deals,  # result notices close: signatures, payments, settlement
    institution.scene_income_plan,  # two hours after: the receipt of the auction's price, its plan
    market.scene_negotiated_deals,  # negotiated-price notices close: the licence pays, one cancelled
    money.scene_withdrawals,
    market.scene_relisted_auction,  # five working days before P (a week or two, by the holidays)
    scenes.scene_relistings,  # P − 10 d, or just after the relisted auction
    institution.scene_transfer_desk,  # after the relistings .. P − 2 d − 2 h: a process at every step
    scenes.scene_recent_listings,  # P − 2 d
    demands.scene_demands,  # P − 2 d: demands across fields, a campaign screened, proposals
    scenes.scene_due_diligence,  # P − 1 d
    programs.scene_redemption_notice,  # yesterday 09:30 in Beijing
    market.scene_negotiations,  # yesterday 10:00 in Beijing .. today
    institution.scene_inventor_payout,  # today: the plan's notice closed; the inventors are paid
    market.scene_live_auction,  # P − 10 min
    money.scene_reconciliation,  # P − 2 min
    registry_demo.scene_registry,  # P − 2 min: listings registered, one returned; a partner platform's import
]
