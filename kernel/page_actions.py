"""How a page's action answers when it succeeds, for every module's pages (the operators' console).

An action is a form posted with htmx — its answer replaces the form's answer in place — or without
scripts, when the browser is sent back to the page, which says what was done by ``?notice=<key>``.
Either way the sentence is the one the layout's ``notice_for`` finds for the key
(``exchange/web/messages.py``, ``NOTICES``), so the two answers cannot differ, and a link can never
put words of its own on the site. Refusals are not answered here: they are raised, and the pages'
error handler words them in Chinese (in place for htmx).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.response import Redirect, Template

from kernel.errors import BadRequest, msgspec_field

F = TypeVar("F", bound=msgspec.Struct)
S = TypeVar("S")


class InvalidForm(BadRequest):
    """A form's field is missing or wrong; the page names the field in Chinese (``invalid-form``):
    by ``label`` when the page gives its own words for the field, else by the field's name."""

    problem_type = "invalid-form"
    title = "A field of the form is missing or not valid"


def refused(detail: str, field: str | None, words: Mapping[str, str] | None = None) -> InvalidForm:
    """A refusal of the form's ``field``, named by the page's own ``words`` for it when it has them."""
    return InvalidForm(detail, field=field, label=(words or {}).get(field or "", ""))


def checked(schema: type[S], fields: dict[str, Any], words: Mapping[str, str] | None = None) -> S:
    """A form's fields as the API's request body ``schema``: the same limits, the same field names.
    A value that breaks them is refused naming its field (``refused``)."""
    try:
        return msgspec.convert(fields, schema)
    except msgspec.ValidationError as exc:
        raise refused(str(exc), msgspec_field(str(exc)), words) from exc


# The headers of an answer that replaces the page's work area (``#work``) rather than the form's
# own target (its answer box, where a refusal goes).
WORK_AREA = {"HX-Retarget": "#work", "HX-Reswap": "innerHTML", "Cache-Control": "no-store"}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def with_notice(back_to: str, notice: str) -> str:
    """``back_to`` saying what was done (``?notice=<key>``)."""
    separator = "&" if "?" in back_to else "?"
    return f"{back_to}{separator}notice={notice}"


def done(request: Request[Any, Any, Any], notice: str, back_to: str) -> Template | Redirect:
    """The answer of an action that succeeded: the notice in place for htmx, else back to ``back_to``."""
    if is_htmx(request):
        return Template("console/done.html", context={"notice": notice})
    return Redirect(path=with_notice(back_to, notice), status_code=303)


def in_work_area(
    request: Request[Any, Any, Any], back_to: str, template: str, context: dict[str, Any]
) -> Template | Redirect:
    """The answer of an action that changed the page's lists: with htmx the page's work area again
    (``template``), swapped in place of ``#work``; without scripts 303 back to ``back_to``."""
    if not is_htmx(request):
        return Redirect(path=back_to, status_code=303)
    return Template(template, context=context, headers=WORK_AREA)


async def read_form(request: Request[Any, Any, Any], form: type[F]) -> F:
    """A posted form as ``form`` (its other fields, such as the CSRF token, ignored; values trimmed;
    an empty value is a field not given, so the default applies). A missing or wrong field is
    refused naming it, as the API names the field of its body."""
    fields = frozenset(form.__struct_fields__)
    posted = await request.form()
    given = {key: value.strip() for key, value in posted.items() if key in fields and isinstance(value, str)}
    try:
        return msgspec.convert({k: v for k, v in given.items() if v}, form, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidForm(str(exc), field=msgspec_field(str(exc))) from exc
