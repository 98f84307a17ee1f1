"""Who may see, attach and remove the documents of each kind of owner: the rule of the resource the
document belongs to, never one of the documents' own.

Each rule answers ``access(session, caller, owner_id)``: NotFound when the caller may not see the
resource (a stranger learns nothing of another organisation's documents), else what the caller may
do with its documents. Rules of resources in sibling modules (a service order of vouchers) are
registered by the composition root (``DocumentsContext.owners``) as objects of the ``OwnerRule`` shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from exchange.parties.models import Org
from kernel.errors import NotFound, Unauthorized
from listings import ListingsContext, ListingStatus, ObjectionStatus, confidential_basis, load_listing, notices
from listings.errors import NdaRequired


class OwnerAccess(Protocol):
    @property
    def uploader_side(self) -> bool:
        """The caller is of the side that attaches documents to the resource."""
        ...

    @property
    def editable(self) -> bool:
        """The resource still takes new documents and lets its own be removed."""
        ...

    @property
    def confidential_basis(self) -> str | None:
        """Why the caller may read the resource's confidential documents; None: it may not."""
        ...


class OwnerRule(Protocol):
    async def access(self, session: AsyncSession, caller: Principal | None, owner_id: uuid.UUID) -> OwnerAccess: ...


@dataclass(frozen=True)
class Access:
    uploader_side: bool
    editable: bool
    confidential_basis: str | None


def signed_in(caller: Principal | None) -> Principal:
    if caller is None:
        raise Unauthorized("this resource's documents need a bearer token from POST /api/v1/auth/login")
    return caller


# A listing takes documents while its seller prepares it; once submitted, what was reviewed and
# announced stays as it was (an amendment during the announcement changes fields, not files).
EDITABLE_LISTING = frozenset({ListingStatus.DRAFT.value, ListingStatus.REJECTED.value})


class ListingDocuments:
    """A listing's documents: to whoever may see the listing (the public once it is announced);
    confidential ones under the NDA rule of its confidential details (SPEC §2.6); attached by the seller."""

    async def access(self, session: AsyncSession, caller: Principal | None, owner_id: uuid.UUID) -> Access:
        actor = actor_of(caller) if caller is not None else None
        listing = await load_listing(session, owner_id, viewer=actor)
        try:
            basis: str | None = await confidential_basis(session, listing, actor)
        except NdaRequired:
            basis = None
        seller = caller is not None and caller.org_id == listing.seller_org_id
        return Access(seller, listing.status in EDITABLE_LISTING, basis)


class ObjectionDocuments:
    """An objection's evidence: to whoever sees the objection (``notices.get_objection``: the
    objector, the side the notice is about and operators); attached by the objector while the
    objection is pending."""

    def __init__(self, listings: ListingsContext) -> None:
        self.listings = listings

    async def access(self, session: AsyncSession, caller: Principal | None, owner_id: uuid.UUID) -> Access:
        caller = signed_in(caller)
        objection = await notices.get_objection(session, self.listings, actor_of(caller), owner_id)
        objector = caller.user_id == objection.objector_user_id or caller.org_id == objection.objector_org_id
        basis = "objector" if objector else "operator" if caller.is_operator else "seller"
        return Access(objector, objection.status == ObjectionStatus.PENDING.value, basis)


class OrgDocuments:
    """An organisation's documents (its business licence, for verification): to its members and
    operators; attached by its members."""

    async def access(self, session: AsyncSession, caller: Principal | None, owner_id: uuid.UUID) -> Access:
        caller = signed_in(caller)
        if caller.org_id == owner_id:
            return Access(True, True, "member")
        if caller.is_operator and await session.get(Org, owner_id) is not None:
            return Access(False, True, "operator")
        raise NotFound(f"organisation {owner_id} not found")
