"""Errors of :mod:`agora.node`, each refusal with the HTTP status it answers.

A refused request answers JSON ``{"error": <code>, "message": <text>}``;
the code is stable (clients and tests switch on it), the message is for
people. Messages never carry a token, a key or a payload.
"""

from enum import StrEnum

from agora.errors import AgoraError, ConfigurationError


class NodeError(AgoraError):
    """Root of every error the node raises."""


class NodeConfigError(NodeError, ConfigurationError):
    """The node's configuration file or settings are missing or invalid."""


class NodeStateError(NodeError):
    """The node's database refused or failed an operation."""


class RequestRefusedError(NodeError):
    """A request the node refuses; ``status`` and ``code`` go on the wire."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class AuthRule(StrEnum):
    """Why a bearer token was refused: the ``error`` code of the 401."""

    MISSING = "missing_token"
    MALFORMED = "malformed_token"
    WRONG_TYPE = "wrong_token_type"
    KEY_NOT_ISSUER = "key_not_of_issuer"
    UNKNOWN_DID = "unknown_did"
    ALGORITHM = "algorithm_mismatch"
    SIGNATURE = "bad_signature"
    AUDIENCE = "wrong_audience"
    EXPIRED = "expired_token"
    NOT_YET_VALID = "token_not_yet_valid"
    LIFETIME = "lifetime_too_long"
    REPLAYED = "replayed_token"


class UnauthenticatedError(RequestRefusedError):
    """A missing, malformed, expired, replayed or wrongly signed token."""

    status = 401

    def __init__(self, rule: AuthRule, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.code = rule.value


class ForbiddenError(RequestRefusedError):
    """An authenticated caller whose DID may not do this on this node."""

    status = 403
    code = "forbidden"


class UnknownResourceError(RequestRefusedError, LookupError):
    """What the request names does not exist here (a grant, a dataset)."""

    status = 404
    code = "not_found"


class ConflictError(RequestRefusedError):
    """The request contradicts the state (a grant revoked already)."""

    status = 409
    code = "conflict"


class InvalidRequestError(RequestRefusedError, ValueError):
    """A well-formed request with a value the node cannot act on."""

    status = 422
    code = "invalid_request"


class UpstreamError(RequestRefusedError):
    """The chain or the blockstore behind the node failed."""

    status = 503
    code = "upstream_unavailable"
