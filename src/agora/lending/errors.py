"""Errors raised by :mod:`agora.lending`."""

from agora.errors import AgoraError


class LendingError(AgoraError):
    """Root of every error the lending package raises."""


class ApplicationRejectedError(LendingError):
    """A loan application failed verification.

    ``credential_type`` is the ``vct`` whose presentation failed (``*`` for
    a check across them) and ``rule`` the verifier's rule code; neither the
    message nor the attributes quote a claim value.
    """

    def __init__(self, credential_type: str, rule: str, detail: str) -> None:
        self.credential_type = credential_type
        self.rule = rule
        self.detail = detail
        super().__init__(f"{credential_type}: {rule}: {detail}")


class NoMatchingCredentialError(LendingError, LookupError):
    """The borrower's wallet cannot answer an ask."""


class ConsentError(LendingError):
    """A risk check's consent failed verification: missing, expired,
    reused, or bound to another platform or nonce. ``rule`` is the
    verifier's rule code; no check runs without valid consent."""

    def __init__(self, rule: str, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"consent refused: {rule}: {detail}")
