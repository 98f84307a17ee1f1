"""The seller's listing form in steps: what a browser types, turned into the API's request body.

Every input is named by the API's own path of the field it fills (``title``,
``pricing.asking_price``, ``ip_assets.0.expires_on``), so a refusal — msgspec's shape check or the
domain's ``InvalidListing`` — lands next to the input whose name is the field it names (or the
nearest input above or below it: ``keywords.3`` goes to ``keywords``, ``pricing.appraisal_report``
to its first input). Money is typed in yuan (``formats.fen_of_yuan``) and shares in percent; both
are turned into the API's fen and basis points here, and every other check is the API's:
``ListingPatch`` (the body of ``PATCH /api/v1/listings/{id}``, whose fields are those of
``POST /api/v1/listings``) decoded from the step's values, then the domain's rules in the service.

What was typed travels as plain strings (``Values``): a refused step is shown again exactly as
typed, nothing lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from exchange.web.formats import fen_of_yuan, yuan
from exchange.web.messages import listing_field_message
from kernel.errors import DomainError, msgspec_field
from listings.schemas import ListingCreate, ListingOut, ListingPatch

Values = dict[str, str]
Errors = dict[str, str]  # input name → the Chinese sentence shown next to it


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    parts: tuple[str, ...]  # the top-level fields of the listing this step fills


STEPS: tuple[Step, ...] = (
    Step("achievement", "成果信息", ("title", "summary", "field", "keywords", "maturity")),
    Step("ip", "知识产权", ("ip_assets",)),
    Step("deal", "交易方式与价格", ("deal", "pricing")),
    Step("inventors", "发明人与奖励", ("inventors", "inventor_reward_bp")),
    Step("confidential", "保密信息", ("confidential_details",)),
)
STEP_KEYS = tuple(s.key for s in STEPS)
# The draft can be created once every required part is known: after the deal step (a listing
# needs its IP assets, deal and pricing). The steps before it travel with the form.
CREATES_DRAFT = "deal"
IP_ROWS_MIN = 2
INVENTOR_ROWS_MIN = 2
MAX_ROWS = 50  # the API's bound of ip_assets and inventors


def step_of(key: str) -> Step:
    return next(s for s in STEPS if s.key == key)


def step_of_field(field: str) -> Step:
    top = field.split(".", 1)[0]
    return next((s for s in STEPS if top in s.parts), STEPS[0])


class RefusedStep(Exception):
    """A step's values the API would refuse: the step to show again, the Chinese words by input."""

    def __init__(self, step: Step, errors: Errors) -> None:
        super().__init__(", ".join(errors))
        self.step = step
        self.errors = errors


# ----------------------------------------------------------------------------------------------
# Typed text → the API's values


def _split(text: str) -> list[str]:
    return [w for w in re.split(r"[,，、;；\s]+", text) if w]


def _money(values: Mapping[str, str], name: str, errors: Errors) -> int | None:
    typed = values.get(name, "").strip()
    if not typed:
        return None
    try:
        return fen_of_yuan(typed, field=name)
    except DomainError as refused:
        errors[name] = listing_field_message(name, refused.problem_type)
        return None


def _percent(values: Mapping[str, str], name: str, errors: Errors) -> int | str | None:
    """Basis points of a share typed in percent (``70`` → 7000); as typed when it is no number,
    so the API's check of the field refuses it."""
    typed = values.get(name, "").strip().rstrip("%％")
    if not typed:
        return None
    try:
        share = Decimal(typed)
    except InvalidOperation:
        errors[name] = listing_field_message(name, "not-a-percent")
        return None
    bp = share * 100
    if bp != bp.to_integral_value():
        errors[name] = listing_field_message(name, "not-a-percent")
        return None
    return int(bp)


