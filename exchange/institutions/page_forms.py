"""The forms of the institutions' pages: what was typed (kept as typed when refused), the inputs
of each form, a refusal placed next to the input of the field it names (in Chinese), and the
typed values (yuan, per cent, rows) as the API's request types — the shared mechanism of
``exchange/web/forms.py`` with the institutions' inputs and words. Shared by ``pages``,
``notice_pages``, ``income_pages`` and the process page's blocks (``process_blocks``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request

from exchange.web import forms
from exchange.web.forms import Errors, Refused, Values, checked, money, refused_by, rows, split
from exchange.web.messages import institution_field_message

__all__ = [
    "INPUTS", "Errors", "Form", "Refused", "Values", "basis_points", "checked", "flag", "money", "percent_text",
    "refused_by", "rows", "split", "typed",
]  # fmt: skip

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
        r"^(minutes|decision_makers|decision_makers\.\d+\.(name|related_to_counterparty|recused|vote)|pricing|floor_price"
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
# The institutions' forms: the shared mechanism (exchange/web/forms.py) with their inputs and words


class Form(forms.Form):
    inputs = INPUTS

    def message(self, name: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
        return institution_field_message(name, problem_type, item)


async def typed(request: Request[Any, Any, Any], key: str) -> Form:
    return await forms.typed(request, key, Form)


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
        form.errors[form.input_for(name)] = form.message(name, "not-a-percent")
        return None
    return int(bp)


def percent_text(bp: int) -> str:
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)


def flag(value: str) -> bool:
    return value not in ("", "false", "0")
