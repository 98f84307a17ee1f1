"""What differs between the two databases, asked in one place."""

from __future__ import annotations

from typing import Any


def is_postgres(bind: Any) -> bool:
    """True when ``bind`` (a session or a connection, sync or async) talks to PostgreSQL."""
    dialect = getattr(bind, "dialect", None)
    if dialect is None:
        dialect = bind.get_bind().dialect
    return dialect.name == "postgresql"
