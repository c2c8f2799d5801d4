"""Errors of the federated layer."""

from agora.errors import AgoraError


class FederatedError(AgoraError):
    """Root of the federated layer's errors."""


class InvalidUpdateError(FederatedError, ValueError):
    """A provider's model update broke a validation rule.

    ``rule`` names the rule (``missing-arrays``, ``shape-mismatch``,
    ``non-finite``, ``norm-bound``, ``num-examples``, ``wrong-round``,
    ``digest-mismatch``) so that logs, the round
    record and tests can tell the cases apart without parsing the message.
    """

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"update rejected ({rule}): {detail}")
        self.rule = rule
        self.detail = detail


class InclusionProofError(FederatedError, ValueError):
    """An inclusion proof does not lead to the committed Merkle root."""


class ContributionError(FederatedError, ValueError):
    """Contributions cannot be measured or turned into payout weights."""


class PrivacyError(FederatedError, ValueError):
    """Differential privacy cannot be applied as asked (e.g. a ``delta`` not
    below 1/n of the provider's rows, or a budget no noise can meet)."""
