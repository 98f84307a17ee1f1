"""The JSON API of attachments: upload and list on each kind of owner, then one document's
metadata, file and removal by its id. Uploads are ``multipart/form-data`` (file, kind, confidential)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath

from exchange.documents import service
from exchange.documents.domain import DocumentTooLarge, OwnerKind
from exchange.documents.models import Document
from exchange.documents.schemas import DocumentList, DocumentOut, UploadForm
from exchange.documents.service import DocumentsContext, Upload
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from exchange.platform.problems import handle_any
from kernel.shapes import shaped

Documents = NamedDependency[DocumentsContext]
OptionalCaller = NamedDependency[Principal | None]  # the public too: a listing's public documents
Form = Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)]

API_PREFIX = "/api/v1"


def document_out(document: Document) -> DocumentOut:
    return shaped(DocumentOut, document, content_url=f"{API_PREFIX}/documents/{document.id}/content")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one (Chinese too) as RFC 6266/5987 ``filename*``."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{fallback or 'document'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def too_large(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """A body over the upload limit, stopped by the framework while it was read (nothing stored):
    the same refusal as a file over the limit inside a body under it."""
    limit: int = request.app.state.documents.max_bytes
    refusal = DocumentTooLarge(f"the file is larger than the {limit} bytes accepted", field="file", max_bytes=limit)
    return handle_any(request, refusal)


async def _upload(
    db: Any, documents: DocumentsContext, clock: Any, user: Principal, kind: OwnerKind, owner_id: uuid.UUID, data: Any
) -> DocumentOut:
    upload = Upload(
        filename=data.file.filename or "",
        content=await data.file.read(documents.max_bytes + 1),  # one byte past the limit tells it is over
        kind=data.kind,
        confidential=data.confidential,
        label=data.label,
    )
    document = await service.attach(db, documents, user, kind, owner_id, upload, clock.now())
    return document_out(document)


async def _list(
    db: Any, documents: DocumentsContext, principal: Principal | None, kind: OwnerKind, owner_id: uuid.UUID
) -> DocumentList:
    async with db.read() as session:
        rows, access = await service.list_documents(session, documents, principal, kind, owner_id)
    may_upload = principal is not None and access.uploader_side and access.editable
    return DocumentList(items=[document_out(r) for r in rows], may_upload=may_upload)


UPLOAD = {
    "status_code": 201,
    "security": BEARER,
    "tags": ["documents"],
    "exception_handlers": {413: too_large},
}
TYPES = "PDF, JPEG, PNG, OFD, DOCX or XLSX, by content; multipart: file, kind, confidential"


class OwnerDocumentsController(Controller):
    """Each kind of owner's two routes, on the owner's own path and parameter name."""

    path = "/"
    tags = ["documents"]

    @post(
        "/listings/{listing_id:uuid}/documents", summary=f"Attach a file to a listing (the seller; {TYPES})", **UPLOAD
    )
    async def upload_listing(
        self, listing_id: FromPath[uuid.UUID], data: Form, user: Caller, db: Db, clock: Now, documents: Documents
    ) -> DocumentOut:
        return await _upload(db, documents, clock, user, OwnerKind.LISTING, listing_id, data)

    @get(
        "/listings/{listing_id:uuid}/documents",
        summary="A listing's documents (whoever may see the listing; confidential files under the NDA rule)",
    )
    async def list_listing(
        self, listing_id: FromPath[uuid.UUID], db: Db, documents: Documents, principal: OptionalCaller
    ) -> DocumentList:
        return await _list(db, documents, principal, OwnerKind.LISTING, listing_id)

    @post(
        "/objections/{objection_id:uuid}/documents",
        summary=f"Attach evidence to a pending objection (the objector; {TYPES})",
        **UPLOAD,
    )
    async def upload_objection(
        self, objection_id: FromPath[uuid.UUID], data: Form, user: Caller, db: Db, clock: Now, documents: Documents
    ) -> DocumentOut:
        return await _upload(db, documents, clock, user, OwnerKind.OBJECTION, objection_id, data)

    @get(
        "/objections/{objection_id:uuid}/documents",
        security=BEARER,
        summary="An objection's evidence (the objector's organisation, the listing's seller, operators)",
    )
    async def list_objection(
        self, objection_id: FromPath[uuid.UUID], db: Db, documents: Documents, user: Caller
    ) -> DocumentList:
        return await _list(db, documents, user, OwnerKind.OBJECTION, objection_id)

    @post(
        "/orgs/{org_id:uuid}/documents",
        summary=f"Attach a business licence or other papers to the caller's organisation (its members; {TYPES})",
        **UPLOAD,
    )
    async def upload_org(
        self, org_id: FromPath[uuid.UUID], data: Form, user: Caller, db: Db, clock: Now, documents: Documents
    ) -> DocumentOut:
        return await _upload(db, documents, clock, user, OwnerKind.ORG, org_id, data)

    @get("/orgs/{org_id:uuid}/documents", security=BEARER, summary="An organisation's documents (members, operators)")
    async def list_org(self, org_id: FromPath[uuid.UUID], db: Db, documents: Documents, user: Caller) -> DocumentList:
        return await _list(db, documents, user, OwnerKind.ORG, org_id)

    @post(
        "/service-orders/{order_id:uuid}/documents",
        summary=f"Attach a delivery document to a service order (the provider, until acceptance; {TYPES})",
        **UPLOAD,
    )
    async def upload_order(
        self, order_id: FromPath[uuid.UUID], data: Form, user: Caller, db: Db, clock: Now, documents: Documents
    ) -> DocumentOut:
        return await _upload(db, documents, clock, user, OwnerKind.SERVICE_ORDER, order_id, data)

    @get(
        "/service-orders/{order_id:uuid}/documents",
        security=BEARER,
        summary="A service order's documents (its parties, the program's administrators, operators)",
    )
    async def list_order(
        self, order_id: FromPath[uuid.UUID], db: Db, documents: Documents, user: Caller
    ) -> DocumentList:
        return await _list(db, documents, user, OwnerKind.SERVICE_ORDER, order_id)


class DocumentController(Controller):
    path = "/documents"
    tags = ["documents"]

    @get("/{document_id:uuid}", summary="A document's metadata (whoever may see the resource it belongs to)")
    async def show(
        self, document_id: FromPath[uuid.UUID], db: Db, documents: Documents, principal: OptionalCaller
    ) -> DocumentOut:
        async with db.read() as session:
            document, _ = await service.get_document(session, documents, principal, document_id)
        return document_out(document)

    @get(
        "/{document_id:uuid}/content",
        summary="The file (a confidential one under its resource's confidential rule; every such download is logged)",
        media_type="application/octet-stream",
        response_description="The file's bytes, with its media type as detected at upload",
    )
    async def content(
        self, document_id: FromPath[uuid.UUID], db: Db, clock: Now, documents: Documents, principal: OptionalCaller
    ) -> Response[bytes]:
        document, data = await service.read_content(db, documents, principal, document_id, clock.now())
        headers = {
            "Content-Disposition": content_disposition(document.filename),
            "X-Content-Type-Options": "nosniff",
            # A confidential file is never kept by a shared cache; a public one may be, privately.
            "Cache-Control": "private, no-store" if document.confidential else "private, max-age=300",
        }
        return Response(content=data, media_type=document.media_type, headers=headers)

    @delete(
        "/{document_id:uuid}",
        security=BEARER,
        summary="Remove a document while its resource takes changes (the side that attaches them)",
    )
    async def remove(
        self, document_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, documents: Documents
    ) -> None:
        await db.transaction(lambda s: service.remove(s, documents, user, document_id, clock.now()))


ROUTE_HANDLERS = [OwnerDocumentsController, DocumentController]
