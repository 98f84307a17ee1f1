"""Payer accounts other than an organisation's wallet: whose account a withdrawal draws on.

An organisation withdraws from its wallet (``org:<id>:cash``). Another module may let a person it
pays withdraw from their own ledger account the same way — the institutions' inventors from
``inventor:<id>:cash``. Payments knows nothing of them but this protocol: a ``PayerAccounts`` for
each kind of payer (``inventor``), registered by the composition root in ``Payers``, answers who
may see and who may draw on one payer account, which ledger account it is, the organisation
answerable for it and the bank account its withdrawals are paid to. A withdrawal then goes exactly
as an organisation's: held, completed or rejected by an operator, reconciled by its bank debit.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Protocol

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting.chart import AccountSpec
from exchange.parties.domain import Principal
from exchange.payments.domain import PaymentError

PAYER = re.compile(r"^([a-z_]{1,30}):([0-9a-fA-F-]{32,36})$")


class UnknownPayer(PaymentError):
    problem_type = "unknown-payer"
    title = "No payer account of this kind and id"


class Payer(Protocol):
    """One payer account, as its module describes it."""

    @property
    def ref(self) -> str: ...  # ``<kind>:<id>``, stored on the withdrawal

    @property
    def account(self) -> AccountSpec: ...  # the ledger account the money leaves

    @property
    def org_id(self) -> uuid.UUID: ...  # the organisation answerable for it

    @property
    def payee(self) -> str: ...  # the bank account on record for its withdrawals ("" when none)


class PayerAccounts(Protocol):
    """One kind of payer account. ``payer`` answers 404 when the caller may not see it and, for
    ``draw``, 403 when they may not withdraw from it, or the module's own refusal (an identity not
    checked, no bank account on record) naming its rule."""

    async def payer(self, session: AsyncSession, caller: Principal, payer_id: uuid.UUID, *, draw: bool) -> Payer: ...


class Payers(dict[str, PayerAccounts]):
    """The kinds of payer account the host registered, by kind (``inventor``)."""

    async def resolve(self, session: AsyncSession, caller: Principal, ref: str, *, draw: bool) -> Payer:
        kind, payer_id = parse_payer(ref)
        accounts = self.get(kind)
        if accounts is None:
            raise UnknownPayer(f"no payer account of kind {kind!r}", field="payer")
        return await accounts.payer(session, caller, payer_id, draw=draw)


def parse_payer(ref: str, field: str = "payer") -> tuple[str, uuid.UUID]:
    match = PAYER.match(ref.strip())
    if match is None:
        raise UnknownPayer("payer must be <kind>:<id>, e.g. inventor:<uuid>", field=field)
    try:
        return match.group(1), uuid.UUID(match.group(2))
    except ValueError:
        raise UnknownPayer("payer must be <kind>:<id>, e.g. inventor:<uuid>", field=field) from None


def payer_ref(kind: str, payer_id: Any) -> str:
    return f"{kind}:{payer_id}"


PayersDependency = NamedDependency[Payers]  # ``payers: PayersDependency`` in a handler: the host's registry
