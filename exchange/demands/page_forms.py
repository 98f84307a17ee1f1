"""The forms of the demand pages — the demand (new and a draft's edit), the proposal, the decline,
the campaign and the screening — on the workspace forms' one mechanism (``exchange/web/forms.py``):
each input is named by the API's field it fills, so a refusal lands next to it in Chinese and the
form is shown again as typed. Amounts are typed in yuan (the inputs named by their fen fields);
the organisations a demand invites and the listings a proposal links are chosen from lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from exchange.demands.models import Demand
from exchange.demands.schemas import CampaignIn, DeclineIn, DemandIn, ProposalIn, ScreeningIn
from exchange.web import forms
from exchange.web.formats import yuan
from exchange.web.forms import Values, checked, money, split
from exchange.web.messages import demand_field_message

INPUTS: Mapping[str, re.Pattern[str]] = {
    "demand": re.compile(
        r"^(title|description|performance|field|min_maturity|ipc_codes|keywords|budget_min_fen|budget_max_fen|accepted_forms"
        r"|deadline|visibility|invited_org_ids|confidential)$"
    ),
    "proposal": re.compile(r"^(summary|solution|listing_ids|budget_fen)$"),
    "decline": re.compile(r"^(reason)$"),
    "campaign": re.compile(r"^(theme|description|rules|kind|deadline)$"),
    "screening": re.compile(r"^(decision|reason)$"),
}


class Form(forms.Form):
    inputs = INPUTS

    def message(self, name: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
        return demand_field_message(name, problem_type, item)


def demand_in(form: Form) -> DemandIn:
    body: dict[str, Any] = {
        "title": form.value("title"),
        "description": form.value("description"),
        "performance": form.value("performance"),
        "field": form.value("field") or "other",
        "min_maturity": int(form.value("min_maturity")) if form.value("min_maturity").isdigit() else None,
        "ipc_codes": [c.strip() for c in re.split(r"[,，;；、]+", form.value("ipc_codes")) if c.strip()],
        "keywords": split(form.value("keywords")),
        "budget_min_fen": money(form, "budget_min_fen"),
        "budget_max_fen": money(form, "budget_max_fen"),
        "accepted_forms": split(form.value("accepted_forms")),
        "visibility": form.value("visibility") or "public",
        "invited_org_ids": split(form.value("invited_org_ids")) if form.value("visibility") == "invited" else [],
        "confidential": form.value("confidential"),
    }
    if form.value("deadline"):
        body["deadline"] = form.value("deadline")
    return checked(form, DemandIn, body)


def demand_values(demand: Demand, confidential: str) -> Values:
    """A draft's stored values as its edit form shows them (amounts in yuan)."""

    def typed_yuan(fen: int | None) -> str:
        return yuan(fen).lstrip("¥") if fen is not None else ""

    return {
        "title": demand.title,
        "description": demand.description,
        "performance": demand.performance,
        "field": demand.field,
        "min_maturity": str(demand.min_maturity or ""),
        "ipc_codes": ", ".join(demand.ipc_codes),
        "keywords": " ".join(demand.keywords),
        "budget_min_fen": typed_yuan(demand.budget_min_fen),
        "budget_max_fen": typed_yuan(demand.budget_max_fen),
        "accepted_forms": " ".join(demand.accepted_forms),
        "deadline": demand.deadline.isoformat() if demand.deadline else "",
        "visibility": demand.visibility,
        "invited_org_ids": " ".join(demand.invited_org_ids),
        "confidential": confidential,
    }


def proposal_in(form: Form) -> ProposalIn:
    body = {
        "summary": form.value("summary"),
        "solution": form.value("solution"),
        "listing_ids": split(form.value("listing_ids")),
        "budget_fen": money(form, "budget_fen"),
    }
    return checked(form, ProposalIn, body)


def decline_in(form: Form) -> DeclineIn:
    return checked(form, DeclineIn, {"reason": form.value("reason")})


def campaign_in(form: Form) -> CampaignIn:
    body = {k: form.value(k) for k in ("theme", "description", "rules", "kind", "deadline")}
    if not body["deadline"]:
        form.fail("deadline", "required")
    return checked(form, CampaignIn, body)


def screening_in(form: Form) -> ScreeningIn:
    return checked(form, ScreeningIn, {"decision": form.value("decision"), "reason": form.value("reason")})


def refusal_status(form: Form) -> int:
    return 422 if form.errors else 200
