"""Chinese-aware text analysis, shared by the library search and matching (exchange/matching).

**The analyzer.** Text is normalised (NFKC, lower case) and segmented into words by a jieba
tokenizer of our own that also knows the **domain dictionary** (``domain_terms.txt`` beside this
file: technical terms of the eight fields, loaded once), so ``储氢合金`` or ``钠离子电池`` stay whole.
**CJK character n-grams** (unigrams and bigrams of each run of Chinese characters) are added so
that short and rare words match even where the segmentation cut differently: ``氢`` is a
character of ``储氢合金``, ``储氢`` one of its bigrams.

**The library search.** The search mode (``cut_for_search``) also emits the shorter words inside
long ones, so ``电池`` is a word of ``固态锂电池制备方法``; the index words are those plus the
character unigrams and bigrams. Queries are segmented in the precise mode and every query word
must match (so a one-character query matches the listings holding that character).

- PostgreSQL: ``listings.search_vector`` is a generated ``tsvector`` (``simple`` configuration:
  no stemming, the words as jieba cut them) over the segmented title (weight A) and body (B),
  with a GIN index; relevance is ``ts_rank``.
- SQLite: an FTS5 table ``listing_search`` (rowid = listing number) kept in step by triggers;
  relevance is ``bm25`` with the title weighted ten times the body.

Both index ``listings.search_title`` / ``search_body``, which the service writes with
``index_words``; a change of the analyzer is a migration that rewrites them (0029_matching).

**Matching** (``match_tokens``) uses the precise-mode words (stop words dropped), a synonym's
canonical term from the dictionary (``锂电池`` counts as ``锂离子电池``), and character bigrams
marked with a leading ``~`` so that they never collide with a word.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)
_ready = threading.Lock()
_initialised = False
_tokenizer = jieba.Tokenizer()
MAX_QUERY_WORDS = 12
DICTIONARY = Path(__file__).with_name("domain_terms.txt")
CONCEPTS = Path(__file__).with_name("domain_concepts.txt")
NGRAM = "~"  # the mark of a character bigram among matching tokens
_synonyms: dict[str, str] = {}  # a synonym (normalised, cleaned) → its canonical term
_terms: list[str] = []
_concepts: list[tuple[tuple[str, ...], tuple[str, ...]]] = []  # (plain-word triggers, technical terms)

# Words too common in technical Chinese to say anything about a match (matching only; the library
# search keeps every word a user may type).
_STOP = (
    "的 了 和 与 及 或 等 在 对 为 以 将 把 被 由 其 该 本 一种 一个 所述 通过 采用 用于 进行 实现 具有 可以 "
    "能够 提供 包括 以及 基于 相关 方面 问题 需要 要求 希望 寻求 我们 公司 企业 技术 方法 系统 装置 "
    "产品 应用 研究 开发 提高 提升 降低 解决 目前 现有 一 二 三 中 上 下 后 是 有 无 不 也 并 可 "
    "能 要 达到 以上 以下 左右 万元 元 个 种 项 年"
)
STOP_WORDS = frozenset(_STOP.split())


def _read_dictionary() -> None:
    for raw in DICTIONARY.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        names = line.split()
        canonical = _clean(_normalise(names[0]))
        for name in names:
            term = _normalise(name)
            _tokenizer.add_word(term, freq=20_000)
            _terms.append(term)
            if _clean(term) != canonical:
                _synonyms[_clean(term)] = canonical


def _read_concepts() -> None:
    for raw in CONCEPTS.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=>" not in line:
            continue
        triggers, terms = line.split("=>", 1)
        _concepts.append((tuple(_normalise(t) for t in triggers.split()), tuple(_normalise(t) for t in terms.split())))


def warm_up() -> None:
    """Load jieba's and the domain dictionary once (about a second); call at start-up so no
    request waits for it."""
    global _initialised
    if _initialised:
        return
    with _ready:
        if not _initialised:
            _tokenizer.initialize()
            _read_dictionary()
            _read_concepts()
            _initialised = True


def domain_terms() -> list[str]:
    """The terms of the domain dictionary (normalised), synonyms included."""
    warm_up()
    return list(_terms)


def canonical(word: str) -> str:
    """The canonical term of a synonym in the domain dictionary, or the word itself."""
    warm_up()
    return _synonyms.get(word, word)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _clean(token: str) -> str:
    return "".join(ch for ch in token if ch.isalnum())


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def cjk_ngrams(text: str, sizes: Iterable[int] = (1, 2)) -> list[str]:
    """The character n-grams of every run of Chinese characters in ``text``, for each size."""
    runs: list[str] = []
    current: list[str] = []
    for ch in _normalise(text):
        if is_cjk(ch):
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    grams: list[str] = []
    for size in sizes:
        for run in runs:
            grams.extend(run[i : i + size] for i in range(len(run) - size + 1))
    return grams


def index_words(*parts: str) -> str:
    """Space-separated words of ``parts`` for the index: the search-mode words (long words and
    their sub-words), then the character unigrams and bigrams."""
    warm_up()
    words: list[str] = []
    for part in parts:
        if part:
            text = _normalise(part)
            words.extend(_clean(t) for t in _tokenizer.cut_for_search(text) if _is_word(t))
            words.extend(cjk_ngrams(text))
    return " ".join(w for w in words if w)


def listing_index_texts(
    title: str,
    keywords: Iterable[str],
    summary: str,
    field_label: str,
    assets: Iterable[tuple[str, str]],
    inventors: Iterable[str],
    seller: str,
) -> tuple[str, str]:
    """``listings.search_title`` and ``search_body`` of a listing: its title and keywords; the rest
    (summary, field label, IP assets' titles and numbers, inventors, seller)."""
    return (
        index_words(title, " ".join(keywords)),
        index_words(summary, field_label, " ".join(f"{t} {n}" for t, n in assets), " ".join(inventors), seller),
    )


def query_words(query: str) -> list[str]:
    """The distinct words of a search query (precise mode), at most ``MAX_QUERY_WORDS``."""
    warm_up()
    seen: dict[str, None] = {}
    for token in _tokenizer.cut(_normalise(query)):
        word = _clean(token)
        if word:
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_WORDS]


