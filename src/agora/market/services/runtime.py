"""The HTTP runtime of a listed service (FastAPI; OpenAPI at /openapi.json).

``POST /v1/call`` takes the service's input as the body, signed by the
caller (:mod:`agora.market.services.auth`) and, from the second call on,
with ``X-Agora-Receipt-Signature``: the caller's signature of the receipt
the previous answer carried (:mod:`agora.market.services.metering`). The
answer holds the service's output, the receipt for the new count, and how
long authentication, metering and inference took. Refusals are JSON
``{"error", "message"}`` with 401 (unsigned, stale, replayed or wrongly
signed), 402 (deposit would run out, last receipt unsigned), 403 (the
service's own refusal: no consent), 409 (a receipt signature that is not the
caller's), 404 (service not listed, or what the input names unknown) or 422
(input the service cannot use). A refused call is not counted.
``GET /v1/info`` describes the service.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from eth_typing import ChecksumAddress
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from agora.identity.did_ethr import ethr_did
from agora.identity.document import Did
from agora.market.services.auth import CallAuthenticator
from agora.market.services.errors import BadReceiptError, ServiceCallError
from agora.market.services.metering import Meter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """Who a call is from: the authenticated consumer's address and its
    ``did:ethr`` on this chain, as grants name their grantees."""

    address: ChecksumAddress
    did: Did


class ServiceHandler(Protocol):
    """What a service does with one call's input."""

    name: str
    description: str
    accepts: tuple[str, ...]
    """Content types of the inputs it takes."""

    def answer(
        self, body: bytes, content_type: str, *, caller: Caller
    ) -> dict[str, Any]:
        """The output for ``body``; raises a :class:`ServiceCallError`
        (:class:`UnusableInputError`, …)."""
        ...


class ReceiptOut(BaseModel):
    service: int
    consumer: str
    calls: int
    nonce: int


class CallOut(BaseModel):
    answer: dict[str, Any]
    receipt: ReceiptOut
    timing_ms: dict[str, float]


class InfoOut(BaseModel):
    service: int
    name: str
    description: str
    model_cid: str
    price_per_call: str
    accepts: list[str]


class ErrorOut(BaseModel):
    error: str
    message: str


def create_service_app(
    handler: ServiceHandler,
    *,
    authenticator: CallAuthenticator,
    meter: Meter,
    model_cid: str,
) -> FastAPI:
    """The ASGI app serving ``handler`` as service ``meter.service_id``."""
    app = FastAPI(
        title=f"Agora service: {handler.name}",
        description=handler.description,
        version="1",
    )
    refusals: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorOut} for status in (401, 402, 403, 404, 409, 422)
    }

    @app.exception_handler(ServiceCallError)
    async def refuse(request: Request, error: ServiceCallError) -> JSONResponse:
        del request
        logger.info("call refused: %s", type(error).__name__)
        return JSONResponse(
            status_code=error.status,
            content={"error": type(error).__name__, "message": error.message},
        )

    @app.get("/v1/info", response_model=InfoOut)
    def info() -> InfoOut:
        """The service, its model and its price (smallest Token unit)."""
        return InfoOut(
            service=meter.service_id,
            name=handler.name,
            description=handler.description,
            model_cid=model_cid,
            price_per_call=str(meter.price),
            accepts=list(handler.accepts),
        )

    @app.post("/v1/call", response_model=CallOut, responses=refusals)
    async def call(
        request: Request,
        x_agora_did: str | None = Header(default=None),
        x_agora_nonce: str | None = Header(default=None),
        x_agora_issued_at: str | None = Header(default=None),
        x_agora_signature: str | None = Header(default=None),
        x_agora_receipt_signature: str | None = Header(default=None),
    ) -> CallOut:
        """Answer one call, metered against the caller's deposit."""
        body = await request.body()
        started = time.perf_counter()
        consumer = authenticator.authenticate(
            did=x_agora_did,
            nonce=x_agora_nonce,
            issued_at=x_agora_issued_at,
            signature=x_agora_signature,
            body=body,
        )
        authenticated = time.perf_counter()
        if x_agora_receipt_signature:
            try:
                signature = bytes.fromhex(x_agora_receipt_signature.removeprefix("0x"))
            except ValueError:
                raise BadReceiptError("X-Agora-Receipt-Signature is not hex") from None
            meter.acknowledge(consumer, signature)
        meter.admit(consumer)
        metered = time.perf_counter()

        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        try:
            caller = Caller(consumer, ethr_did(authenticator.chain_id, consumer))
            answer = handler.answer(body, content_type, caller=caller)
        except BaseException:
            meter.release(consumer)
            raise
        answered = time.perf_counter()
        receipt = meter.receipt(consumer)
        done = time.perf_counter()
        return CallOut(
            answer=answer,
            receipt=ReceiptOut(
                service=receipt.service,
                consumer=receipt.consumer,
                calls=receipt.calls,
                nonce=receipt.nonce,
            ),
            timing_ms={
                "auth": (authenticated - started) * 1000,
                "metering": (metered - authenticated + done - answered) * 1000,
                "inference": (answered - metered) * 1000,
            },
        )

    return app
