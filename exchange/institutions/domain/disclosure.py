"""The disclosure of a service invention (职务科技成果披露): its inventors, their contribution shares, its
funding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from exchange.institutions.domain.refusals import (
    BP,
    MAX_INVENTORS,
    Fail,
    InvalidDisclosure,
    Problems,
    is_blank,
    name_key,
)
from listings.domain import KEYWORD_MAX

# ----------------------------------------------------------------------------------------------
# Disclosure (职务科技成果披露)


class FundingKind(StrEnum):
    GOVERNMENT = "government"  # a government-funded project: its number is reported
    OTHER = "other"


class IntendedForm(StrEnum):
    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"
    KEEP = "keep"  # the institution keeps the achievement


@dataclass(frozen=True)
class DisclosedInventor:
    """A person who made the invention: a share of the contribution in basis points (all > 0,
    together exactly 10,000). The shares split the inventors' income (``distribute``)."""

    name: str
    affiliation: str
    share_bp: int


@dataclass(frozen=True)
class FundingSource:
    kind: FundingKind
    funder: str
    project_number: str = ""  # required for government funding


@dataclass(frozen=True)
class Disclosure:
    inventors: tuple[DisclosedInventor, ...]
    funding: tuple[FundingSource, ...] = ()
    form: IntendedForm = IntendedForm.TRANSFER
    keywords: tuple[str, ...] = ()


def check_inventors(inventors: Sequence[DisclosedInventor], fail: Fail, *, field: str = "inventors") -> None:
    """At least one inventor and at most ``MAX_INVENTORS``; each named, with an affiliation, listed
    once (by name and affiliation) and a share > 0; the shares together exactly 10,000 bp."""
    if not inventors:
        fail(field, "a disclosure names at least one inventor")
        return
    if len(inventors) > MAX_INVENTORS:
        fail(field, f"a disclosure names at most {MAX_INVENTORS} inventors")
    seen: dict[tuple[str, str], int] = {}
    for i, inventor in enumerate(inventors):
        if is_blank(inventor.name):
            fail(f"{field}.{i}.name", "an inventor is a named person")
        if is_blank(inventor.affiliation):
            fail(f"{field}.{i}.affiliation", "name the inventor's affiliation (school, department, institute)")
        if inventor.share_bp <= 0:
            fail(f"{field}.{i}.share_bp", "an inventor's contribution share is more than 0 bp")
        key = (name_key(inventor.name), name_key(inventor.affiliation))
        if not is_blank(inventor.name) and key in seen:
            fail(f"{field}.{i}.name", f"{inventor.name} of {inventor.affiliation} is listed twice (also {seen[key]})")
        seen.setdefault(key, i)
    total = sum(inventor.share_bp for inventor in inventors)
    if total != BP:
        fail(field, f"the contribution shares add up to {BP} bp (100%), not {total} bp")


def check_disclosure(disclosure: Disclosure) -> None:
    """422 ``invalid-disclosure`` naming every field at fault: the inventors (``check_inventors``),
    and each funding source's funder and, for government funding, its project number."""
    fail = Problems()
    check_inventors(disclosure.inventors, fail)
    for i, keyword in enumerate(disclosure.keywords):
        if is_blank(keyword) or len(keyword) > KEYWORD_MAX:
            fail(f"keywords.{i}", f"a keyword has 1 to {KEYWORD_MAX} characters")
    for i, source in enumerate(disclosure.funding):
        if is_blank(source.funder):
            fail(f"funding.{i}.funder", "name who funded the work")
        if source.kind is FundingKind.GOVERNMENT and is_blank(source.project_number):
            fail(f"funding.{i}.project_number", "government funding is declared with its project number")
    fail.raise_as(InvalidDisclosure)
