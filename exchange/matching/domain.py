"""The rules of matching: documents, BM25, IPC depth, fits, the hybrid score, its explanation and
the feedback adjustment. Pure: no database, no web framework, no clock.

A **MatchDoc** is what either side of a match looks like to the ranking: a listing (an
achievement offered) or a demand (a problem an enterprise wants solved). The **hybrid score** of a
candidate for a query document is a weighted sum of signals, each in [0, 1]::

    score = 0.269·text + 0.170·ipc + 0.508·field + 0.005·maturity + 0.007·form + 0.040·budget
            (+ 0.15·semantic when an encoder is configured)
            + feedback adjustment (±0.15 at most)

- ``text``: BM25 of the candidate for the query's tokens (``listings.search.match_tokens``: words
  with the domain dictionary, synonyms' canonical terms, character bigrams; title and keywords
  count ``TITLE_WEIGHT`` times), divided by the best BM25 among the query's candidates;
- ``ipc``: the deepest level of the IPC hierarchy two codes share, weighted by ``IPC_DEPTH_WEIGHT``
  (section 0.1, class 0.3, subclass 0.6, main group 0.85, subgroup 1.0);
- fits: ``yes`` 1, ``partial`` in between, ``no`` 0, ``unknown`` (a side did not say) 0.5.

The weights (``DEFAULT_WEIGHTS``) are argued, not fitted; ``bench/fit_weights.py`` fits them on the
dev half of the labelled set and says why that fit is not adopted (docs/matching.md). A fit never makes an
unrelated document a candidate: only text, IPC or the semantic signal do; the fits order the
candidates those make.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from kernel.errors import DomainError


class MatchingRuleBroken(DomainError):
    problem_type = "matching-rule-broken"
    status = 422
    title = "The request breaks a rule of matching"


class DocKind(StrEnum):
    LISTING = "listing"  # an achievement offered on the exchange
    DEMAND = "demand"  # an enterprise's technical demand


class Form(StrEnum):
    """How a technology changes hands: a listing offers its deal type, a demand accepts several."""

    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"
    COMMISSIONED_DEVELOPMENT = "commissioned_development"
    TECHNICAL_SERVICE = "technical_service"


SERVICE_FORMS = frozenset({Form.COMMISSIONED_DEVELOPMENT, Form.TECHNICAL_SERVICE})


@dataclass(frozen=True, slots=True)
class MatchDoc:
    """One side of a match. ``maturity``: a listing's technology readiness (1–9), a demand's least
    acceptable; ``forms``: what a listing offers, what a demand accepts; money in fen: a demand's
    ``budget_min``/``budget_max`` (either may be open), a listing's asking ``price``."""

    id: uuid.UUID
    kind: DocKind
    title: str
    text: str = ""
    keywords: tuple[str, ...] = ()
    ipc: tuple[str, ...] = ()
    field: str | None = None
    maturity: int | None = None
    forms: frozenset[str] = frozenset()
    budget_min: int | None = None
    budget_max: int | None = None
    price: int | None = None
    org_id: uuid.UUID | None = None  # whose document it is: never matched with its own organisation's


Tokenizer = Callable[[str], Sequence[str]]

TITLE_WEIGHT = 3  # a title's and a keyword's tokens count three times a body's
K1 = 1.2
B = 0.75
K3 = 1.5  # saturation of a term repeated in the query
# A concept's technical term, added to a query for its plain words, counts this much (as a word);
# argued, like the weights below (bench/fit_weights.py tries 0.5, 0.65, 0.8 and 1.0).
EXPANSION_WEIGHT = 0.8
NGRAM_WEIGHT = 1.0  # a character bigram's share of BM25, against a word's


def doc_terms(doc: MatchDoc, tokenize: Tokenizer) -> Counter[str]:
    """The weighted term frequencies of a document: title and keywords ``TITLE_WEIGHT`` times."""
    terms: Counter[str] = Counter()
    for token in tokenize(doc.title):
        terms[token] += TITLE_WEIGHT
    for keyword in doc.keywords:
        for token in tokenize(keyword):
            terms[token] += TITLE_WEIGHT
    for token in tokenize(doc.text):
        terms[token] += 1
    return terms


