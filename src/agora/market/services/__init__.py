"""AI services sold per call: authentication, metering, the HTTP runtime.

See :mod:`agora.market.services.runtime` for the protocol a caller follows.
"""

from agora.market.services.auth import CallAuthenticator, SignedCall, sign_call
from agora.market.services.errors import (
    BadReceiptError,
    ConsentRequiredError,
    PaymentRequiredError,
    ServiceCallError,
    UnauthenticatedCallError,
    UnknownServiceError,
    UnknownSubjectError,
    UnusableInputError,
)
from agora.market.services.metering import Meter
from agora.market.services.runtime import Caller, ServiceHandler, create_service_app

__all__ = [
    "BadReceiptError",
    "CallAuthenticator",
    "Caller",
    "ConsentRequiredError",
    "Meter",
    "PaymentRequiredError",
    "ServiceCallError",
    "ServiceHandler",
    "SignedCall",
    "UnauthenticatedCallError",
    "UnknownServiceError",
    "UnknownSubjectError",
    "UnusableInputError",
    "create_service_app",
    "sign_call",
]
