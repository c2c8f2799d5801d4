"""Joint lending risk control: loan applications with verifiable credentials.

See :mod:`agora.lending.application` for the flow and
:mod:`agora.lending.walkthrough` for it run end to end on the embedded ledger;
:mod:`agora.lending.risk` for the joint checks between platforms,
:mod:`agora.lending.credit` and :mod:`agora.lending.credit_job` for the credit
model they train together, and :mod:`agora.lending.demo` for all of it at once.
"""

from agora.lending.application import (
    DEFAULT_ASKS,
    ApplicationRequest,
    CredentialAsk,
    LendingPlatform,
    LoanApplication,
    VerifiedApplication,
    apply_for_loan,
    choose_credential,
)
from agora.lending.errors import (
    ApplicationRejectedError,
    LendingError,
    NoMatchingCredentialError,
)

__all__ = [
    "DEFAULT_ASKS",
    "ApplicationRejectedError",
    "ApplicationRequest",
    "CredentialAsk",
    "LendingError",
    "LendingPlatform",
    "LoanApplication",
    "NoMatchingCredentialError",
    "VerifiedApplication",
    "apply_for_loan",
    "choose_credential",
]
