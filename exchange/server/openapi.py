"""Documents the problem-details answers that every operation can give.

Litestar documents a handler's success response; the errors come from one shared mapping
(``exchange.platform.problems``), so they are added here once, to every operation, as the RFC 9457
shape under ``application/problem+json``.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="stable slug, e.g. insufficient-funds"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "field": Schema(one_of=[Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.NULL)]),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)


def document_problems(app: Litestar) -> None:
    openapi = app.openapi_schema
    components = openapi.components
    components.schemas = dict(components.schemas or {})
    for schema in components.schemas.values():
        # Request structs refuse unknown fields (``forbid_unknown_fields``) and responses carry
        # exactly their fields; say so, so that clients and fuzzers know extras are refused.
        if isinstance(schema, Schema) and schema.properties is not None and schema.additional_properties is None:
            schema.additional_properties = False
    components.schemas["Problem"] = PROBLEM_SCHEMA
    problem = OpenAPIResponse(
        description="A problem (RFC 9457): the request was refused; `type` says why",
        content={"application/problem+json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
    )
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(path_item, method, None)
            if operation is None:
                continue
            responses = dict(operation.responses or {})
            for status in [s for s in responses if s.startswith("4")]:
                del responses[status]  # litestar's own 400 entry has a different body shape
            responses["4XX"] = problem
            operation.responses = responses
