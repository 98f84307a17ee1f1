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
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, PathParameter

from exchange.documents import service
from exchange.documents.domain import DocumentTooLarge, OwnerKind
from exchange.documents.models import Document
from exchange.documents.schemas import DocumentList, DocumentOut, UploadForm
from exchange.documents.service import DocumentsContext, Upload
from exchange.parties.domain import Principal
from exchange.parties.http import Caller, provide_user
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


def owner_routes(
    kind: OwnerKind, path: str, param: str, *, attach: str, uploader: str, read: str, public: bool = False
) -> list[HTTPRouteHandler]:
    """One kind of owner's two routes on ``{path}/{param}/documents``: attach a file (``attach``,
    by ``uploader``) and list its files (``read``; the public too if ``public``, else a bearer
    token). Adding a kind of owner is one more call below, and its access rule in the service.
    The handlers are named ``upload_<owner>`` and ``list_<owner>`` (``param`` less ``_id``), as
    the operation ids read."""
    OwnerId = Annotated[uuid.UUID, PathParameter(name=param)]

    async def upload(
        owner_id: OwnerId, data: Form, user: Caller, db: Db, clock: Now, documents: Documents
    ) -> DocumentOut:
        return await _upload(db, documents, clock, user, kind, owner_id, data)

    async def list_(owner_id: OwnerId, db: Db, documents: Documents, principal: OptionalCaller) -> DocumentList:
        reader = principal if public else provide_user(principal)  # the same 401 as a ``user`` route's
        return await _list(db, documents, reader, kind, owner_id)

    owner = param.removesuffix("_id")
    upload.__name__ = upload.__qualname__ = f"upload_{owner}"
    list_.__name__ = list_.__qualname__ = f"list_{owner}"
    route = f"{path}/{{{param}:uuid}}/documents"
    namespace = {"OwnerId": OwnerId}
    return [
        post(route, summary=f"{attach} ({uploader}; {TYPES})", signature_namespace=namespace, **UPLOAD)(upload),
        get(
            route,
            summary=read,
            tags=["documents"],
            signature_namespace=namespace,
            **({} if public else {"security": BEARER}),
        )(list_),
    ]


OWNER_ROUTES = [
    *owner_routes(
        OwnerKind.LISTING,
        "/listings",
        "listing_id",
        attach="Attach a file to a listing",
        uploader="the seller",
        read="A listing's documents (whoever may see the listing; confidential files under the NDA rule)",
        public=True,
    ),
    *owner_routes(
        OwnerKind.OBJECTION,
        "/objections",
        "objection_id",
        attach="Attach evidence to a pending objection",
        uploader="the objector",
        read="An objection's evidence (the objector's organisation, the listing's seller, operators)",
    ),
    *owner_routes(
        OwnerKind.ORG,
        "/orgs",
        "org_id",
        attach="Attach a business licence or other papers to the caller's organisation",
        uploader="its members",
        read="An organisation's documents (members, operators)",
    ),
    *owner_routes(
        OwnerKind.SERVICE_ORDER,
        "/service-orders",
        "order_id",
        attach="Attach a delivery document to a service order",
        uploader="the provider, until acceptance",
        read="A service order's documents (its parties, the program's administrators, operators)",
    ),
    *owner_routes(
        OwnerKind.TRANSFER_PROCESS,
        "/transfer-processes",
        "process_id",
        attach="Attach a step's papers to a transfer process: appraisal report, expert opinions, minutes, contract",
        uploader="the institution's members, until the process ends",
        read="A transfer process's documents (the institution's members, operators)",
    ),
]


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


ROUTE_HANDLERS = [*OWNER_ROUTES, DocumentController]
