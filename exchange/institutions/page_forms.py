"""The forms of the institutions' pages: what was typed (kept as typed when refused), the inputs
of each form, a refusal placed next to the input of the field it names (in Chinese), and the
typed values (yuan, per cent, rows) as the API's request types. Shared by ``pages``,
``notice_pages``, ``income_pages`` and the process page's blocks (``process_blocks``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from litestar import Request

from exchange.web.formats import fen_of_yuan
from exchange.web.messages import institution_field_message
from kernel.errors import DomainError, msgspec_field

T = TypeVar("T")
Values = dict[str, str]
Errors = dict[str, str]
MAX_ROWS = 50

# The inputs of each form (a refusal of any other field goes to the nearest one above, else atop the form).
INPUTS: Mapping[str, re.Pattern[str]] = {
    "disclosure": re.compile(
        r"^(title|summary|field|keywords|maturity|intended_form|note|ip_assets|ip_assets\.\d+\.(kind|number|title|expires_on)"
        r"|inventors|inventors\.\d+\.(name|affiliation|share_bp)|funding|funding\.\d+\.(kind|funder|project_number))$"
    ),
    "first_review": re.compile(r"^(complete|institution_owns|conflicts|note)$"),
    "evaluation": re.compile(r"^(kind|appraised_value|appraiser|report_number|report_date|note)$"),
    "expert_review": re.compile(r"^(experts|experts\.\d+\.(name|affiliation|external|opinion|vote)|note)$"),
    "decision": re.compile(
        r"^(minutes|decision_makers|decision_makers\.\d+\.(name|related_to_counterparty|recused)|pricing|floor_price"
        r"|counterparty|related_inventors|related_party_declaration|note)$"
    ),
    "return": re.compile(r"^(to|reason)$"),
    "stop": re.compile(r"^(reason)$"),
    "settings": re.compile(
        r"^(workflow|decision_body|notice_days|notice_unit|plan_notice_days|plan_notice_unit|inventor_share_bp"
        r"|extra_approval_threshold_fen|institution_parts|institution_parts\.\d+\.(name|weight))$"
    ),
    "grant": re.compile(r"^(user_id|role)$"),
    # 公示 and 实施 (exchange/institutions/notice_pages.py)
    "resolve": re.compile(r"^(decision|return_to|stop|note)$"),
    "answer": re.compile(r"^(answer)$"),
    "implementation": re.compile(
        r"^(deal|deal\.(type|term_months|scope|territory|field_of_use|royalty_bp|company_name|shares_bp)"
        r"|ip_assets|ip_assets\.\d+\.(kind|number|title|expires_on)|deposit|increment|note"
        r"|contract|contract\.(amount|terms|signed_on|counterparty_org_id))$"
    ),
    # 收益分配 and the annual report's inputs (income_pages.py, annual_pages.py)
    "plan": re.compile(
        r"^(inventors|inventors\.\d+\.(name|affiliation|amount)|institution"
        r"|institution\.\d+\.(name|amount)|payouts|payouts\.\d+\.amount|reason)$"
    ),
    "extra": re.compile(r"^(minutes)$"),
    "identity": re.compile(r"^(user_id|note)$"),
    "registration": re.compile(r"^(contract_number|registry_name|registered_on|certified_amount)$"),
    "inputs": re.compile(
        r"^(year|contracts|contracts\.(development|consulting|service)\.(count|amount)"
        r"|joint_bodies|joint_bodies\.\d+\.(name|partner|founded_on)|problems|plans)$"
    ),
}


# ----------------------------------------------------------------------------------------------
# A form as typed, and its refusals by input


@dataclass
class Form:
    """One form of a page: what was typed (kept as typed when refused) and the words by input."""

    key: str
    values: Values = field(default_factory=dict)
    errors: Errors = field(default_factory=dict)

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
        self.errors.setdefault(self.input_for(name), institution_field_message(name, problem_type, item))

    def input_for(self, name: str) -> str:
        pattern = INPUTS[self.key.partition(":")[0]]  # "resolve:<objection>": one form of several alike
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


def checked(form: Form, target: type[T], body: dict[str, Any]) -> T:
    """The form's values as the API's request type: the same limits, the same field names."""
    if form.errors:
        raise Refused(form)
    try:
        return msgspec.convert(body, target, strict=False)
    except msgspec.ValidationError as exc:
        form.fail(msgspec_field(str(exc)) or "form")
        raise Refused(form) from None


async def typed(request: Request[Any, Any, Any], key: str) -> Form:
    posted = await request.form()
    values = {k: str(v).strip() for k, v in posted.items() if k != "_csrf_token" and isinstance(v, str)}
    return Form(key, values)


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
    text = form.value(name)
    if not text:
        return None
    try:
        return fen_of_yuan(text, field=name)
    except DomainError:
        form.errors[form.input_for(name)] = institution_field_message(name, "amount-not-yuan")
        return None


def basis_points(form: Form, name: str) -> int | None:
    """A share typed in per cent (``60``, ``60.5``) as basis points."""
    text = form.value(name).rstrip("%％").strip()
    if not text:
        return None
    try:
        bp = Decimal(text) * 100
    except InvalidOperation:
        bp = Decimal("0.5")
    if bp != bp.to_integral_value():
        form.errors[form.input_for(name)] = institution_field_message(name, "not-a-percent")
        return None
    return int(bp)


def percent_text(bp: int) -> str:
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)


def flag(value: str) -> bool:
    return value not in ("", "false", "0")