def _rows(values: Mapping[str, str], prefix: str, names: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """The filled rows of a repeated group (``ip_assets.0.number``…), with their index on the form."""
    names = tuple(names)
    rows = []
    for i in range(MAX_ROWS):
        row = {n: values.get(f"{prefix}.{i}.{n}", "").strip() for n in names}
        if any(row.values()):
            rows.append((i, row))
    return rows


def _part_values(step: Step, values: Mapping[str, str], errors: Errors) -> dict[str, Any]:
    """The API's body of one step, from what was typed."""
    if step.key == "achievement":
        body: dict[str, Any] = {
            "title": values.get("title", "").strip(),
            "summary": values.get("summary", ""),
            "field": values.get("field", ""),
            "keywords": _split(values.get("keywords", "")),
            "maturity": values.get("maturity", ""),
        }
        return body
    if step.key == "ip":
        assets = []
        for _, row in _rows(values, "ip_assets", ("kind", "number", "title", "expires_on")):
            asset: dict[str, Any] = {"kind": row["kind"], "number": row["number"], "title": row["title"]}
            if row["expires_on"]:
                asset["expires_on"] = row["expires_on"]
            assets.append(asset)
        return {"ip_assets": assets}
    if step.key == "deal":
        return {"deal": _deal(values, errors), "pricing": _pricing(values, errors)}
    if step.key == "inventors":
        inventors = [
            {"name": row["name"], "related_to_buyer": _split(row["related_to_buyer"])}
            for _, row in _rows(values, "inventors", ("name", "related_to_buyer"))
        ]
        return {"inventors": inventors, "inventor_reward_bp": _percent(values, "inventor_reward_bp", errors)}
    return {"confidential_details": values.get("confidential_details", "") or None}


def _deal(values: Mapping[str, str], errors: Errors) -> dict[str, Any]:
    kind = values.get("deal.type", "")
    deal: dict[str, Any] = {"type": kind}
    if kind == "license":
        deal["term_months"] = values.get("deal.term_months", "")
        for name in ("scope", "territory", "field_of_use"):
            if typed := values.get(f"deal.{name}", "").strip():
                deal[name] = typed
        if (royalty := _percent(values, "deal.royalty_bp", errors)) is not None:
            deal["royalty_bp"] = royalty
    elif kind == "equity":
        deal["company_name"] = values.get("deal.company_name", "").strip()
        deal["shares_bp"] = _percent(values, "deal.shares_bp", errors)
    return deal


def _pricing(values: Mapping[str, str], errors: Errors) -> dict[str, Any]:
    pricing: dict[str, Any] = {"mode": values.get("pricing.mode", "")}
    asking = _money(values, "pricing.asking_price", errors)
    if asking is None and "pricing.asking_price" not in errors:
        errors["pricing.asking_price"] = listing_field_message("pricing.asking_price", "required")
    pricing["asking_price"] = asking if asking is not None else 1
    for name in ("appraised_value", "deposit", "increment"):
        if (fen := _money(values, f"pricing.{name}", errors)) is not None:
            pricing[name] = fen
    report = {n: values.get(f"pricing.appraisal_report.{n}", "").strip() for n in ("report_number", "appraiser")}
    report["report_date"] = values.get("pricing.appraisal_report.report_date", "").strip()
    if any(report.values()):
        pricing["appraisal_report"] = {k: v for k, v in report.items() if v}
    return pricing


def changes_of(step: Step, values: Mapping[str, str]) -> ListingPatch:
    """The step's values as ``PATCH /api/v1/listings/{id}`` reads them, or ``RefusedStep``."""
    errors: Errors = {}
    body = _part_values(step, values, errors)
    try:
        patch = msgspec.convert(body, ListingPatch, strict=False)
    except msgspec.ValidationError as refused:
        field = msgspec_field(str(refused)) or step.parts[0]
        errors.setdefault(input_for(field, values), listing_field_message(field, "validation-error"))
        raise RefusedStep(step, errors) from None
    if errors:
        raise RefusedStep(step, errors)
    return patch


def create_body(values: Mapping[str, str]) -> ListingCreate:
    """The steps up to the draft's creation as the body of ``POST /api/v1/listings``; a refusal
    names the first step at fault (a value carried from an earlier step is checked again)."""
    body: dict[str, Any] = {}
    for step in STEPS[: STEP_KEYS.index(CREATES_DRAFT) + 1]:
        changes = changes_of(step, values)
        body.update({name: getattr(changes, name) for name in step.parts})
    return ListingCreate(**body)


# ----------------------------------------------------------------------------------------------
# Refusals → inputs


def input_for(field: str, values: Mapping[str, str] | None = None, names: Iterable[str] = ()) -> str:
    """The input a field at fault belongs to: the field itself when an input bears its name, else
    the nearest input above it (``keywords.3`` → ``keywords``) or the first below it
    (``pricing.appraisal_report`` → ``pricing.appraisal_report.report_number``)."""
    known = set(names) | set(values or ()) | set(INPUTS)
    if field in known or _row_input(field):
        return field
    parts = field.split(".")
    for end in range(len(parts) - 1, 0, -1):
        above = ".".join(parts[:end])
        if above in known or _row_input(above):
            return above
    below = sorted(n for n in known if n.startswith(field + "."))
    return below[0] if below else field


_ROW = re.compile(r"^(ip_assets\.\d+\.(kind|number|title|expires_on)|inventors\.\d+\.(name|related_to_buyer))$")
INPUTS = (
    "title",
    "summary",
    "field",
    "keywords",
    "maturity",
    "deal.type",
    "deal.term_months",
    "deal.scope",
    "deal.territory",
    "deal.field_of_use",
    "deal.royalty_bp",
    "deal.company_name",
    "deal.shares_bp",
    "pricing.mode",
    "pricing.asking_price",
    "pricing.appraised_value",
    "pricing.deposit",
    "pricing.increment",
    "pricing.appraisal_report.report_number",
    "pricing.appraisal_report.appraiser",
    "pricing.appraisal_report.report_date",
    "inventor_reward_bp",
    "confidential_details",
)


def _row_input(name: str) -> bool:
    return bool(_ROW.match(name))


def refusal_of(refused: DomainError, values: Mapping[str, str]) -> RefusedStep:
    """The domain's refusal (``InvalidListing`` names each field) by input, in Chinese, on the step
    of its first field."""
    errors: Errors = {}
    items = refused.errors or [{"field": refused.extra.get("field") or "title"}]
    for item in items:
        field = str(item.get("field") or "title")
        errors.setdefault(input_for(field, values), listing_field_message(field, refused.problem_type, item))
    return RefusedStep(step_of_field(str(items[0].get("field") or "title")), errors)


# ----------------------------------------------------------------------------------------------
# A stored draft → the form's values


def values_of(listing: ListingOut, confidential: str | None) -> Values:
    values: Values = {
        "title": listing.title,
        "summary": listing.summary,
        "field": listing.field.value,
        "keywords": "、".join(listing.keywords),
        "maturity": str(listing.maturity),
    }
    for i, asset in enumerate(listing.ip_assets):
        values[f"ip_assets.{i}.kind"] = asset.kind.value
        values[f"ip_assets.{i}.number"] = asset.number
        values[f"ip_assets.{i}.title"] = asset.title
        values[f"ip_assets.{i}.expires_on"] = asset.expires_on.isoformat() if asset.expires_on else ""
    deal = msgspec.to_builtins(listing.deal)
    for name, value in deal.items():
        if value is None:
            continue
        values[f"deal.{name}"] = _percent_text(value) if name.endswith("_bp") else str(value)
    pricing = listing.pricing
    values["pricing.mode"] = pricing.mode.value
    for name in ("asking_price", "appraised_value", "deposit", "increment"):
        fen = getattr(pricing, name)
        values[f"pricing.{name}"] = yuan(fen) if fen is not None else ""
    if pricing.appraisal_report:
        report = pricing.appraisal_report
        values["pricing.appraisal_report.report_number"] = report.report_number
        values["pricing.appraisal_report.appraiser"] = report.appraiser
        values["pricing.appraisal_report.report_date"] = report.report_date.isoformat()
    for i, inventor in enumerate(listing.inventors):
        values[f"inventors.{i}.name"] = inventor.name
        values[f"inventors.{i}.related_to_buyer"] = "、".join(inventor.related_to_buyer or [])
    if listing.inventor_reward_bp is not None:
        values["inventor_reward_bp"] = _percent_text(listing.inventor_reward_bp)
    values["confidential_details"] = confidential or ""
    return values


def _percent_text(bp: int) -> str:
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)


