"""Use cases of attachments: attach a file to a resource, list a resource's documents, read one's
metadata and content, remove one. The resource's own rule decides who may do what (``owners``).

A file is checked (size, then type from its bytes) before anything is stored; its bytes go to the
storage before the row is written, so a row never names a blob that is not there (a blob without a
row — a failed transaction — is harmless: the same bytes would be stored under the same key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.documents.domain import DocumentKind, OwnerKind, check_file
from exchange.documents.models import Document, DocumentDownload
from exchange.documents.owners import ListingDocuments, OrgDocuments, OwnerAccess, OwnerRule
from exchange.documents.storage import LocalStorage, Storage, key_of
from exchange.parties.domain import Principal
from exchange.platform.db import Database
from exchange.platform.settings import Settings
from kernel.columns import new_id
from kernel.errors import Forbidden, InvalidState, NotFound
from kernel.keyring import KeyRing
from listings.crypto import seal_bytes, unseal_bytes
from listings.errors import NdaRequired

# Room for the multipart envelope around the file (boundaries, part headers, the other fields).
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@dataclass
class DocumentsContext:
    storage: Storage
    data_keys: KeyRing[bytes]
    max_bytes: int
    owners: dict[OwnerKind, OwnerRule] = field(default_factory=dict)

    @property
    def upload_body_limit(self) -> int:
        """The request body an upload route accepts: the file's limit plus the multipart envelope."""
        return self.max_bytes + MULTIPART_OVERHEAD_BYTES

    def rule(self, kind: OwnerKind) -> OwnerRule:
        return self.owners[kind]


def create_documents(settings: Settings, data_keys: KeyRing[bytes]) -> DocumentsContext:
    """The documents' context with the rules of the owners this module knows; the composition root
    registers the others (an objection's, which needs the listings' context; a service order's,
    from vouchers) in ``owners``."""
    return DocumentsContext(
        storage=LocalStorage(settings.documents_dir),
        data_keys=data_keys,
        max_bytes=settings.document_max_bytes,
        owners={
            OwnerKind.LISTING: ListingDocuments(),
            OwnerKind.ORG: OrgDocuments(),
        },
    )


async def _writable(
    session: AsyncSession, ctx: DocumentsContext, caller: Principal, owner_kind: OwnerKind, owner_id: uuid.UUID
) -> OwnerAccess:
    access = await ctx.rule(owner_kind).access(session, caller, owner_id)
    if not access.uploader_side:
        raise Forbidden(f"only the {owner_kind.value}'s own side attaches and removes its documents")
    if not access.editable:
        raise InvalidState(f"this {owner_kind.value} no longer takes changes to its documents")
    return access


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    kind: DocumentKind
    confidential: bool = False
    label: str = ""


async def attach(
    db: Database,
    ctx: DocumentsContext,
    caller: Principal,
    owner_kind: OwnerKind,
    owner_id: uuid.UUID,
    upload: Upload,
    now: datetime,
) -> Document:
    """Attach ``upload`` to the resource: refused (413, 422) before anything is stored; the caller's
    right to attach checked before the bytes are stored and again in the transaction that records them."""
    filename, file_type = check_file(upload.filename, upload.content, ctx.max_bytes)
    async with db.read() as session:
        await _writable(session, ctx, caller, owner_kind, owner_id)
    document_id = new_id()
    # A confidential file is sealed for this document (its id the associated data), so the same
    # bytes attached twice in confidence are two blobs; a public file is stored once however often attached.
    stored = seal_bytes(ctx.data_keys, document_id, upload.content) if upload.confidential else upload.content
    storage_key = await ctx.storage.put(stored)

    async def work(session: AsyncSession) -> Document:
        await _writable(session, ctx, caller, owner_kind, owner_id)
        document = Document(
            id=document_id,
            owner_kind=owner_kind.value,
            owner_id=owner_id,
            uploaded_by_user_id=caller.user_id,
            uploaded_by_org_id=caller.org_id,
            filename=filename,
            media_type=file_type.media_type,
            size=len(upload.content),
            sha256=key_of(upload.content),
            storage_key=storage_key,
            kind=upload.kind.value,
            label=upload.label,
            confidential=upload.confidential,
            created_at=now,
            removed_at=None,
        )
        session.add(document)
        await session.flush()
        return document

    return await db.transaction(work)


async def list_documents(
    session: AsyncSession, ctx: DocumentsContext, caller: Principal | None, owner_kind: OwnerKind, owner_id: uuid.UUID
) -> tuple[list[Document], OwnerAccess]:
    """The resource's documents still attached, oldest first, and what the caller may do with them."""
    access = await ctx.rule(owner_kind).access(session, caller, owner_id)
    rows = await session.scalars(
        select(Document)
        .where(Document.owner_kind == owner_kind.value, Document.owner_id == owner_id, Document.removed_at.is_(None))
        .order_by(Document.created_at, Document.id)
    )
    return list(rows.all()), access


async def get_document(
    session: AsyncSession, ctx: DocumentsContext, caller: Principal | None, document_id: uuid.UUID
) -> tuple[Document, OwnerAccess]:
    """A document, for whoever may see the resource it belongs to; 404 for anyone else."""
    document = await session.get(Document, document_id)
    if document is None or document.removed_at is not None:
        raise NotFound(f"document {document_id} not found")
    try:
        access = await ctx.rule(OwnerKind(document.owner_kind)).access(session, caller, document.owner_id)
    except NotFound as exc:
        raise NotFound(f"document {document_id} not found") from exc
    return document, access


async def read_content(
    db: Database, ctx: DocumentsContext, caller: Principal | None, document_id: uuid.UUID, now: datetime
) -> tuple[Document, bytes]:
    """The document and its file. A confidential one only with a basis (a listing's: seller, operator
    or NDA), and every such download is logged, in the transaction that allowed it."""

    async def work(session: AsyncSession) -> Document:
        document, access = await get_document(session, ctx, caller, document_id)
        if document.confidential:
            if access.confidential_basis is None or caller is None:
                if document.owner_kind == OwnerKind.LISTING.value:
                    raise NdaRequired(f"accept the NDA with POST /api/v1/listings/{document.owner_id}/nda first")
                raise Forbidden("this confidential document is not shown to the caller")
            session.add(
                DocumentDownload(
                    document_id=document.id,
                    user_id=caller.user_id,
                    org_id=caller.org_id,
                    basis=access.confidential_basis,
                    downloaded_at=now,
                )
            )
        return document

    if caller is None:  # the public reads public documents only: nothing to log, nothing to write
        async with db.read() as session:
            document = await work(session)
    else:
        document = await db.transaction(work)
    stored = await ctx.storage.get(document.storage_key)
    return document, unseal_bytes(ctx.data_keys, document.id, stored) if document.confidential else stored


async def remove(
    session: AsyncSession, ctx: DocumentsContext, caller: Principal, document_id: uuid.UUID, now: datetime
) -> Document:
    """Remove a document from its resource (the row stays, with ``removed_at``, for the record)."""
    document = await session.get(Document, document_id)
    if document is None or document.removed_at is not None:
        raise NotFound(f"document {document_id} not found")
    try:
        await _writable(session, ctx, caller, OwnerKind(document.owner_kind), document.owner_id)
    except NotFound as exc:
        raise NotFound(f"document {document_id} not found") from exc
    document.removed_at = now
    return document


async def downloads(session: AsyncSession, document_id: uuid.UUID) -> list[DocumentDownload]:
    rows = await session.scalars(
        select(DocumentDownload).where(DocumentDownload.document_id == document_id).order_by(DocumentDownload.id)
    )
    return list(rows.all())
