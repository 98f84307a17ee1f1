"""The workspace forms' one mechanism: what was typed (kept as typed when refused), a refusal placed
next to the input of the field it names (in Chinese), and the typed values (yuan, rows) turned into
the API's request types. A module's forms subclass ``Form`` with the inputs of each of its forms
(``inputs``) and its words for a refused field (``message``); their templates draw the inputs with
the macros of ``forms/_fields.html``. Used by the institutions' pages and the demand pages.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import msgspec
from litestar import Request

from exchange.web.formats import fen_of_yuan
from exchange.web.messages import listing_field_message
from kernel.errors import DomainError, msgspec_field

T = TypeVar("T")
F = TypeVar("F", bound="Form")
Values = dict[str, str]
Errors = dict[str, str]
MAX_ROWS = 50


@dataclass
class Form:
    """One form of a page: what was typed (kept as typed when refused) and the words by input.

    ``key`` names the form (``"disclosure"``; ``"resolve:<id>"`` for one of several alike forms);
    ``inputs`` gives, by the key's first part, the pattern of its inputs' names: a refusal of any
    other field goes to the nearest input above it, else atop the form (``"form"``)."""

    key: str
    values: Values = field(default_factory=dict)
    errors: Errors = field(default_factory=dict)
    inputs: ClassVar[Mapping[str, re.Pattern[str]]] = {}

    def message(self, name: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
        """The Chinese words next to the input for a refusal of the field ``name``."""
        return listing_field_message(name, problem_type, item)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def checked(self, name: str) -> bool:
        return self.values.get(name, "") not in ("", "false", "0")

    def error(self, name: str) -> str:
        return self.errors.get(name, "")

    def id(self, name: str) -> str:
        return f"{self.key.replace(':', '-')}-{name.replace('.', '-')}"

    def rows(self, prefix: str, least: int) -> int:
        """How many rows of a repeated group to show: the last filled one and one empty more."""
        filled = [int(k.split(".")[1]) for k, v in self.values.items() if k.startswith(prefix + ".") and v.strip()]
        return min(MAX_ROWS, max(least, (max(filled) + 2) if filled else least))

    def fail(self, name: str, problem_type: str = "validation-error", item: Mapping[str, Any] | None = None) -> None:
        self.errors.setdefault(self.input_for(name), self.message(name, problem_type, item))

    def input_for(self, name: str) -> str:
        pattern = self.inputs.get(self.key.partition(":")[0])
        if pattern is None:
            return "form"
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            above = ".".join(parts[:end])
            if pattern.match(above):
                return above
        return "form"


class Refused(Exception):
    def __init__(self, form: Form) -> None:
        super().__init__(", ".join(form.errors))
        self.form = form


def refused_by(form: Form, refusal: DomainError) -> Refused:
    """The domain's refusal naming its fields, by input, in Chinese."""
    items = refusal.errors or [{"field": refusal.extra.get("field") or "form", "message": refusal.detail}]
    for item in items:
        form.fail(str(item.get("field") or "form"), refusal.problem_type, item)
    return Refused(form)


def names_fields(refusal: DomainError) -> bool:
    """Whether a refusal names the fields at fault (shown by the form), or is about the whole act
    (the error page of the shared handlers)."""
    return bool(refusal.errors) or "field" in refusal.extra


def checked(form: Form, target: type[T], body: dict[str, Any]) -> T:
    """The form's values as the API's request type: the same limits, the same field names."""
    if form.errors:
        raise Refused(form)
    try:
        return msgspec.convert(body, target, strict=False)
    except msgspec.ValidationError as exc:
        form.fail(msgspec_field(str(exc)) or "form")
        raise Refused(form) from None


async def typed(request: Request[Any, Any, Any], key: str, kind: type[F]) -> F:
    """The posted form as typed; a field posted several times (checkboxes) joined by spaces."""
    posted = await request.form()
    values: Values = {}
    for name in posted:
        if name == "_csrf_token":
            continue
        several = [str(v).strip() for v in posted.getall(name) if isinstance(v, str)]
        values[name] = " ".join(v for v in several if v)
    return kind(key, values)


def split(text: str) -> list[str]:
    return [w for w in re.split(r"[,，、;；\s]+", text) if w]


def rows(values: Mapping[str, str], prefix: str, names: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """The filled rows of a repeated group (``inventors.0.name``…), with their index on the form."""
    names = tuple(names)
    found = []
    for i in range(MAX_ROWS):
        row = {n: values.get(f"{prefix}.{i}.{n}", "").strip() for n in names}
        if any(v for n, v in row.items() if n not in ("kind", "vote")):
            found.append((i, row))
    return found


def money(form: Form, name: str) -> int | None:
    """An amount typed in yuan as fen; None when blank, and the input refused when it is no amount."""
    text = form.value(name)
    if not text:
        return None
    try:
        return fen_of_yuan(text, field=name)
    except DomainError:
        form.errors[form.input_for(name)] = form.message(name, "amount-not-yuan")
        return None


async def attempt(form: Form, work: Callable[[], Awaitable[T]]) -> T | None:
    """``work``'s outcome, or None with the refusal placed on ``form`` when it names its fields (the
    transaction rolled back: nothing written); a refusal of the whole act passes on to the error page."""
    try:
        return await work()
    except Refused:
        return None
    except DomainError as refusal:
        if not names_fields(refusal):
            raise
        refused_by(form, refusal)
        return None
