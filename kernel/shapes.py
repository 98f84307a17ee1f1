"""Values made from other values field by field: the one way to turn a row into what the API
answers, a view into a response, or settings into a module's rules."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


def _field_names(target_type: type) -> tuple[str, ...]:
    if dataclasses.is_dataclass(target_type):
        return tuple(f.name for f in dataclasses.fields(target_type))
    table = getattr(target_type, "__table__", None)
    if table is not None:  # a mapped table class: its columns
        return tuple(table.columns.keys())
    return target_type.__struct_fields__  # type: ignore[attr-defined, no-any-return]


def shaped(target_type: type[T], source: Any, **values: Any) -> T:
    """A ``target_type`` whose fields take ``source``'s attributes (or keys) of the same names;
    ``values`` give the fields that are computed, nested or named otherwise. A field neither has
    keeps its default.

    A msgspec struct or a dataclass is converted and checked by msgspec (nested views become nested
    structs, text becomes enums); a mapped table class (a new row) takes the values as they are.
    """
    if hasattr(target_type, "__table__"):
        names = _field_names(target_type)
        given = {n: getattr(source, n) for n in names if n not in values and hasattr(source, n)}
        return target_type(**given, **values)
    if values:
        merged = dict(values)
        for name in _field_names(target_type):
            if name not in merged and hasattr(source, name):
                merged[name] = getattr(source, name)
        source = merged
    return msgspec.convert(source, target_type, from_attributes=True)
