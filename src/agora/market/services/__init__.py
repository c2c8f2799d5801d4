"""AI services sold per call: authentication, metering, the HTTP runtime.

See :mod:`agora.market.services.runtime` for the protocol a caller follows.
"""

from agora.market.services.auth import CallAuthenticator, SignedCall, sign_call
from agora.market.services.errors import (
    BadReceiptError,
    PaymentRequiredError,
    ServiceCallError,
    UnauthenticatedCallError,
    UnknownServiceError,
    UnusableInputError,
)
from agora.market.services.metering import Meter
from agora.market.services.runtime import ServiceHandler, create_service_app

__all__ = [
    "BadReceiptError",
    "CallAuthenticator",
    "Meter",
    "PaymentRequiredError",
    "ServiceCallError",
    "ServiceHandler",
    "SignedCall",
    "UnauthenticatedCallError",
    "UnknownServiceError",
    "UnusableInputError",
    "create_service_app",
    "sign_call",
]
