"""Errors of trading that the pure rules in ``domain`` do not already name."""

from __future__ import annotations

from kernel.errors import Conflict, Forbidden, InvalidState


class NotParticipant(Forbidden):
    problem_type = "not-a-participant"
    title = "Only the parties of this trade may do this"


class SellerCannotBuy(Forbidden):
    problem_type = "seller-cannot-buy"
    title = "The seller does not register intent on, bid for or buy its own listing"


class IntentExists(Conflict):
    problem_type = "intent-exists"
    title = "The organisation has already registered intent on this listing"


class NotAnnounced(InvalidState):
    problem_type = "listing-not-announced"
    title = "Intents are registered and withdrawn only during the announcement"


class OfferNotStanding(InvalidState):
    problem_type = "offer-not-standing"
    title = "Only the standing offer of an open negotiation can be answered"


class OfferExpired(InvalidState):
    problem_type = "offer-expired"
    title = "The offer has expired"


class DealStateConflict(InvalidState):
    problem_type = "invalid-state"
    title = "Not allowed in the deal's current state"


class InstalmentNotDue(Conflict):
    """The buyer pays an instalment when it is due (or overdue), not ahead of the agreed schedule."""

    problem_type = "instalment-not-due"
    title = "The next instalment is not due yet"


class AlreadySigned(Conflict):
    problem_type = "already-signed"
    title = "This party has already signed the deal"


class NotAdmin(Forbidden):
    problem_type = "admin-required"
    title = "Only an admin of the organisation may sign, pay or cancel"


class DealOnHold(Conflict):
    """A party of the deal is suspended: the deal waits (no signature, no payment, no settlement)."""

    problem_type = "deal-on-hold"
    title = "The deal is on hold while a party is suspended"
