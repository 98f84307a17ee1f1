"""Request and response types of the matching API (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.matching.domain import DocKind, Match, MatchDoc


class FeedbackBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A mark on one match: for the query document, the matched document was relevant or not."""

    query_kind: DocKind
    query_id: uuid.UUID
    doc_kind: DocKind
    doc_id: uuid.UUID
    relevant: bool
    contacted: bool = False  # the organisation contacted the other side
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class FeedbackOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    query_kind: DocKind
    query_id: uuid.UUID
    doc_kind: DocKind
    doc_id: uuid.UUID
    relevant: bool
    contacted: bool
    note: str
    created_at: datetime
    created_by: uuid.UUID


class SharedIpcOut(msgspec.Struct, kw_only=True):
    code: str  # the deepest level both share
    depth: int  # 1 section … 5 subgroup
    level: str  # 部, 大类, 小类, 大组, 小组


class FitOut(msgspec.Struct, kw_only=True):
    aspect: str  # 领域, 成熟度, 合作方式, 预算
    fit: str  # yes, partial, no, unknown
    fit_label: str  # 符合, 部分符合, 不符合, 未说明
    note: str  # why, in Chinese


class SignalsOut(msgspec.Struct, kw_only=True):
    """The signals the score adds up, each in [0, 1] (feedback: the organisation's adjustment)."""

    text: float
    ipc: float
    semantic: float | None
    feedback: float


class MatchOut(msgspec.Struct, kw_only=True):
    """One match and why: the words both share, the IPC codes, each fit, the signals."""

    kind: DocKind
    id: uuid.UUID
    title: str
    org_id: uuid.UUID | None
    score: float
    matched_terms: list[str]
    shared_ipc: list[SharedIpcOut]
    fits: list[FitOut]
    signals: SignalsOut


class MatchesOut(msgspec.Struct, kw_only=True):
    query_kind: DocKind
    query_id: uuid.UUID
    items: list[MatchOut]


def match_out(found: Match) -> MatchOut:
    why = found.explanation
    return MatchOut(
        kind=found.doc.kind,
        id=found.doc.id,
        title=found.doc.title,
        org_id=found.doc.org_id,
        score=round(found.score, 4),
        matched_terms=list(why.matched_terms),
        shared_ipc=[SharedIpcOut(code=s.code, depth=s.depth, level=s.label) for s in why.shared_ipc],
        fits=[FitOut(aspect=f.label, fit=f.fit.value, fit_label=f.fit_label, note=f.note) for f in why.fits],
        signals=SignalsOut(
            text=round(why.text, 4),
            ipc=round(why.ipc, 4),
            semantic=None if why.semantic is None else round(why.semantic, 4),
            feedback=round(why.feedback, 4),
        ),
    )


def matches_out(query: MatchDoc, found: list[Match]) -> MatchesOut:
    return MatchesOut(query_kind=query.kind, query_id=query.id, items=[match_out(m) for m in found])
