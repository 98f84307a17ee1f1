"""The Stripe API as the exchange uses it, through the official ``stripe`` library.

The API base comes from settings, so that a local Stripe-compatible server can stand in for
Stripe in tests and demos. Every object the webhook acts on is fetched here again: an event's
payload says only which object to look at.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import stripe

from exchange.payments.domain import InvalidSignature, ProviderNotConfigured, ProviderUnavailable, UnknownAtProvider
from exchange.platform.settings import Settings


class StripeGateway:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    async def create_payment_intent(
        self, *, amount: int, metadata: Mapping[str, str], idempotency_key: str
    ) -> stripe.PaymentIntent:
        return await self._call(
            self.client.v1.payment_intents.create_async(
                params={
                    "amount": amount,
                    "currency": "cny",
                    "metadata": dict(metadata),
                    "payment_method_types": ["card"],
                },
                options={"idempotency_key": idempotency_key},
            )
        )

    async def payment_intent(self, payment_intent_id: str) -> stripe.PaymentIntent:
        return await self._call(
            self.client.v1.payment_intents.retrieve_async(
                payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            )
        )

    async def charge(self, charge_id: str) -> stripe.Charge:
        return await self._call(
            self.client.v1.charges.retrieve_async(charge_id, params={"expand": ["balance_transaction"]})
        )

    async def refund(self, refund_id: str) -> stripe.Refund:
        return await self._call(self.client.v1.refunds.retrieve_async(refund_id))

    async def refunds(self, charge_id: str) -> list[stripe.Refund]:
        page = await self._call(self.client.v1.refunds.list_async(params={"charge": charge_id, "limit": 100}))
        return [refund async for refund in page.auto_paging_iter()]

    async def balance_transactions(self, start: datetime, end: datetime, page_size: int = 100) -> AsyncIterator[Any]:
        """Balance transactions created in ``[start, end)``, newest first, page by page."""
        low, high = int(start.timestamp()), int(end.timestamp())
        page = await self._call(self.client.v1.balance_transactions.list_async(params={"limit": page_size}))
        try:
            async for txn in page.auto_paging_iter():
                if txn.created >= high:
                    continue
                if txn.created < low:
                    break  # newest first: everything after this is older still
                yield txn
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"Stripe: {exc.user_message or exc}") from exc

    @staticmethod
    async def _call(awaitable: Any) -> Any:
        try:
            return await awaitable
        except stripe.StripeError as exc:
            error = ProviderUnavailable
            if isinstance(exc, stripe.InvalidRequestError) and exc.http_status == 404:
                error = UnknownAtProvider  # Stripe answered: it has no such object
            raise error(f"Stripe: {exc.user_message or exc}") from exc


def configured(settings: Settings) -> bool:
    return bool(settings.stripe_api_key)


@asynccontextmanager
async def stripe_gateway(settings: Settings) -> AsyncIterator[StripeGateway]:
    if not configured(settings):
        raise ProviderNotConfigured("card payments need TECHX_STRIPE_API_KEY; use a bank transfer")
    http = stripe.HTTPXClient()
    client = stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
        http_client=http,
        max_network_retries=2,
    )
    try:
        yield StripeGateway(client)
    finally:
        await http.close_async()


def verify_signature(payload: bytes, header: str | None, secret: str, now: datetime, tolerance: int) -> None:
    """Check ``Stripe-Signature`` with the library, and its age against the exchange's clock."""
    if not secret:
        raise ProviderNotConfigured("the Stripe webhook needs TECHX_STRIPE_WEBHOOK_SECRET")
    if not header:
        raise InvalidSignature("the Stripe-Signature header is missing")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature("the Stripe-Signature header does not match the body") from exc
    stamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    try:
        signed_at = datetime.fromtimestamp(int(stamps[0]), UTC)
    except (IndexError, ValueError, OverflowError, OSError):
        raise InvalidSignature("the Stripe-Signature header has no usable timestamp") from None
    if abs((now - signed_at).total_seconds()) > tolerance:
        raise InvalidSignature(f"the signature was made at {signed_at.isoformat()}, outside {tolerance} s of now")


def sign(payload: bytes, secret: str, at: datetime) -> str:
    """A ``Stripe-Signature`` header for ``payload``, as Stripe makes it (tests and demos send events so)."""
    stamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, "sha256").hexdigest()
    return f"t={stamp},v1={digest}"
