"""Documents the problem-details answers that every operation can give.

Litestar documents a handler's success response; the errors come from one shared mapping
(``exchange.platform.problems``), so they are added here once, to every operation, as the RFC 9457
shape under ``application/problem+json``.
"""

from __future__ import annotations

from typing import Any

import msgspec
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


# JSON Schema's item constraints and the attribute of Litestar's ``Schema`` each is kept in
ITEM_CONSTRAINTS = {"maxLength": "max_length", "minLength": "min_length", "pattern": "pattern"}


def _structs() -> list[type[msgspec.Struct]]:
    found, todo = [], list(msgspec.Struct.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _component_of(cls: type, names: set[str]) -> str | None:
    """The component Litestar named after ``cls``: its name, or its module's path joined to it when
    another type has the same name (``institutions_schemas_DecisionIn``)."""
    if cls.__qualname__ in names:
        return cls.__qualname__
    parts = cls.__module__.split(".")
    for start in range(len(parts)):
        name = "_".join([*parts[start:], cls.__qualname__])
        if name in names:
            return name
    return None


def _array_of(node: Any) -> Any:
    """The array in a property's schema: itself, or the array alternative of an optional one."""
    if isinstance(node, dict):
        if node.get("type") == "array":
            return node
        return next((alt for alt in node.get("anyOf", []) if alt.get("type") == "array"), None)
    if isinstance(node, Schema):
        if node.type == OpenAPIType.ARRAY:
            return node
        return next(
            (alt for alt in node.one_of or [] if isinstance(alt, Schema) and alt.type == OpenAPIType.ARRAY), None
        )
    return None


def constrain_list_items(schemas: dict[str, Any]) -> None:
    """Copy the constraints of list items (``list[Annotated[str, Meta(max_length=50)]]``) that
    Litestar leaves out of the document from msgspec's own schema of each struct: a client or a
    fuzzer told nothing of them would send items the decoder then refuses."""
    names = set(schemas)
    for cls in _structs():
        name = _component_of(cls, names)
        if name is None or not isinstance(schemas[name], Schema) or not schemas[name].properties:
            continue
        try:
            own = msgspec.json.schema(cls)
        except (TypeError, ValueError):  # a struct msgspec cannot describe is not one a route decodes
            continue
        fields = own.get("$defs", {}).get(cls.__name__, {}).get("properties", {})
        for field, described in fields.items():
            theirs, ours = _array_of(described), _array_of(schemas[name].properties.get(field))
            if theirs is None or ours is None or not isinstance(ours.items, Schema):
                continue
            for key, attribute in ITEM_CONSTRAINTS.items():
                if key in theirs.get("items", {}) and getattr(ours.items, attribute) is None:
                    setattr(ours.items, attribute, theirs["items"][key])


def document_problems(app: Litestar) -> None:
    openapi = app.openapi_schema
    components = openapi.components
    components.schemas = dict(components.schemas or {})
    constrain_list_items(components.schemas)
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
