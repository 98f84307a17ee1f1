"""Technology brokers (技术经纪人, issue 20): a person registered by a service-provider organisation
with a credential an operator verifies; engaged by a seller or a buyer on a listing, a demand (by
id), a negotiation or a deal with an agreed commission owed by one side; paid at settlement as a
further leg of the payment's atomic ledger batch (``settlement.BrokerCommissions``, trading's
``SettlementLegs`` protocol wired by the composition root); and a broker's record drawn from the
ledger. Use cases in ``service.py``, rules in ``domain.py``. See docs/demands.md.
"""

from exchange.brokers.routes import BROKER_ROUTES
from exchange.brokers.service import BrokersContext, TradeSubjects
from exchange.brokers.settlement import BrokerCommissions, ListingBrokers

__all__ = ["BROKER_ROUTES", "BrokerCommissions", "BrokersContext", "ListingBrokers", "TradeSubjects"]
