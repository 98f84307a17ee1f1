"""What differs between the two databases, asked in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, any_, bindparam, cast
from sqlalchemy.dialects.postgresql import ARRAY


def is_postgres(bind: Any) -> bool:
    """True when ``bind`` (a session or a connection, sync or async) talks to PostgreSQL."""
    dialect = getattr(bind, "dialect", None)
    if dialect is None:
        dialect = bind.get_bind().dialect
    return dialect.name == "postgresql"


def among(column: Any, ids: Sequence[Any], bind: Any) -> Any:
    """``column IN (ids)`` for ids (UUIDs or integers) by the thousand: on PostgreSQL one text
    parameter read as an array (``column = ANY($1::uuid[])``), not one bind parameter per id."""
    if is_postgres(bind):
        return column == any_(
            cast(bindparam(None, "{" + ",".join(map(str, ids)) + "}", type_=Text), ARRAY(column.type))
        )
    return column.in_(ids)
