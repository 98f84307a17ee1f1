"""Payments and reconciliation: bank transfers, withdrawals, card top-ups through Stripe, and the
operator's proof that the ledger agrees with the money that moved. See docs/payments.md."""

from exchange.payments.bank import PayerWithdrawals
from exchange.payments.payers import Payer, PayerAccounts, Payers
from exchange.payments.routes import ROUTE_HANDLERS

__all__ = ["ROUTE_HANDLERS", "Payer", "PayerAccounts", "PayerWithdrawals", "Payers"]
