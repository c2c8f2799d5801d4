"""Errors raised by :mod:`agora.identity`.

``cryptography`` and ``multiformats`` exceptions are translated into these
once, where keys and identifiers are parsed, always ``from`` the original.
"""

from agora.errors import AgoraError


class IdentityError(AgoraError):
    """Root of every error the identity layer raises."""


class InvalidKeyError(IdentityError, ValueError):
    """Key material is malformed, of an unsupported type, or not on its curve."""


class InvalidSignatureError(IdentityError):
    """A signature does not verify under the given public key."""


class InvalidDidError(IdentityError, ValueError):
    """A DID string breaks a rule of its method's syntax.

    ``rule`` names the rule (``"method"``, ``"multibase"``, ``"multicodec"``,
    ``"key-length"``, ``"point"``, …) so that callers and tests can tell
    the failures apart without parsing the message.
    """

    def __init__(self, rule: str, detail: str) -> None:
        self.rule = rule
        super().__init__(f"{rule}: {detail}")


class DidResolutionError(IdentityError):
    """A well-formed DID could not be resolved (e.g. the registry is down)."""
