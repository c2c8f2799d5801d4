"""Errors of the service runtime, each with the HTTP status it answers with."""

from agora.market.errors import MarketError


class ServiceCallError(MarketError):
    """A call refused; ``status`` is the HTTP status the runtime answers."""

    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class UnauthenticatedCallError(ServiceCallError):
    """Missing, malformed, stale, replayed or wrongly signed request."""

    status = 401


class PaymentRequiredError(ServiceCallError):
    """The deposit would run out, or the last receipt is not signed yet."""

    status = 402


class BadReceiptError(ServiceCallError):
    """A receipt signature that is not the consumer's for the served count."""

    status = 409


class UnusableInputError(ServiceCallError):
    """The call's input is not what the service takes (not an image …)."""

    status = 422


class ConsentRequiredError(ServiceCallError):
    """No active consent grant from the data's owner covers the call."""

    status = 403


class UnknownSubjectError(ServiceCallError):
    """The input names someone or something the service does not hold."""

    status = 404


class UnknownServiceError(ServiceCallError):
    """No such service is listed, or it was delisted."""

    status = 404
