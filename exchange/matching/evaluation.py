"""Measuring the ranking against graded judgments: nDCG@k and recall@k, and the labelled set of
bench/data (bench/data/README.md). Used by bench/matching.py and the tests; the same measures
apply to the feedback kept in ``match_feedback`` (a relevant mark as grade 2)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from exchange.matching.domain import DocKind, MatchDoc

RELEVANT_GRADE = 2  # recall counts the documents graded at least this


def dcg(grades: Sequence[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of a ranking (unjudged documents count as grade 0); 1.0 with nothing to find."""
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg([grades.get(d, 0) for d in ranked[:k]]) / ideal if ideal > 0 else 1.0


def recall_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    relevant = {d for d, g in grades.items() if g >= RELEVANT_GRADE}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 1.0


@dataclass(frozen=True)
class LabelledSet:
    achievements: dict[str, MatchDoc]  # by the set's key (a01 …)
    demands: dict[str, MatchDoc]
    grades: dict[str, dict[str, int]]  # demand key → achievement key → grade 0–3
    keys: dict[uuid.UUID, str]  # a document's id → its key


LABELLED = Path(__file__).resolve().parents[2] / "bench" / "data" / "matching-labelled.jsonl"


def _id(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"techx:matching:{key}")


def load_labelled(path: Path = LABELLED) -> LabelledSet:
    achievements: dict[str, MatchDoc] = {}
    demands: dict[str, MatchDoc] = {}
    grades: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row["type"] == "pair":
            grades.setdefault(row["demand"], {})[row["achievement"]] = int(row["relevance"])
            continue
        listing = row["type"] == "achievement"
        doc = MatchDoc(
            id=_id(row["id"]),
            kind=DocKind.LISTING if listing else DocKind.DEMAND,
            title=row["title"],
            text=row["text"],
            keywords=tuple(row["keywords"]),
            ipc=tuple(row["ipc"]),
            field=row["field"],
            maturity=row["maturity"],
            forms=frozenset(row["forms"]),
            budget_min=row.get("budget_min_fen"),
            budget_max=row.get("budget_max_fen"),
            price=row.get("price_fen"),
        )
        (achievements if listing else demands)[row["id"]] = doc
    keys = {d.id: key for key, d in (achievements | demands).items()}
    return LabelledSet(achievements, demands, grades, keys)


SPLITS = ("dev", "test")


def split_of(key: str) -> str:
    """The fixed half a demand belongs to, by its number: odd ``dev`` (the ranking may be tuned on
    it), even ``test`` (reported, never tuned on)."""
    return "dev" if int(key[1:]) % 2 else "test"


def evaluate(
    labelled: LabelledSet,
    rank: Callable[[MatchDoc], Sequence[uuid.UUID]],
    k: int = 10,
    split: str | None = None,
) -> tuple[float, float]:
    """Mean nDCG@k and recall@k over the demands that have judgments (of ``split`` only, if
    given), ``rank`` giving the ids of the achievements it ranks for a demand, best first."""
    ndcgs, recalls = [], []
    for key, grades in labelled.grades.items():
        if split is not None and split_of(key) != split:
            continue
        ranked = [labelled.keys[i] for i in rank(labelled.demands[key])]
        ndcgs.append(ndcg_at(ranked, grades, k))
        recalls.append(recall_at(ranked, grades, k))
    return sum(ndcgs) / len(ndcgs), sum(recalls) / len(recalls)