def rows_shown(values: Mapping[str, str], prefix: str, least: int) -> int:
    """How many rows of a repeated group the form shows: the last filled one, one empty more."""
    filled = [int(k.split(".")[1]) for k, v in values.items() if k.startswith(prefix + ".") and v.strip()]
    return min(MAX_ROWS, max(least, (max(filled) + 2) if filled else least))


# ----------------------------------------------------------------------------------------------
# What travels with the form before the draft exists


def carried(values: Mapping[str, str]) -> str:
    return json.dumps(dict(values), ensure_ascii=False, separators=(",", ":"))


def uncarried(text: str) -> Values:
    """The earlier steps' values a form carries; anything else than an object of strings is none."""
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, str)}


def typed_values(form: Mapping[str, Any], step: Step) -> Values:
    """The inputs of one step as typed (the CSRF token and the form's controls left out)."""
    skip = {"_csrf_token", "carried", "step", "go"}
    return {k: str(v) for k, v in form.items() if k not in skip and _belongs(k, step)}


def _belongs(name: str, step: Step) -> bool:
    return name.split(".", 1)[0] in step.parts


def without_step(values: Mapping[str, str], step: Step) -> Values:
    """The values of the other steps: a step posted replaces its own inputs whole (an emptied row too)."""
    return {k: v for k, v in values.items() if not _belongs(k, step)}
