"""The documents of a resource on the pages: a panel any workspace page includes with the macro
``documents_panel(owner_kind, owner_id)`` of ``documents/_documents.html`` (it loads the panel from
here), upload and removal through the same use cases as the API, and the file itself for a signed-in
reader (the pages' cookie; the API's route takes a bearer token)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from exchange.documents import service
from exchange.documents.domain import DocumentKind, DocumentTooLarge, OwnerKind
from exchange.documents.routes import Documents, OptionalCaller, content_disposition
from exchange.documents.service import DocumentsContext, Upload
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.db import Database
from exchange.platform.http import Db, Now
from exchange.web.errors import page_problem
from kernel.errors import NotFound
from kernel.page_actions import is_htmx

ACTION = "documents"  # refusals in the documents' own words (exchange/web/messages.py)


@dataclass
class PageUploadForm:
    file: UploadFile
    kind: DocumentKind = DocumentKind.OTHER
    confidential: bool = False


def _owner_kind(text: str) -> OwnerKind:
    try:
        return OwnerKind(text)
    except ValueError:
        raise NotFound(f"no documents of {text!r}") from None


def _panel_path(kind: OwnerKind | str, owner_id: uuid.UUID) -> str:
    return f"/documents/of/{getattr(kind, 'value', kind)}/{owner_id}"


async def _panel(
    db: Database,
    documents: DocumentsContext,
    principal: Principal | None,
    kind: OwnerKind,
    owner_id: uuid.UUID,
    chosen_kind: DocumentKind | None = None,
) -> dict[str, Any]:
    async with db.read() as session:
        rows, access = await service.list_documents(session, documents, principal, kind, owner_id)
    return {
        "owner_kind": kind.value,
        "owner_id": owner_id,
        "documents": rows,
        "may_upload": principal is not None and access.uploader_side and access.editable,
        "max_mb": documents.max_bytes / (1024 * 1024),
        "panel_path": _panel_path(kind, owner_id),
        "chosen_kind": chosen_kind.value if chosen_kind else "",
    }


@get("/documents/of/{owner_kind:str}/{owner_id:uuid}", include_in_schema=False, opt={"public_cache": False})
async def documents_panel(
    request: Request[Any, Any, Any],
    owner_kind: FromPath[str],
    owner_id: FromPath[uuid.UUID],
    principal: OptionalCaller,
    db: Db,
    documents: Documents,
    kind: FromQuery[DocumentKind | None] = None,
) -> Template:
    """The panel alone for htmx (the macro loads it in place), a page of its own without scripts;
    ``kind``: the kind its upload form offers first (a page's own: an objection's evidence…)."""
    context = await _panel(db, documents, principal, _owner_kind(owner_kind), owner_id, kind)
    template = "documents/panel.html" if is_htmx(request) else "documents/page.html"
    return Template(template, context={**context, "section": "workspace"})


def too_large_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A body over the upload limit, stopped while it was read: the file's refusal, in Chinese."""
    limit: int = request.app.state.documents.max_bytes
    return page_problem(request, DocumentTooLarge("the file is too large", field="file", max_bytes=limit))


@post(
    "/documents/of/{owner_kind:str}/{owner_id:uuid}",
    include_in_schema=False,
    status_code=200,
    exception_handlers={413: too_large_page},
)
async def upload_document(
    request: Request[Any, Any, Any],
    owner_kind: FromPath[str],
    owner_id: FromPath[uuid.UUID],
    data: Annotated[PageUploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    user: Caller,
    db: Db,
    clock: Now,
    documents: Documents,
) -> Template | Redirect:
    """Attach a file as ``POST /api/v1/…/documents`` does; a refusal is worded in Chinese by the
    pages' error handler (for htmx: in place of the form's answer)."""
    request.state.action = ACTION
    kind = _owner_kind(owner_kind)
    upload = Upload(
        filename=data.file.filename or "",
        content=await data.file.read(documents.max_bytes + 1),
        kind=data.kind,
        confidential=data.confidential,
    )
    document = await service.attach(db, documents, user, kind, owner_id, upload, clock.now())
    if not is_htmx(request):
        return Redirect(f"{_panel_path(kind, owner_id)}?notice=document-uploaded", status_code=303)
    context = await _panel(db, documents, user, kind, owner_id)
    return Template("documents/answer.html", context={**context, "said": f"已上传：{document.filename}"})


@post("/documents/{document_id:uuid}/remove", include_in_schema=False, status_code=200)
async def remove_document(
    request: Request[Any, Any, Any], document_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now,
    documents: Documents,
) -> Template | Redirect:  # fmt: skip
    request.state.action = ACTION
    document = await db.transaction(lambda s: service.remove(s, documents, user, document_id, clock.now()))
    kind = OwnerKind(document.owner_kind)
    if not is_htmx(request):
        return Redirect(f"{_panel_path(kind, document.owner_id)}?notice=document-removed", status_code=303)
    context = await _panel(db, documents, user, kind, document.owner_id)
    return Template("documents/answer.html", context={**context, "said": f"已删除：{document.filename}"})


@get("/documents/{document_id:uuid}", include_in_schema=False, opt={"public_cache": False})
async def document_file(
    document_id: FromPath[uuid.UUID], principal: OptionalCaller, db: Db, clock: Now, documents: Documents
) -> Response[bytes]:
    document, content = await service.read_content(db, documents, principal, document_id, clock.now())
    headers = {
        "Content-Disposition": content_disposition(document.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content=content, media_type=document.media_type, headers=headers)


PAGE_HANDLERS = [documents_panel, upload_document, remove_document, document_file]
