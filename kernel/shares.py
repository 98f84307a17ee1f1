"""Splitting a whole number of fen into parts by weight, exactly: the largest-remainder method.

Each part first gets the whole fen below its exact proportional value (``total × weight / Σ
weights``); the fen left over (fewer than the number of parts) go one each to the parts with the
largest remainders, ties to the part given first. So the parts always add up to ``total``, none is
negative, each is within one fen of its exact value (below it by less than one fen, or above it by
less than one), and a part of weight 0 gets nothing.
"""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` (≥ 0) split in proportion to ``weights`` (each ≥ 0, at least one > 0), in their order."""
    if total < 0:
        raise ValueError(f"the total to split is not negative: {total}")
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("the weights are not negative and at least one is positive")
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts
