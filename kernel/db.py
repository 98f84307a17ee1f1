"""What differs between the two databases, asked in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Text, any_, bindparam, cast, func
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


def beijing_month(column: Any, bind: Any) -> Any:
    """The month (1-12) of a moment column in Beijing time, computed by the database (so that a
    year's rows are grouped by month where they are, not read out to be grouped)."""
    if is_postgres(bind):
        return cast(func.extract("month", func.timezone("Asia/Shanghai", column)), Integer)
    return cast(func.strftime("%m", column, "+8 hours"), Integer)
