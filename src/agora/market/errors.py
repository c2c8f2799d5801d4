"""Errors of the market layer."""

from agora.errors import AgoraError


class MarketError(AgoraError):
    """Root of the market layer's errors."""


class InvalidJobSpecError(MarketError, ValueError):
    """A training job spec is malformed or self-contradictory."""


class JobFailedError(MarketError):
    """A job could not be carried through; the message says at which step."""


class NothingConsentedError(MarketError):
    """No record a provider holds is covered by its owners' consent for the
    job's purpose: there is nothing it may train on."""


class NotIncludedError(MarketError, LookupError):
    """A record is not in a provider's inclusion set (its owner's consent
    did not cover the job), so no inclusion proof exists for it."""


class MissingInclusionError(MarketError):
    """A provider of a consent-scoped job declared no inclusion on chain."""
