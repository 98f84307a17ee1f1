"""Income distribution (收益分配): the plan for one receipt, exact to the fen, and its checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from exchange.institutions.domain.disclosure import (
    DisclosedInventor,
    check_inventors,
)
from exchange.institutions.domain.refusals import (
    BP,
    MAX_FEN,
    InvalidDistribution,
    Problems,
    name_key,
)
from exchange.institutions.domain.rules import (
    EXTRA_APPROVAL_THRESHOLD_FEN,
    SHANGHAI_INVENTOR_SHARE_BP,
)
from kernel.shares import largest_remainder

# ----------------------------------------------------------------------------------------------
# Income distribution (收益分配)


class PayeeKind(StrEnum):
    INVENTOR = "inventor"
    INSTITUTION = "institution"  # the institution itself, or one of its departments


@dataclass(frozen=True)
class InstitutionPart:
    """A part of the institution's remainder (the institution, a school, a department) and its
    weight among the parts (any positive integers: 5:3:2, or basis points)."""

    name: str
    weight: int


DEFAULT_INSTITUTION_PARTS: tuple[InstitutionPart, ...] = (InstitutionPart("institution", 1),)


@dataclass(frozen=True)
class Payout:
    kind: PayeeKind
    name: str
    amount: int  # fen


@dataclass(frozen=True)
class DistributionPlan:
    amount: int
    inventor_share_bp: int
    inventors: tuple[Payout, ...]  # in the order of the disclosure's inventors
    institution: tuple[Payout, ...]  # in the order of the institution's parts

    @property
    def inventors_total(self) -> int:
        return sum(payout.amount for payout in self.inventors)

    @property
    def payouts(self) -> tuple[Payout, ...]:
        return (*self.inventors, *self.institution)


def inventors_minimum(amount: int, share_bp: int) -> int:
    """The inventors' least total: ``share_bp`` of ``amount``, rounded up to the fen (in their favour)."""
    return -(-amount * share_bp // BP)


def distribute(
    amount_fen: int,
    inventors: Sequence[DisclosedInventor],
    inventor_share_bp: int,
    institution_parts: Sequence[InstitutionPart] = DEFAULT_INSTITUTION_PARTS,
    *,
    minimum_bp: int = SHANGHAI_INVENTOR_SHARE_BP,
) -> DistributionPlan:
    """The plan for one receipt of ``amount_fen``, exact to the fen.

    The inventors together get ``inventor_share_bp`` of the amount rounded UP to the fen (a
    fraction of a fen goes to them, never from them); that total is split among them by their
    contribution shares, and the rest among the institution's parts by weight, each by the largest
    remainder (``kernel.shares``: ties to whoever is listed first). The parts add up to the amount,
    none is negative, each inventor is within one fen of their exact share of the inventors' total.

    422 ``invalid-distribution`` naming every field at fault: a negative amount, inventors as
    ``check_inventors`` refuses them, a share below ``minimum_bp`` (the institution's declared
    minimum) or above 100%, no institution part, a part unnamed, named twice or weighing ≤ 0.
    """
    fail = Problems()
    if not 0 <= amount_fen <= MAX_FEN:
        fail("amount", "the amount to distribute is 0 or more fen")
    check_inventors(inventors, fail)
    if inventor_share_bp > BP:
        fail("inventor_share_bp", f"a share is at most {BP} bp (100%)")
    elif inventor_share_bp < minimum_bp:
        fail(
            "inventor_share_bp",
            f"the inventors receive at least the declared share, {minimum_bp / 100:g}% ({minimum_bp} bp)",
        )
    if not institution_parts:
        fail("institution_parts", "name at least one part of the institution's remainder")
    seen: dict[str, int] = {}
    for i, part in enumerate(institution_parts):
        key = name_key(part.name)
        if not key:
            fail(f"institution_parts.{i}.name", "a part is named")
        elif key in seen:
            fail(f"institution_parts.{i}.name", f"{part.name} is listed twice (also institution_parts.{seen[key]})")
        seen.setdefault(key, i)
        if part.weight <= 0:
            fail(f"institution_parts.{i}.weight", "a part's weight is positive")
    fail.raise_as(InvalidDistribution)
    inventors_total = inventors_minimum(amount_fen, inventor_share_bp)
    to_inventors = largest_remainder(inventors_total, [inventor.share_bp for inventor in inventors])
    to_parts = largest_remainder(amount_fen - inventors_total, [part.weight for part in institution_parts])
    return DistributionPlan(
        amount=amount_fen,
        inventor_share_bp=inventor_share_bp,
        inventors=tuple(
            Payout(PayeeKind.INVENTOR, inventor.name, value)
            for inventor, value in zip(inventors, to_inventors, strict=True)
        ),
        institution=tuple(
            Payout(PayeeKind.INSTITUTION, part.name, value)
            for part, value in zip(institution_parts, to_parts, strict=True)
        ),
    )


def check_plan(plan: DistributionPlan, *, declared_bp: int) -> None:
    """A plan as proposed or amended by the office, before its notice: 422 ``invalid-distribution``
    unless every payout is 0 or more, they add up to the amount exactly, and the inventors together
    get at least the declared share of the amount (rounded up to the fen)."""
    fail = Problems()
    for i, payout in enumerate(plan.payouts):
        if payout.amount < 0:
            fail(f"payouts.{i}.amount", "a payout is 0 or more fen")
    total = sum(payout.amount for payout in plan.payouts)
    if total != plan.amount:
        fail("payouts", f"the payouts add up to the amount ({plan.amount} fen), not {total} fen")
    minimum = inventors_minimum(plan.amount, declared_bp)
    if plan.inventors_total < minimum:
        fail(
            "inventors",
            f"the inventors receive at least the declared {declared_bp / 100:g}% of the amount "
            f"({minimum} fen), not {plan.inventors_total} fen",
        )
    fail.raise_as(InvalidDistribution)


def needs_extra_approval(
    plan: DistributionPlan, threshold_fen: int = EXTRA_APPROVAL_THRESHOLD_FEN
) -> tuple[Payout, ...]:
    """The inventors whose payout is above ``threshold_fen`` (per person; default ¥300,000): the
    plan needs an extra approval with the minutes of a higher meeting before they are paid."""
    return tuple(payout for payout in plan.inventors if payout.amount > threshold_fen)
