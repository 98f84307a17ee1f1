"""Response shapes filled from rows and views: the one way to turn what a service returns into
what the API answers."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)


def shaped(struct_type: type[S], source: Any, **values: Any) -> S:
    """A ``struct_type`` whose fields take ``source``'s attributes (or keys) of the same names,
    converted and checked by msgspec (nested views become nested structs); ``values`` give the
    fields that are computed, nested or named otherwise. A field neither has keeps its default."""
    if values:
        merged = dict(values)
        for name in struct_type.__struct_fields__:
            if name not in merged and hasattr(source, name):
                merged[name] = getattr(source, name)
        source = merged
    return msgspec.convert(source, struct_type, from_attributes=True)
