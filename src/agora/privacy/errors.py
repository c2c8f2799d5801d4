"""Errors raised by :mod:`agora.privacy`."""

from agora.errors import AgoraError


class PrivacyError(AgoraError):
    """Root of every error the privacy package raises."""


class MalformedPsiMessageError(PrivacyError, ValueError):
    """A PSI setup, request or response does not parse as its message type."""


class FilterMismatchError(PrivacyError):
    """A platform's published filter does not hash to the root it anchored,
    or it anchored none."""


class SharingError(PrivacyError, ValueError):
    """Secret sharing was asked for something that would reveal a value
    (fewer than two parties) or cannot be represented (out of range)."""
