"""The forms of the registration pages — opening a registration, the national form's fields (a draft's
edit, a correction with its reason) and a withdrawal — on the workspace forms' one mechanism
(``exchange/web/forms.py``): each input is named by the API's field it fills, so a refusal lands next
to it in Chinese and the form is shown again as typed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from exchange.registry.domain import CATEGORY_WORDS, FORM_FIELDS, LEVEL_WORDS, STAGE_WORDS
from exchange.registry.models import Achievement
from exchange.registry.schemas import AchievementIn, CorrectionIn, DecisionIn
from exchange.web import forms
from exchange.web.forms import Values, attempt, checked, split
from exchange.web.messages import registry_field_message
from listings.domain import FIELD_LABELS, Field

__all__ = [
    "FIELDS",
    "WORDS",
    "Form",
    "achievement_in",
    "attempt",
    "correction_in",
    "open_in",
    "stored_values",
    "withdrawal_in",
]

_FORM = "|".join(FORM_FIELDS)
INPUTS: Mapping[str, re.Pattern[str]] = {
    "open": re.compile(r"^(listing_id|disclosure_id)$"),
    "registration": re.compile(rf"^({_FORM})$"),
    "correction": re.compile(rf"^({_FORM}|reason)$"),
    "withdraw": re.compile(r"^(reason)$"),
}
LISTS = ("keywords", "project_numbers")
# The Chinese words of the form's choices, for the pages' selects and tables.
FIELDS = [(f.value, FIELD_LABELS[f].split(" ")[0]) for f in Field]
WORDS = {"category": CATEGORY_WORDS, "level": LEVEL_WORDS, "stage": STAGE_WORDS, "field": dict(FIELDS)}


class Form(forms.Form):
    inputs = INPUTS

    def message(self, name: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
        return registry_field_message(name, problem_type, item)


def _fields(form: Form) -> dict[str, Any]:
    """The national form's inputs as the API's body: a blank input is a field not given."""
    body: dict[str, Any] = {}
    for name in FORM_FIELDS:
        if name in LISTS:
            body[name] = split(form.value(name)) or None
        else:
            body[name] = form.value(name) or None
    return body


def open_in(form: Form) -> AchievementIn:
    body = {name: form.value(name) or None for name in ("listing_id", "disclosure_id")}
    return checked(form, AchievementIn, body)


def achievement_in(form: Form) -> AchievementIn:
    return checked(form, AchievementIn, _fields(form))


def correction_in(form: Form) -> CorrectionIn:
    return checked(form, CorrectionIn, {**_fields(form), "reason": form.value("reason")})


def withdrawal_in(form: Form) -> DecisionIn:
    return checked(form, DecisionIn, {"reason": form.value("reason")})


def stored_values(a: Achievement) -> Values:
    """A registration's stored fields as its form shows them."""
    return {name: " ".join(getattr(a, name)) if name in LISTS else str(getattr(a, name) or "") for name in FORM_FIELDS}