def idf(df: int, n: int) -> float:
    """BM25's inverse document frequency, never negative (a term in every document weighs ~0)."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def query_weight(qtf: float) -> float:
    """How much a term repeated in the query counts: saturating, 1 for a term said once."""
    return qtf * (K3 + 1) / (K3 + qtf)


def bm25_term(tf: float, df: int, n: int, length: float, average_length: float) -> float:
    """The BM25 contribution of one term of frequency ``tf`` in a document of ``length``."""
    if tf <= 0:
        return 0.0
    norm = K1 * (1 - B + B * length / average_length) if average_length > 0 else K1
    return idf(df, n) * tf * (K1 + 1) / (tf + norm)


def bm25(
    query: Mapping[str, float], doc: Mapping[str, float], df: Mapping[str, int], n: int, average_length: float
) -> float:
    """BM25 of a document's term frequencies for a query's, given the collection's statistics."""
    length = sum(doc.values())
    return sum(
        query_weight(qtf) * bm25_term(doc.get(term, 0.0), df.get(term, 0), n, length, average_length)
        for term, qtf in query.items()
    )


# ----------------------------------------------------------------------------------------------
# IPC: section H, class H01, subclass H01M, main group H01M 10/00, subgroup H01M 10/0525

IPC_LEVELS = ("部", "大类", "小类", "大组", "小组")  # section, class, subclass, main group, subgroup
IPC_DEPTH_WEIGHT = (0.0, 0.1, 0.3, 0.6, 0.85, 1.0)  # by the number of levels two codes share
_IPC = re.compile(r"^([A-H])(?:(\d{2})(?:([A-Z])(?:\s*(\d{1,4})(?:\s*/\s*(\d{2,6}))?)?)?)?$")


def ipc_levels(code: str) -> tuple[str, ...] | None:
    """The levels of an IPC code from the section down (``None``: not an IPC code). A main group is
    written ``H01M 10/00``; its subgroups ``H01M 10/0525``."""
    found = _IPC.match(code.strip().upper())
    if not found:
        return None
    section, klass, subclass, group, subgroup = found.groups()
    levels = [section]
    if klass:
        levels.append(section + klass)
    if subclass:
        levels.append(levels[-1] + subclass)
    if group:
        levels.append(f"{levels[-1]} {int(group)}/00")
        if subgroup and subgroup.strip("0"):
            levels.append(f"{levels[-2]} {int(group)}/{subgroup}")
    return tuple(levels)


def is_ipc(code: str) -> bool:
    return ipc_levels(code) is not None


def shared_depth(a: str, b: str) -> int:
    """How many levels of the hierarchy two codes share (0: not even the section)."""
    la, lb = ipc_levels(a), ipc_levels(b)
    if la is None or lb is None:
        return 0
    depth = 0
    for x, y in zip(la, lb, strict=False):
        if x != y:
            break
        depth += 1
    return depth


@dataclass(frozen=True, slots=True)
class SharedIpc:
    code: str  # the deepest level both share, e.g. "H01M" or "H01M 10/00"
    depth: int  # 1 section … 5 subgroup
    label: str  # its level in Chinese: 部, 大类, 小类, 大组, 小组


def shared_ipc(query: Iterable[str], candidate: Iterable[str]) -> list[SharedIpc]:
    """For each code of the query, the deepest level it shares with a code of the candidate."""
    found: dict[str, SharedIpc] = {}
    candidates = list(candidate)
    for code in query:
        best = max((shared_depth(code, other) for other in candidates), default=0)
        if best:
            levels = ipc_levels(code) or ()
            common = levels[best - 1]
            if common not in found:
                found[common] = SharedIpc(common, best, IPC_LEVELS[best - 1])
    return sorted(found.values(), key=lambda s: (-s.depth, s.code))


def ipc_score(query: Iterable[str], candidate: Iterable[str]) -> float:
    """The weight of the deepest level any pair of codes shares (0 without a shared section)."""
    shared = shared_ipc(query, candidate)
    return IPC_DEPTH_WEIGHT[shared[0].depth] if shared else 0.0


# ----------------------------------------------------------------------------------------------
# Fits


class Fit(StrEnum):
    YES = "yes"
    PARTIAL = "partial"
    NO = "no"
    UNKNOWN = "unknown"


FIT_LABELS = {Fit.YES: "符合", Fit.PARTIAL: "部分符合", Fit.NO: "不符合", Fit.UNKNOWN: "未说明"}
UNKNOWN_VALUE = 0.5

