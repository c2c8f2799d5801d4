"""Training job specs: the document a job's ``specCid`` points to.

A spec says what the buyer pays for (task, labels, model, rounds, the
aggregation and contribution rules), so that anyone holding the CID can
check the job was run as posted. Specs and dataset schemas are published
as canonical JSON (sorted keys, no whitespace) in a content-addressed store;
the same spec always has the same CID.
"""

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agora.market.errors import InvalidJobSpecError
from agora.vault.blockstore import BlockStore, Cid

Aggregation = Literal[
    "fedavg", "trimmed-mean", "coordinate-median", "krum", "multi-krum"
]
"""The aggregation rules a spec may name (see ``agora.federated.robust``)."""


class PrivacySpec(BaseModel):
    """Differential privacy every provider applies while training a job.

    Each provider runs DP-SGD (Abadi et al. 2016) on its own rows: every
    step draws a Poisson sample of expected size ``batch_size``, clips each
    example's gradient to ``max_grad_norm`` and adds Gaussian noise whose
    multiplier is chosen so that the whole job, every round and local epoch
    together, stays within (``epsilon``, ``delta``) by the RDP accountant
    (Mironov 2017). The guarantee is per provider: it bounds what the
    published model (and every update the provider sends) reveals about any
    one row of that provider's data.

    ``delta`` is one value for the whole job; it must be below 1/n of every
    dataset that trains (the usual rule, so that the guarantee cannot be met
    by releasing a whole row), which each provider checks before training.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mechanism: Literal["dp-sgd"]
    epsilon: float = Field(gt=0, le=1000)
    """The whole job's epsilon per provider; the on-chain cost of the job."""
    delta: float = Field(gt=0, lt=1)
    max_grad_norm: float = Field(gt=0)
    """The per-example gradient clipping bound (L2)."""
    batch_size: int = Field(ge=1)
    """The expected size of each Poisson-sampled batch (the lot)."""
    accountant: Literal["rdp"] = "rdp"

    @property
    def milli_epsilon(self) -> int:
        """``epsilon`` in thousandths, rounded up, as ``DataMarket`` counts it."""
        return math.ceil(round(self.epsilon * 1000, 6))


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
    aggregation: Aggregation = "fedavg"
    """How each round's accepted updates become the new model; the robust
    rules are those of :mod:`agora.federated.robust`."""
    byzantine: int | None = Field(default=None, ge=0, le=7)
    """Bad updates per round that ``trimmed-mean``, ``krum`` and
    ``multi-krum`` are to tolerate; those rules need it, the others take none."""
    contribution: Literal["shapley-multi-round/val-auc"] = "shapley-multi-round/val-auc"
    seed: int = Field(ge=0)
    purpose: str | None = Field(default=None, min_length=1, max_length=32)
    """The use the data's subjects must have consented to
    (``research:pneumonia-model``); set, the job is consent-scoped: each
    provider trains only on records whose owners' grants cover it and
    declares their Merkle root on chain (:mod:`agora.market.consent`).
    At most 32 bytes of UTF-8, as ``Consent`` stores it."""
    privacy: PrivacySpec | None = None
    """Differential privacy each provider trains with; none when unset (a
    job that every dataset with a finite privacy budget refuses)."""

    @model_validator(mode="after")
    def _providers_in_order(self) -> "TrainingJobSpec":
        if self.min_providers > self.max_providers:
            raise ValueError("min_providers exceeds max_providers")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels repeat")
        if self.purpose is not None and len(self.purpose.encode()) > 32:
            raise ValueError("purpose is over 32 bytes of UTF-8")
        self._check_aggregation()
        return self

    def _check_aggregation(self) -> None:
        tolerant = self.aggregation in ("trimmed-mean", "krum", "multi-krum")
        if tolerant and self.byzantine is None:
            raise ValueError(f"{self.aggregation} needs byzantine")
        if not tolerant and self.byzantine is not None:
            raise ValueError(f"{self.aggregation} takes no byzantine")
        # A round with every provider's update must be able to run the rule
        # at its full tolerance (Yin et al. 2018: n >= 2f + 1 for the trimmed
        # mean; Blanchard et al. 2017: n >= 2f + 3 for Krum).
        needed = {"trimmed-mean": 1, "krum": 3, "multi-krum": 3}.get(
            self.aggregation, 1
        ) + 2 * (self.byzantine or 0)
        if self.min_providers < needed:
            raise ValueError(
                f"{self.aggregation} tolerating {self.byzantine} needs "
                f"min_providers >= {needed}"
            )

    def canonical_json(self) -> bytes:
        """The bytes that are published and addressed by the CID.

        Unset optional fields (``None``) are left out, so a spec that does
        not use an option added later keeps the CID it always had.
        """
        return json.dumps(
            self.model_dump(mode="json", exclude_none=True),
            sort_keys=True,
            separators=(",", ":"),
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


def parse_spec(fields: Mapping[str, Any]) -> TrainingJobSpec:
    """Validate a spec from plain values (a form, CLI flags, a JSON body).

    Raises :class:`InvalidJobSpecError` naming each broken field, e.g.
    ``privacy.epsilon``, and what it must be.
    """
    try:
        return TrainingJobSpec.model_validate(dict(fields))
    except ValidationError as exc:
        raise InvalidJobSpecError(f"invalid job spec ({_problems(exc)})") from exc


def parse_privacy(fields: Mapping[str, Any]) -> PrivacySpec:
    """Validate a spec's ``privacy`` section on its own, e.g. to refuse bad
    options before any work; :class:`InvalidJobSpecError` as for a spec."""
    try:
        return PrivacySpec.model_validate(dict(fields))
    except ValidationError as exc:
        raise InvalidJobSpecError(
            f"invalid privacy options ({_problems(exc, 'privacy')})"
        ) from exc


def _problems(exc: ValidationError, *prefix: str) -> str:
    # Each broken field by its dotted path, e.g. "privacy.epsilon: ...".
    problems = []
    for error in exc.errors():
        path = ".".join([*prefix, *(str(part) for part in error["loc"])])
        problems.append(f"{path or 'spec'}: {error['msg']}")
    return "; ".join(problems)


def load_spec(store: BlockStore, cid: str) -> TrainingJobSpec:
    """Fetch and parse the spec at ``cid`` (verified against the CID)."""
    try:
        return TrainingJobSpec.model_validate_json(store.get(cid))
    except ValidationError as exc:
        raise InvalidJobSpecError(f"spec {cid} is not a valid job spec") from exc
