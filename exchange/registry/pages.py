"""The pages of the achievement registry: the public library (/registry, searched by keyword and
field; /registry/{id}, a registered achievement with its number); the operators' console
(/console/registry: register the submitted ones or return them with a reason;
/console/registry/imports: a file uploaded, checked by a dry run, imported, and every run's progress);
the organisations' own registrations are ``workspace_pages.py`` (/workspace/registry).

Every handler calls the service function of the JSON route; refusals are the error page of the
shared handlers, in Chinese.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import Redirect, Template

from exchange.parties.domain import Principal
from exchange.platform.http import Db, Now
from exchange.registry import imports, service
from exchange.registry.domain import Action, RegistryRuleBroken, Status
from exchange.registry.page_forms import FIELDS, WORDS
from exchange.registry.schemas import DecisionIn
from exchange.registry.service import RegistryContext
from exchange.registry.workspace_pages import WORKSPACE_PAGES
from kernel.errors import NotFound
from kernel.page_actions import done, read_form
from kernel.pagination import Cursor
from listings.domain import Field

Registry = NamedDependency[RegistryContext]
Operator = NamedDependency[Principal]
PAGE_SIZE = 20
DECIDED = {"register": "registered", "return": "returned"}
MAX_IMPORT_BYTES = 900 * 1024  # within the pages' request limit; larger files: ``techx registry import``


# ----------------------------------------------------------------------------------------------
# Public


@get("/registry", include_in_schema=False, name="registry-library")
async def library(
    db: Db,
    q: FromQuery[Annotated[str, Parameter(max_length=200)]] = "",
    field: FromQuery[Annotated[str, Parameter(max_length=64)]] = "",
    cursor: Cursor = None,
) -> Template:
    """The library, as ``GET /api/v1/registry/achievements`` lists it: a keyset page, the next by its cursor."""
    chosen = field if field in Field._value2member_map_ else ""
    async with db.read() as session:
        rows, next_cursor = await service.library(
            session, q=q[:100], field=chosen or None, cursor=cursor, limit=PAGE_SIZE
        )
        total = await service.library_count(session, q=q[:100], field=chosen or None)
    first = "/registry?" + urlencode({"q": q[:100], "field": chosen})
    return Template(
        "registry/library.html",
        context={"section": "registry", "rows": rows, "total": total, "q": q[:100], "field": chosen,
                 "fields": FIELDS, "words": WORDS, "first": first, "next_cursor": next_cursor,
                 "first_page": cursor is None},
    )  # fmt: skip


@get("/registry/{achievement_id:uuid}", include_in_schema=False, name="registry-achievement")
async def achievement_page(achievement_id: FromPath[uuid.UUID], db: Db) -> Template:
    async with db.read() as session:
        a = await service.get_achievement(session, achievement_id, None)
    return Template("registry/achievement.html", context={"section": "registry", "a": a, "words": WORDS})


# ----------------------------------------------------------------------------------------------
# The operators' console


@get("/console/registry", include_in_schema=False, name="console-registry")
async def console_registry(operator: Operator, db: Db) -> Template:
    """The submitted registrations to check, oldest first."""
    operator.require_operator()
    async with db.read() as session:
        pending = await service.list_for(session, operator, Status.SUBMITTED)
    return Template(
        "registry/console.html",
        context={"section": "workspace", "workspace_tab": "console-registry", "pending": pending, "words": WORDS},
    )


@post("/console/registry/{achievement_id:uuid}/{act:str}", include_in_schema=False, status_code=200)
async def console_decide(
    request: Request[Any, Any, Any], achievement_id: FromPath[uuid.UUID], act: FromPath[str], operator: Operator,
    db: Db, clock: Now, registry: Registry,
) -> Template | Redirect:  # fmt: skip
    """Register or return (with a reason), as ``POST /api/v1/registry/achievements/{id}/{act}``."""
    if act not in DECIDED:
        raise NotFound(f"no action {act}")
    data = await read_form(request, DecisionIn)
    await db.transaction(
        lambda s: service.decide(s, registry, operator, achievement_id, Action(act), data.reason, clock.now())
    )
    return done(request, f"registry-{DECIDED[act]}", "/console/registry")


@dataclass
class ImportForm:
    file: UploadFile
    source: str = ""
    dry_run: bool = False


async def _imports_page(db: Db, result: imports.ImportResult | None = None, status_code: int = 200) -> Template:
    async with db.read() as session:
        runs = await imports.list_runs(session)
    return Template(
        "registry/imports.html",
        context={"section": "workspace", "workspace_tab": "console-registry-imports", "runs": runs, "result": result},
        status_code=status_code,
    )


@get("/console/registry/imports", include_in_schema=False, name="console-registry-imports")
async def console_imports(operator: Operator, db: Db) -> Template:
    operator.require_operator()
    return await _imports_page(db)


@post("/console/registry/imports", include_in_schema=False, status_code=200)
async def console_import(
    data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)], operator: Operator, db: Db,
    clock: Now, registry: Registry,
) -> Template:  # fmt: skip
    """Check (dry run) or import the uploaded file as ``techx registry import`` does; the page shows every
    bad row by line, or what the run did, and the progress of every run."""
    operator.require_operator()
    name = data.file.filename or "import.csv"
    content = await data.file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise RegistryRuleBroken("the file is too large for an upload: use techx registry import", field="file")
    source = data.source.strip() or name.rsplit(".", 1)[0]
    result = await imports.import_file(
        db, registry, clock, filename=name, content=content, source=source,
        by=f"operator {operator.user_id} ({operator.display_name})", dry_run=data.dry_run,
    )  # fmt: skip
    return await _imports_page(db, result, 422 if result.refused else 200)


PAGE_HANDLERS = [library, achievement_page, console_registry, console_decide, console_imports, console_import]
PAGE_HANDLERS += WORKSPACE_PAGES  # the organisations' registrations (workspace_pages.py)