# Fields whose achievements often answer each other's demands.
RELATED_FIELDS = frozenset(
    frozenset(pair)
    for pair in (
        ("new_energy", "new_materials"),
        ("new_energy", "energy_saving_environment"),
        ("new_materials", "advanced_manufacturing"),
        ("electronic_information", "advanced_manufacturing"),
        ("biomedicine", "agriculture"),
        ("energy_saving_environment", "agriculture"),
    )
)


@dataclass(frozen=True, slots=True)
class FitResult:
    fit: Fit
    value: float  # in [0, 1]
    label: str  # 领域 / 成熟度 / 合作方式 / 预算
    note: str  # why, in Chinese

    @property
    def fit_label(self) -> str:
        return FIT_LABELS[self.fit]


def field_fit(a: str | None, b: str | None) -> FitResult:
    if not a or not b:
        return FitResult(Fit.UNKNOWN, UNKNOWN_VALUE, "领域", "一方未说明领域")
    if a == b:
        return FitResult(Fit.YES, 1.0, "领域", "同一领域")
    if frozenset((a, b)) in RELATED_FIELDS or "other" in (a, b):
        return FitResult(Fit.PARTIAL, 0.5, "领域", "相关领域")
    return FitResult(Fit.NO, 0.0, "领域", "领域不同")


def _sides(a: MatchDoc, b: MatchDoc) -> tuple[MatchDoc, MatchDoc]:
    """(the demand-like side, the listing-like side) of a pair, whichever the query is."""
    return (b, a) if a.kind is DocKind.LISTING and b.kind is DocKind.DEMAND else (a, b)


def maturity_fit(needed: int | None, offered: int | None) -> FitResult:
    """A listing at least as mature as the demand needs fits; one or two levels short, partly."""
    if needed is None or offered is None:
        return FitResult(Fit.UNKNOWN, UNKNOWN_VALUE, "成熟度", "一方未说明成熟度")
    if offered >= needed:
        return FitResult(Fit.YES, 1.0, "成熟度", f"成熟度 {offered} 级，需要 {needed} 级以上")
    gap = needed - offered
    if gap <= 2:
        return FitResult(Fit.PARTIAL, 1.0 - gap / 3, "成熟度", f"成熟度 {offered} 级，差 {gap} 级")
    return FitResult(Fit.NO, 0.0, "成熟度", f"成熟度 {offered} 级，需要 {needed} 级以上")


def form_fit(accepted: Iterable[str], offered: Iterable[str]) -> FitResult:
    """A form both sides name fits; a demand that accepts commissioned development or technical
    service partly fits any listing (its holder can do the work)."""
    accepted, offered = frozenset(accepted), frozenset(offered)
    if not accepted or not offered:
        return FitResult(Fit.UNKNOWN, UNKNOWN_VALUE, "合作方式", "一方未说明合作方式")
    if accepted & offered:
        return FitResult(Fit.YES, 1.0, "合作方式", "合作方式一致")
    if accepted & SERVICE_FORMS:
        return FitResult(Fit.PARTIAL, 0.5, "合作方式", "可委托开发或技术服务")
    return FitResult(Fit.NO, 0.0, "合作方式", "合作方式不同")


def budget_fit(low: int | None, high: int | None, price: int | None) -> FitResult:
    """A price inside the budget range fits; up to half again above the top (or half below the
    bottom) partly, falling linearly; further out, not."""
    if price is None or (low is None and high is None):
        return FitResult(Fit.UNKNOWN, UNKNOWN_VALUE, "预算", "一方未说明预算或价格")
    if high is not None and price > high:
        over = (price - high) / max(high, 1)
        if over <= 0.5:
            return FitResult(Fit.PARTIAL, 1.0 - over * 2, "预算", "价格略高于预算")
        return FitResult(Fit.NO, 0.0, "预算", "价格高于预算")
    if low is not None and price < low:
        under = (low - price) / max(low, 1)
        if under <= 0.5:
            return FitResult(Fit.PARTIAL, 1.0 - under * 2, "预算", "价格低于预算下限")
        return FitResult(Fit.NO, 0.0, "预算", "价格远低于预算下限")
    return FitResult(Fit.YES, 1.0, "预算", "价格在预算范围内")


