"""Errors of the market layer."""

from agora.errors import AgoraError


class MarketError(AgoraError):
    """Root of the market layer's errors."""


class InvalidJobSpecError(MarketError, ValueError):
    """A training job spec is malformed or self-contradictory."""


class JobFailedError(MarketError):
    """A job could not be carried through; the message says at which step."""
