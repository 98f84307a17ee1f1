"""An in-memory index of MatchDocs: add, replace, remove, and top-k matches either way.

One **segment per kind** (listings, demands). A segment keeps, for each document, a slot: its
weighted term frequencies (term ids and counts, as small numpy arrays), its length, whether it is
alive; and the inverted postings of each term (slots and frequencies, growable numpy arrays) and of
each IPC level (section to subgroup). A change appends a new slot and marks the old one dead, so an
update costs the analysis of one document; dead slots are dropped when they pass a third of the
segment (a rebuild from the stored terms, no re-analysis).

A query scores every document of the wanted kind that shares a term or an IPC level in one pass of
numpy (BM25 accumulated with ``bincount`` over the query terms' postings; the IPC weight of the
deepest shared level with ``maximum``), keeps the ``POOL`` best by ``text`` and ``ipc`` (and the
semantic signal when an encoder is set), then computes the hybrid score of each with its fits,
feedback and explanation (``domain.explain``) and returns the best ``k``. The fits only order the
pool: a fit never makes a candidate of a document without shared words, IPC or meaning.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from exchange.matching.domain import (
    DEFAULT_WEIGHTS,
    EXPANSION_WEIGHT,
    IPC_DEPTH_WEIGHT,
    K1,
    NGRAM_WEIGHT,
    B,
    DocKind,
    Encoder,
    FeedbackProfile,
    Match,
    MatchDoc,
    Tokenizer,
    Weights,
    doc_terms,
    explain,
    feedback_adjustment,
    idf,
    ipc_levels,
    query_weight,
)
from listings.search import NGRAM, expansion_terms, match_tokens

Expander = Callable[[str], Sequence[str]]
POOL = 200  # candidates whose hybrid score is computed in full
SEMANTIC_FLOOR = 0.5  # the cosine from which meaning alone makes a candidate


class _Grow:
    """A numpy array that grows by doubling (appends are amortised O(1))."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: type, capacity: int = 4) -> None:
        self.data = np.empty(capacity, dtype=dtype)
        self.size = 0

    def extend(self, values: Iterable[float] | np.ndarray) -> None:
        values = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=self.data.dtype)
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.empty(max(end, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    def view(self) -> np.ndarray:
        return self.data[: self.size]


@dataclass
class _Segment:
    """The documents of one kind."""

    docs: list[MatchDoc | None] = field(default_factory=list)  # by slot; None: dead
    terms: list[tuple[np.ndarray, np.ndarray] | None] = field(default_factory=list)  # term ids, frequencies
    vectors: list[np.ndarray | None] = field(default_factory=list)
    slot_of: dict[uuid.UUID, int] = field(default_factory=dict)
    lengths: _Grow = field(default_factory=lambda: _Grow(np.float32, 1024))
    alive: _Grow = field(default_factory=lambda: _Grow(np.bool_, 1024))
    postings: dict[int, tuple[_Grow, _Grow]] = field(default_factory=dict)
    ipc: dict[str, _Grow] = field(default_factory=dict)
    df: Counter[int] = field(default_factory=Counter)
    total_length: float = 0.0
    dead: int = 0

    @property
    def live(self) -> int:
        return len(self.slot_of)


class MatchIndex:
    """Documents of both kinds in memory, queried by a document of either kind."""

    def __init__(
        self,
        *,
        tokenize: Tokenizer = match_tokens,
        encoder: Encoder | None = None,
        weights: Weights | None = None,
        expand: Expander | None = expansion_terms,
        expansion_weight: float = EXPANSION_WEIGHT,
        ngram_weight: float = NGRAM_WEIGHT,
    ) -> None:
        self.tokenize = tokenize
        self.expand = expand
        self.expansion_weight = expansion_weight
        self.ngram_weight = ngram_weight
        self.encoder = encoder
        self.weights = weights or (DEFAULT_WEIGHTS.with_semantic() if encoder else DEFAULT_WEIGHTS)
        self._vocabulary: dict[str, int] = {}
        self._words: list[str] = []
        self._segments = {kind: _Segment() for kind in DocKind}

    # ------------------------------------------------------------------------------------------
    # Changes

    def _term_ids(self, terms: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        ids = []
        for term in terms:
            tid = self._vocabulary.get(term)
            if tid is None:
                tid = self._vocabulary[term] = len(self._words)
                self._words.append(term)
            ids.append(tid)
        return np.asarray(ids, dtype=np.int32), np.asarray(list(terms.values()), dtype=np.float32)

    def add_many(self, docs: Iterable[MatchDoc]) -> None:
        """Add (or replace) documents; the postings of each term grow once per call."""
        docs = list(docs)
        vectors = self._encode(docs)
        grouped: dict[DocKind, dict[int, tuple[list[int], list[float]]]] = {k: {} for k in DocKind}
        grouped_ipc: dict[DocKind, dict[str, list[int]]] = {k: {} for k in DocKind}
        for doc, vector in zip(docs, vectors, strict=True):
            segment = self._segments[doc.kind]
            self._kill(segment, doc.id)
            ids, tfs = self._term_ids(doc_terms(doc, self.tokenize))
            slot = len(segment.docs)
            segment.docs.append(doc)
            segment.terms.append((ids, tfs))
            segment.vectors.append(vector)
            segment.slot_of[doc.id] = slot
            length = float(tfs.sum())
            segment.lengths.extend([length])
            segment.alive.extend([True])
            segment.total_length += length
            segment.df.update(ids.tolist())
            postings = grouped[doc.kind]
            for tid, tf in zip(ids.tolist(), tfs.tolist(), strict=True):
                slots, freqs = postings.setdefault(tid, ([], []))
                slots.append(slot)
                freqs.append(tf)
            for level in {lv for code in doc.ipc for lv in (ipc_levels(code) or ())}:
                grouped_ipc[doc.kind].setdefault(level, []).append(slot)
        for kind in DocKind:
            segment = self._segments[kind]
            for tid, (slots, freqs) in grouped[kind].items():
                target = segment.postings.get(tid)
                if target is None:
                    target = segment.postings[tid] = (_Grow(np.int32, len(slots)), _Grow(np.float32, len(slots)))
                target[0].extend(slots)
                target[1].extend(freqs)
            for level, slots in grouped_ipc[kind].items():
                segment.ipc.setdefault(level, _Grow(np.int32, len(slots))).extend(slots)
            self._maybe_compact(kind)

    def add(self, doc: MatchDoc) -> None:
        """Add a document, or replace the one of the same kind and id."""
        self.add_many([doc])

    replace = add

    def remove(self, kind: DocKind, doc_id: uuid.UUID) -> None:
        segment = self._segments[kind]
        self._kill(segment, doc_id)
        self._maybe_compact(kind)

    def _kill(self, segment: _Segment, doc_id: uuid.UUID) -> None:
        slot = segment.slot_of.pop(doc_id, None)
        if slot is None:
            return
        ids, tfs = segment.terms[slot] or (np.empty(0, np.int32), np.empty(0, np.float32))
        segment.df.subtract(ids.tolist())
        segment.total_length -= float(tfs.sum())
        segment.alive.data[slot] = False
        segment.docs[slot] = None
        segment.terms[slot] = None
        segment.vectors[slot] = None
        segment.dead += 1

    def _maybe_compact(self, kind: DocKind) -> None:
        segment = self._segments[kind]
        if segment.dead < 1000 or segment.dead * 3 < len(segment.docs):
            return
        live = [(d, t, v) for d, t, v in zip(segment.docs, segment.terms, segment.vectors, strict=True) if d]
        fresh = self._segments[kind] = _Segment()
        postings: dict[int, tuple[list[int], list[float]]] = {}
        for slot, (doc, terms, vector) in enumerate(live):
            assert terms is not None
            fresh.docs.append(doc)
            fresh.terms.append(terms)
            fresh.vectors.append(vector)
            fresh.slot_of[doc.id] = slot
            fresh.total_length += float(terms[1].sum())
            fresh.df.update(terms[0].tolist())
            for tid, tf in zip(terms[0].tolist(), terms[1].tolist(), strict=True):
                slots, freqs = postings.setdefault(tid, ([], []))
                slots.append(slot)
                freqs.append(tf)
            for level in {lv for code in doc.ipc for lv in (ipc_levels(code) or ())}:
                fresh.ipc.setdefault(level, _Grow(np.int32)).extend([slot])
        fresh.lengths.extend([float(t[1].sum()) for _, t, _ in live if t is not None])
        fresh.alive.extend([True] * len(live))
        for tid, (slots, freqs) in postings.items():
            fresh.postings[tid] = (_Grow(np.int32, len(slots)), _Grow(np.float32, len(slots)))
            fresh.postings[tid][0].extend(slots)
            fresh.postings[tid][1].extend(freqs)

    def _encode(self, docs: list[MatchDoc]) -> list[np.ndarray | None]:
        if self.encoder is None or not docs:
            return [None] * len(docs)
        vectors = self.encoder.encode([f"{d.title}\n{d.text}" for d in docs])
        out = []
        for vector in vectors:
            v = np.asarray(vector, dtype=np.float32)
            norm = float(np.linalg.norm(v))
            out.append(v / norm if norm else v)
        return out

    # ------------------------------------------------------------------------------------------
    # Reads

    def get(self, kind: DocKind, doc_id: uuid.UUID) -> MatchDoc | None:
        segment = self._segments[kind]
        slot = segment.slot_of.get(doc_id)
        return segment.docs[slot] if slot is not None else None

    def count(self, kind: DocKind) -> int:
        return self._segments[kind].live

    def terms_of(self, doc: MatchDoc) -> Mapping[str, float]:
        """The weighted term frequencies of a document: stored if indexed, else analysed."""
        segment = self._segments[doc.kind]
        slot = segment.slot_of.get(doc.id)
        stored = segment.terms[slot] if slot is not None else None
        if stored is None or segment.docs[slot] != doc:  # type: ignore[index]
            return doc_terms(doc, self.tokenize)
        return {self._words[t]: f for t, f in zip(stored[0].tolist(), stored[1].tolist(), strict=True)}

    def query(
        self,
        query: MatchDoc,
        kind: DocKind,
        k: int = 10,
        *,
        profile: FeedbackProfile | None = None,
        pool: int = POOL,
    ) -> list[Match]:
        """The ``k`` best documents of ``kind`` for ``query`` (never the query itself nor a document
        of the query's organisation), best first, each with its explanation."""
        segment = self._segments[kind]
        n = len(segment.docs)
        if n == 0 or segment.live == 0:
            return []
        query_terms: dict[str, float] = dict(doc_terms(query, self.tokenize))
        scale: dict[str, float] = {}
        if self.expand is not None:  # the technical terms the query's plain words call up, lower weight
            for term in self.expand(" ".join([query.title, *query.keywords, query.text])):
                if term not in query_terms:
                    query_terms[term] = 1.0
                    scale[term] = self.expansion_weight
        text = self._text(segment, query_terms, scale)
        ipc = self._ipc(segment, query.ipc)
        semantic = self._semantic(segment, query)
        alive = segment.alive.view()
        candidate = (text > 0) | (ipc > 0)
        if semantic is not None:
            candidate |= semantic >= SEMANTIC_FLOOR
        candidate &= alive
        slots = np.flatnonzero(candidate)
        if len(slots) == 0:
            return []
        best_text = float(text[slots].max()) or 1.0
        w = self.weights
        prelim = w.text * text[slots] / best_text + w.ipc * ipc[slots]
        if semantic is not None:
            prelim = prelim + w.semantic * np.maximum(semantic[slots], 0)
        wanted = min(len(slots), max(pool, 5 * k))
        if wanted < len(slots):
            top = np.argpartition(-prelim, wanted - 1)[:wanted]
            slots = slots[top]
        matches = []
        for slot in slots.tolist():
            doc = segment.docs[slot]
            if doc is None or (doc.kind is query.kind and doc.id == query.id):
                continue
            if query.org_id is not None and doc.org_id == query.org_id:
                continue
            adjustment = feedback_adjustment(doc, profile, self.terms_of, query.id) if profile else 0.0
            matches.append(
                explain(
                    query,
                    doc,
                    query_terms,
                    self.terms_of(doc),
                    float(text[slot]) / best_text,
                    float(semantic[slot]) if semantic is not None else None,
                    w,
                    adjustment,
                )
            )
        matches.sort(key=lambda m: (-m.score, str(m.doc.id)))
        return matches[:k]

    def _text(self, segment: _Segment, query_terms: Mapping[str, float], scale: Mapping[str, float]) -> np.ndarray:
        """The text signal of every slot before normalisation: one BM25 over words and bigrams
        (the place where another text model would go; bench/matching_variants.py measures some)."""
        return self._bm25(segment, query_terms, scale)

    def _bm25(
        self, segment: _Segment, query_terms: Mapping[str, float], scale: Mapping[str, float] | None = None
    ) -> np.ndarray:
        """BM25 of every slot; a term's contribution times its ``scale`` (an expansion's weight),
        a character bigram's times ``ngram_weight``."""
        scale = scale or {}
        n = len(segment.docs)
        live = max(segment.live, 1)
        average = segment.total_length / live if segment.total_length > 0 else 1.0
        lengths = segment.lengths.view()
        norm = K1 * (1 - B + B * lengths / average)
        all_slots, all_weights = [], []
        for term, qtf in query_terms.items():
            tid = self._vocabulary.get(term)
            if tid is None or tid not in segment.postings:
                continue
            df = segment.df.get(tid, 0)
            if df <= 0:
                continue
            slots, tfs = segment.postings[tid][0].view(), segment.postings[tid][1].view()
            factor = scale.get(term, self.ngram_weight if term.startswith(NGRAM) else 1.0)
            weight = factor * query_weight(qtf) * idf(df, live)
            all_slots.append(slots)
            all_weights.append(weight * tfs * (K1 + 1) / (tfs + norm[slots]))
        if not all_slots:
            return np.zeros(n, dtype=np.float64)
        return np.bincount(np.concatenate(all_slots), weights=np.concatenate(all_weights), minlength=n)

    def _ipc(self, segment: _Segment, codes: Iterable[str]) -> np.ndarray:
        scores = np.zeros(len(segment.docs), dtype=np.float64)
        for code in codes:
            for depth, level in enumerate(ipc_levels(code) or (), start=1):
                slots = segment.ipc.get(level)
                if slots is not None:
                    view = slots.view()
                    scores[view] = np.maximum(scores[view], IPC_DEPTH_WEIGHT[depth])
        return scores

    def _semantic(self, segment: _Segment, query: MatchDoc) -> np.ndarray | None:
        if self.encoder is None:
            return None
        (vector,) = self._encode([query])
        assert vector is not None
        dims = len(vector)
        matrix = np.zeros((len(segment.docs), dims), dtype=np.float32)
        for slot, v in enumerate(segment.vectors):
            if v is not None:
                matrix[slot] = v
        return matrix @ vector