def fits(query: MatchDoc, candidate: MatchDoc) -> tuple[FitResult, FitResult, FitResult, FitResult]:
    """Field, maturity, form and budget fit of a pair; the same whichever side is the query."""
    demand, offer = _sides(query, candidate)
    return (
        field_fit(query.field, candidate.field),
        maturity_fit(demand.maturity, offer.maturity),
        form_fit(demand.forms, offer.forms),
        budget_fit(demand.budget_min, demand.budget_max, offer.price),
    )


# ----------------------------------------------------------------------------------------------
# The hybrid score and its explanation


@dataclass(frozen=True, slots=True)
class Weights:
    """The weight of each signal; the defaults are ``DEFAULT_WEIGHTS``."""

    text: float = 0.50
    ipc: float = 0.20
    field: float = 0.10
    maturity: float = 0.05
    form: float = 0.07
    budget: float = 0.08
    semantic: float = 0.0  # 0.15 when an encoder is configured (``with_semantic``)

    def with_semantic(self, weight: float = 0.15) -> Weights:
        return Weights(self.text, self.ipc, self.field, self.maturity, self.form, self.budget, weight)


# Argued, not fitted: what two documents say (text, then IPC) decides; the fits of field, maturity,
# form and budget order near-ties. A fit on the labelled set's dev half (bench/fit_weights.py:
# coordinate ascent on nDCG@10) gained +0.003 in 5-fold cross-validation, an interval that holds 0,
# with weights that swing from fold to fold and put field (0.51) above text (0.27); it is not
# adopted until real judgments (``match_feedback``) can fit it (docs/performance.md, "Matching").
# The sum stays 1 so that the semantic weight and the feedback adjustment (0.15 each) keep their scale.
DEFAULT_WEIGHTS = Weights(text=0.50, ipc=0.20, field=0.10, maturity=0.05, form=0.07, budget=0.08)
FEEDBACK_WEIGHT = 0.15  # the most feedback adds to (or takes from) a score


@dataclass(frozen=True, slots=True)
class Explanation:
    matched_terms: tuple[str, ...]  # the words both share (not the character bigrams), most telling first
    shared_ipc: tuple[SharedIpc, ...]
    fits: tuple[FitResult, ...]  # 领域, 成熟度, 合作方式, 预算
    text: float  # the signals, each in [0, 1]
    ipc: float
    semantic: float | None
    feedback: float  # the adjustment of the organisation's feedback (0 without)


@dataclass(frozen=True, slots=True)
class Match:
    doc: MatchDoc
    score: float
    explanation: Explanation


def hybrid(
    text: float, ipc: float, fit_values: Sequence[float], semantic: float | None, weights: Weights = DEFAULT_WEIGHTS
) -> float:
    """The weighted sum of the signals (each in [0, 1])."""
    field, maturity, form, budget = fit_values
    score = (
        weights.text * text
        + weights.ipc * ipc
        + weights.field * field
        + weights.maturity * maturity
        + weights.form * form
        + weights.budget * budget
    )
    if semantic is not None:
        score += weights.semantic * max(0.0, semantic)
    return score


def matched_terms(query_terms: Mapping[str, float], doc_terms: Mapping[str, float], limit: int = 8) -> tuple[str, ...]:
    """The words both share, longest first (the bigrams are how they match, not what to show)."""
    shared = [t for t in query_terms if t in doc_terms and not t.startswith("~")]
    return tuple(sorted(shared, key=lambda t: (-len(t), t))[:limit])


def explain(
    query: MatchDoc,
    candidate: MatchDoc,
    query_terms: Mapping[str, float],
    candidate_terms: Mapping[str, float],
    text: float,
    semantic: float | None,
    weights: Weights = DEFAULT_WEIGHTS,
    feedback: float = 0.0,
) -> Match:
    """The scored match of a candidate with why: its terms, IPC codes and fits."""
    shared = shared_ipc(query.ipc, candidate.ipc)
    ipc = IPC_DEPTH_WEIGHT[shared[0].depth] if shared else 0.0
    fit_results = fits(query, candidate)
    score = hybrid(text, ipc, [f.value for f in fit_results], semantic, weights) + feedback
    return Match(
        candidate,
        round(score, 6),
        Explanation(
            matched_terms(query_terms, candidate_terms), tuple(shared), fit_results, text, ipc, semantic, feedback
        ),
    )


# ----------------------------------------------------------------------------------------------
# Feedback: an organisation's marks move documents like those it marked


