"""Chinese-aware full-text search.

Text is segmented into words with jieba before it is indexed: the search mode (``cut_for_search``)
also emits the shorter words inside long ones, so ``电池`` is a word of ``固态锂电池制备方法``.
Queries are segmented in the precise mode and every query word must match.

- PostgreSQL: ``listings.search_vector`` is a generated ``tsvector`` (``simple`` configuration:
  no stemming, the words as jieba cut them) over the segmented title (weight A) and body (B),
  with a GIN index; relevance is ``ts_rank``.
- SQLite: an FTS5 table ``listing_search`` (rowid = listing number) kept in step by triggers;
  relevance is ``bm25`` with the title weighted ten times the body.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)
_ready = threading.Lock()
_initialised = False
MAX_QUERY_WORDS = 12


def warm_up() -> None:
    """Load jieba's dictionary once (about a second); call at start-up so no request waits for it."""
    global _initialised
    if _initialised:
        return
    with _ready:
        if not _initialised:
            jieba.initialize()
            _initialised = True


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _clean(token: str) -> str:
    return "".join(ch for ch in token if ch.isalnum())


def index_words(*parts: str) -> str:
    """Space-separated words of ``parts`` for the index (search mode: long words and their sub-words)."""
    warm_up()
    words: list[str] = []
    for part in parts:
        if part:
            words.extend(_clean(t) for t in jieba.cut_for_search(_normalise(part)) if _is_word(t))
    return " ".join(w for w in words if w)


def query_words(query: str) -> list[str]:
    """The distinct words of a search query (precise mode), at most ``MAX_QUERY_WORDS``."""
    warm_up()
    seen: dict[str, None] = {}
    for token in jieba.cut(_normalise(query)):
        word = _clean(token)
        if word:
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_WORDS]


def fts5_query(words: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every word (each quoted, so no word is an operator)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)