def fts5_query(words: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every word (each quoted, so no word is an operator)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def words(text: str) -> list[str]:
    """The precise-mode words of ``text`` (normalised, cleaned), stop words dropped."""
    warm_up()
    out: list[str] = []
    for token in _tokenizer.cut(_normalise(text)):
        word = _clean(token)
        if word and word not in STOP_WORDS and not (len(word) == 1 and not is_cjk(word)):
            out.append(word)
    return out


@lru_cache(maxsize=65_536)
def _match_tokens(text: str) -> tuple[str, ...]:
    tokens: list[str] = []
    short = len(text) <= 2  # a one-character keyword (氢) is a word; inside a sentence, noise
    for word in words(text):
        if len(word) == 1 and not short:
            continue
        tokens.append(word)
        term = _synonyms.get(word)
        if term is not None:
            tokens.append(term)
    tokens.extend(NGRAM + g for g in cjk_ngrams(text, (2,)) if not (g[0] in STOP_WORDS or g[1] in STOP_WORDS))
    return tuple(tokens)


def match_tokens(text: str) -> tuple[str, ...]:
    """The tokens matching scores ``text`` by: its words, the canonical term of each synonym,
    and its character bigrams (``~`` + bigram; those with a one-character stop word dropped).
    Cached: the same text is analysed once."""
    warm_up()
    return _match_tokens(text)


def concepts() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The concepts of ``domain_concepts.txt``: (plain-word triggers, technical terms)."""
    warm_up()
    return list(_concepts)


def expansion_terms(
    text: str, concepts_: Iterable[tuple[tuple[str, ...], tuple[str, ...]]] | None = None
) -> tuple[str, ...]:
    """The technical terms a text's plain words call up (``domain_concepts.txt``): for each concept
    one of whose triggers occurs in the text, the matching words of its terms (canonical forms),
    once each. Matching adds them to a query at a lower weight; ``concepts_`` replaces the file's
    (for measuring what a subset of concepts does)."""
    warm_up()
    if concepts_ is None:
        return _expansion_terms(_normalise(text))
    normalised = _normalise(text)
    return _expand(normalised, concepts_)


def _expand(text: str, concepts_: Iterable[tuple[tuple[str, ...], tuple[str, ...]]]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for triggers, terms in concepts_:
        if any(t in text for t in triggers):
            for term in terms:
                for word in words(term):
                    out.setdefault(_synonyms.get(word, word), None)
    return tuple(out)


@lru_cache(maxsize=65_536)
def _expansion_terms(text: str) -> tuple[str, ...]:
    return _expand(text, _concepts)