@dataclass(frozen=True, slots=True)
class Mark:
    doc: MatchDoc
    relevant: bool
    query_id: uuid.UUID | None = None  # the query the mark was given for


@dataclass(frozen=True, slots=True)
class FeedbackProfile:
    """What an organisation marked relevant or irrelevant before (the documents themselves)."""

    relevant: tuple[MatchDoc, ...] = ()
    irrelevant: tuple[MatchDoc, ...] = ()
    dismissed: frozenset[tuple[uuid.UUID, uuid.UUID]] = frozenset()  # (query id, doc id) marked irrelevant

    @classmethod
    def of(cls, marks: Iterable[Mark]) -> FeedbackProfile:
        latest: dict[tuple[str, uuid.UUID], Mark] = {}
        for mark in marks:  # the latest mark of a document wins
            latest[(mark.doc.kind.value, mark.doc.id)] = mark
        pairs: dict[tuple[uuid.UUID, uuid.UUID], bool] = {}
        for mark in marks:
            if mark.query_id is not None:
                pairs[(mark.query_id, mark.doc.id)] = mark.relevant
        return cls(
            tuple(m.doc for m in latest.values() if m.relevant),
            tuple(m.doc for m in latest.values() if not m.relevant),
            frozenset(pair for pair, relevant in pairs.items() if not relevant),
        )

    def __bool__(self) -> bool:
        return bool(self.relevant or self.irrelevant)


TermsOf = Callable[[MatchDoc], Mapping[str, float]]


def _words(terms: Mapping[str, float], top: int = 20) -> frozenset[str]:
    words = [t for t in terms if not t.startswith("~")]
    return frozenset(sorted(words, key=lambda t: (-terms[t], t))[:top])


def similarity(a: MatchDoc, b: MatchDoc, terms_of: TermsOf) -> float:
    """How alike two documents of the same kind are, in [0, 1]: 1 for the same document;
    otherwise 0.5·Jaccard of their 20 most frequent words + 0.3·IPC score + 0.2·same field."""
    if a.kind is b.kind and a.id == b.id:
        return 1.0
    wa, wb = _words(terms_of(a)), _words(terms_of(b))
    jaccard = len(wa & wb) / len(wa | wb) if wa | wb else 0.0
    same_field = 1.0 if a.field and a.field == b.field else 0.0
    return 0.5 * jaccard + 0.3 * ipc_score(a.ipc, b.ipc) + 0.2 * same_field


DISMISSED = -1.0  # a document marked irrelevant for this very query sinks below every other


def feedback_adjustment(
    candidate: MatchDoc, profile: FeedbackProfile, terms_of: TermsOf, query_id: uuid.UUID | None = None
) -> float:
    """``FEEDBACK_WEIGHT`` × (likeness to the nearest document marked relevant − likeness to the
    nearest marked irrelevant): a document marked relevant itself gains the whole weight, one
    marked irrelevant loses it, and documents like them follow in proportion. A document the
    organisation marked irrelevant for this very query gets ``DISMISSED``: it was judged, not guessed."""
    if not profile:
        return 0.0
    if query_id is not None and (query_id, candidate.id) in profile.dismissed:
        return DISMISSED
    up = max((similarity(candidate, d, terms_of) for d in profile.relevant), default=0.0)
    down = max((similarity(candidate, d, terms_of) for d in profile.irrelevant), default=0.0)
    return FEEDBACK_WEIGHT * (up - down)


# ----------------------------------------------------------------------------------------------
# Semantic encoders (optional)


class Encoder(Protocol):
    """Turns texts into vectors whose cosine says how alike the texts mean."""

    def encode(self, texts: Sequence[str]) -> list[list[float]]: ...


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


@dataclass(frozen=True)
class HashedNgramEncoder:
    """A deterministic stand-in encoder for tests: character unigrams and bigrams hashed into
    ``dimensions`` buckets (stable across processes: no Python ``hash``), L2-normalised."""

    dimensions: int = 256
    _salt: bytes = field(default=b"techx", repr=False)

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimensions
            chars = [c for c in text if c.isalnum()]
            grams = chars + [a + b for a, b in itertools.pairwise(chars)]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode(), digest_size=4, key=self._salt).digest()
                vector[int.from_bytes(digest, "big") % self.dimensions] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors
