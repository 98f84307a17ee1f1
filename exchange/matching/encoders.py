"""A local sentence-embedding model as a matching encoder (optional, off by default).

No model ships with the exchange. Given a path to a model directory (for example a Chinese
bge-small downloaded by the operator), ``load_sentence_encoder`` wraps it with the optional
``sentence-transformers`` package; without the package it fails with a clear message.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class EncoderUnavailable(RuntimeError):
    """The configured encoder cannot be loaded (missing package or model)."""


class SentenceEncoder:
    """``domain.Encoder`` over a sentence-transformers model."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(list(texts), normalize_embeddings=True)
        return [list(map(float, v)) for v in vectors]


def load_sentence_encoder(path: str | Path) -> SentenceEncoder:
    """The local model at ``path`` as an encoder."""
    model_dir = Path(path)
    if not model_dir.is_dir():
        raise EncoderUnavailable(f"no sentence-embedding model at {model_dir}")
    try:
        module = importlib.import_module("sentence_transformers")
    except ImportError as error:
        raise EncoderUnavailable(
            "the semantic encoder needs the optional package sentence-transformers (pip install sentence-transformers)"
        ) from error
    return SentenceEncoder(module.SentenceTransformer(str(model_dir), device="cpu"))
