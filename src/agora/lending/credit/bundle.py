"""The trained credit model as one published artefact: weights and scaling.

A model's arrays alone cannot score a credit file: the numeric features
must be standardised with the mean and scale the model was trained with
(:func:`~agora.lending.credit.features.fit_encoder`). :class:`CreditModel`
keeps both, and :meth:`CreditModel.to_bytes` writes them as one ``.npz``
block: the state arrays under ``state/<name>``, the encoder under
``encoder/mean`` and ``encoder/scale``, and a JSON ``meta`` string naming
the format and the hidden layer widths. Reading never unpickles: the block
comes from a peer, by CID.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

import numpy as np

from agora.errors import DataError
from agora.federated.arrays import Arrays
from agora.lending.credit.data import CreditTable
from agora.lending.credit.features import CreditEncoder
from agora.lending.credit.model import (
    CreditNet,
    CreditTrainConfig,
    build_model,
    load_state_arrays,
    predict_proba,
)
from agora.vault.blockstore import BlockStore

FORMAT = "agora-credit-model/1"
MAX_LAYERS = 8
MAX_WIDTH = 4096


@dataclass(frozen=True)
class CreditModel:
    """A credit model's weights with the standardisation it was trained on."""

    arrays: Arrays
    encoder: CreditEncoder
    hidden: tuple[int, ...] = CreditTrainConfig().hidden

    def network(self) -> CreditNet:
        """The model, weights loaded, in evaluation mode; raises
        :class:`~agora.errors.DataError` when the arrays do not fit."""
        config = CreditTrainConfig(hidden=self.hidden)
        model = build_model(self.encoder.width, config=config)
        load_state_arrays(model, self.arrays)
        return model.eval()

    def score(self, table: CreditTable) -> np.ndarray:
        """Default probability of every row of ``table``, float64 ``(N,)``."""
        return predict_proba(self.network(), self.encoder.encode(table))

    def to_bytes(self) -> bytes:
        """The ``.npz`` artefact (see the module)."""
        meta = {"format": FORMAT, "hidden": list(self.hidden)}
        arrays: dict[str, np.ndarray] = {
            f"state/{name}": np.asarray(array) for name, array in self.arrays.items()
        }
        arrays["encoder/mean"] = np.asarray(self.encoder.mean, np.float64)
        arrays["encoder/scale"] = np.asarray(self.encoder.scale, np.float64)
        arrays["meta"] = np.array(json.dumps(meta))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CreditModel:
        """Read an artefact of :meth:`to_bytes`; raises
        :class:`~agora.errors.DataError` on anything else."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                loaded = {name: npz[name] for name in npz.files}
            meta = json.loads(str(loaded.pop("meta")))
            hidden = tuple(int(width) for width in meta["hidden"])
            mean = loaded.pop("encoder/mean").astype(np.float64)
            scale = loaded.pop("encoder/scale").astype(np.float64)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise DataError(f"not a credit model artefact ({exc})") from exc
        if meta.get("format") != FORMAT:
            raise DataError(f"credit model format {meta.get('format')!r}, not {FORMAT}")
        # The widths size the network built before the arrays are checked
        # against it: a peer's block must not make us allocate gigabytes.
        if not 1 <= len(hidden) <= MAX_LAYERS or not all(
            1 <= width <= MAX_WIDTH for width in hidden
        ):
            raise DataError("credit model hidden layer widths are out of range")
        if mean.shape != scale.shape or mean.ndim != 1 or not (scale > 0).all():
            raise DataError("credit model standardisation is malformed")
        arrays = {
            name.removeprefix("state/"): array
            for name, array in loaded.items()
            if name.startswith("state/")
        }
        model = cls(arrays, CreditEncoder(mean=mean, scale=scale), hidden)
        model.network()  # the arrays must fit the architecture
        return model

    def publish(self, store: BlockStore) -> str:
        """Store the artefact as one block; return its CID."""
        return str(store.put(self.to_bytes()))

    @classmethod
    def fetch(cls, store: BlockStore, cid: str) -> CreditModel:
        """The artefact under ``cid``, verified against it and read."""
        return cls.from_bytes(store.get(cid))
