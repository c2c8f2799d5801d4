"""What :func:`agora.market.audit.audit_job` re-derived, and every mismatch."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mismatch:
    """One thing the artifacts or the chain say that the audit does not."""

    check: str
    detail: str
    server_round: int | None = None
    provider: str | None = None

    def __str__(self) -> str:
        where = [f"round {self.server_round}"] if self.server_round else []
        where += [f"provider {self.provider}"] if self.provider else []
        return f"{', '.join(where) or 'job'}: {self.check}: {self.detail}"


@dataclass(frozen=True)
class RoundAudit:
    """One round as re-derived."""

    server_round: int
    accepted: list[str]
    rejected: list[tuple[str, str]]
    dropped: list[str]
    aggregation: str
    updates_root: str
    aggregate_hash: str


@dataclass(frozen=True)
class ProviderAudit:
    """One provider's re-derived contribution and pay beside the chain's."""

    index: int
    address: str
    shapley: float | None
    weight_bps: int | None
    payout_derived: int | None
    payout_on_chain: int


@dataclass
class JobAuditReport:
    """Everything :func:`audit_job` re-derived, and every mismatch."""

    job_id: int
    manifest_cid: str
    spec_cid: str
    reward: int
    rounds: list[RoundAudit] = field(default_factory=list)
    providers: list[ProviderAudit] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    utilities_recomputed: bool = False

    @property
    def ok(self) -> bool:
        """Whether everything re-derived matched."""
        return not self.mismatches

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object (what ``agora audit job --json`` prints)."""
        return {
            "job_id": self.job_id,
            "ok": self.ok,
            "manifest_cid": self.manifest_cid,
            "spec_cid": self.spec_cid,
            "reward": str(self.reward),
            "utilities_recomputed": self.utilities_recomputed,
            "rounds": [vars(r) for r in self.rounds],
            "providers": [
                {
                    **vars(p),
                    "payout_derived": None
                    if p.payout_derived is None
                    else str(p.payout_derived),
                    "payout_on_chain": str(p.payout_on_chain),
                }
                for p in self.providers
            ],
            "mismatches": [{**vars(m), "message": str(m)} for m in self.mismatches],
        }
