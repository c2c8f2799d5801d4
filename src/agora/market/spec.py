"""Training job specs: the document a job's ``specCid`` points to.

A spec says what the buyer pays for (task, labels, model, rounds, the
aggregation and contribution rules), so that anyone holding the CID can
check the job was run as posted. Specs and dataset schemas are published
as canonical JSON (sorted keys, no whitespace) in a content-addressed store;
the same spec always has the same CID.
"""

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agora.market.errors import InvalidJobSpecError
from agora.vault.blockstore import BlockStore, Cid


class TrainingJobSpec(BaseModel):
    """What a federated training job trains, and by which rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    task: str = Field(min_length=1, max_length=64)
    modality: str = Field(min_length=1, max_length=64)
    labels: tuple[str, ...] = Field(min_length=2)
    model: str = Field(min_length=1, max_length=64)
    rounds: int = Field(ge=1, le=200)
    local_epochs: int = Field(ge=1, le=50)
    min_samples: int = Field(ge=1)
    min_providers: int = Field(ge=1, le=16)
    max_providers: int = Field(ge=1, le=16)
    max_update_norm: float = Field(gt=0)
    aggregation: Literal["fedavg"] = "fedavg"
    contribution: Literal["shapley-multi-round/val-auc"] = "shapley-multi-round/val-auc"
    seed: int = Field(ge=0)

    @model_validator(mode="after")
    def _providers_in_order(self) -> "TrainingJobSpec":
        if self.min_providers > self.max_providers:
            raise ValueError("min_providers exceeds max_providers")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels repeat")
        return self

    def canonical_json(self) -> bytes:
        """The bytes that are published and addressed by the CID."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        ).encode()


class DatasetSchema(BaseModel):
    """The public description of a dataset offer (never the data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    modality: str = Field(min_length=1, max_length=64)
    labels: tuple[str, ...] = Field(min_length=1)
    shape: tuple[int, ...]
    dtype: str
    samples: int = Field(ge=1)
    label_counts: dict[str, int]

    def canonical_json(self) -> bytes:
        """The bytes that are published and addressed by the CID."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        ).encode()


def publish(store: BlockStore, document: TrainingJobSpec | DatasetSchema) -> Cid:
    """Publish a spec or schema; return its CID."""
    return store.put(document.canonical_json())


def load_spec(store: BlockStore, cid: str) -> TrainingJobSpec:
    """Fetch and parse the spec at ``cid`` (verified against the CID)."""
    try:
        return TrainingJobSpec.model_validate_json(store.get(cid))
    except ValidationError as exc:
        raise InvalidJobSpecError(f"spec {cid} is not a valid job spec") from exc
