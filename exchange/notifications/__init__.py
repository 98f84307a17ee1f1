"""Notifications: what other modules write to the outbox (``exchange.platform.outbox``) reaches
people by inbox, email and signed webhooks.

Use cases are in named files rather than one ``service.py``: ``expansion`` (an outbox row into
inbox items and deliveries), ``delivery`` (the worker that sends, retries and erases tokens),
``inbox`` (the inbox and preferences), ``webhooks`` (endpoints and the signed, SSRF-checked call);
``texts`` renders the templates, ``mail`` speaks SMTP. docs/notifications.md describes it all.
"""

from exchange.notifications.delivery import Notifier
from exchange.notifications.domain import CATALOGUE, Channel, KindInfo
from exchange.notifications.routes import ROUTE_HANDLERS

__all__ = ["CATALOGUE", "ROUTE_HANDLERS", "Channel", "KindInfo", "Notifier"]
