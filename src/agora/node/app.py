"""The node's HTTP app: authentication, refusals, and the role's routes.

Every route but ``GET /v1/node`` (who the node is, for a client to learn
the audience of its tokens) takes ``Authorization: Bearer <token>``
(:mod:`agora.node.auth`). A refusal is JSON ``{"error", "message"}`` with
401 (the token; ``error`` names the rule), 403 (a caller this role does not
serve), 404, 409 or 422; a chain or database failure is a 503. The OpenAPI
document is at ``/openapi.json``.
"""

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from agora.identity.did_ethr import EthrResolver
from agora.identity.resolver import DidResolver
from agora.ledger.errors import LedgerError
from agora.node.auth import Caller, TokenVerifier
from agora.node.config import NodeRole
from agora.node.errors import NodeStateError, RequestRefusedError
from agora.node.runtime import NodeRuntime

logger = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    """A refused request."""

    error: str
    """A stable code: ``expired_token``, ``forbidden``, ``not_found`` …"""
    message: str


class NodeOut(BaseModel):
    """Who a node is."""

    name: str
    role: NodeRole
    did: str
    """The audience a token for this node names."""


REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (401, 403, 404, 409, 422)
}
"""The refusals every authenticated route documents."""

API_DESCRIPTION = """\
Every route but `GET /v1/node` needs `Authorization: Bearer <token>`: a
compact JWS with header `typ` `agora-node+jwt` and `kid` a verification
method of the caller's DID (under `authentication`), signed with that key's
algorithm, and claims `iss` (the caller's DID), `aud` (this node's DID, from
`GET /v1/node`), `iat`, `exp` (at most 300 s after `iat`) and `jti` (16 to
128 characters, accepted once).

Refusals are JSON `{"error", "message"}`: 401 names the token rule broken
(`expired_token`, `replayed_token`, `bad_signature` …), 403 `forbidden`,
404 `not_found`, 409 `conflict`, 422 `invalid_request`, 503 when the chain
or the database fails.
"""

_bearer = HTTPBearer(
    auto_error=False,
    description="A token signed by the caller's DID key (agora.node.auth).",
)

CallerOf = Callable[..., Caller]

DID_RECHECK_S = 5.0
"""How long a resolved did:ethr document is trusted without asking the chain
again: a rotated or deactivated DID's old key is refused at most this late,
as the service runtime's controller cache does."""


def caller_dependency(runtime: NodeRuntime) -> CallerOf:
    """A FastAPI dependency yielding the authenticated :class:`Caller`."""
    registry = runtime.ledger.deployment.did_registry
    ethr = EthrResolver(registry, recheck_after_s=DID_RECHECK_S)
    resolver = DidResolver(ethr=ethr)
    verifier = TokenVerifier(
        runtime.did, resolver=resolver, spent=runtime.database, clock=runtime.clock
    )

    def authenticated(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        header = (
            None
            if credentials is None
            else f"{credentials.scheme} {credentials.credentials}"
        )
        # did:ethr resolution reads the chain, which the lock guards.
        with runtime.lock:
            return verifier.verify(header)

    return authenticated


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message})


def create_node_app(
    runtime: NodeRuntime, role_routes: Callable[[NodeRuntime, CallerOf], APIRouter]
) -> FastAPI:
    """The ASGI app of ``runtime``'s node, serving ``role_routes``."""
    app = FastAPI(
        title=f"Agora {runtime.config.role} node: {runtime.name}",
        description=API_DESCRIPTION,
        version="1",
    )

    @app.exception_handler(RequestRefusedError)
    async def refuse(request: Request, error: RequestRefusedError) -> JSONResponse:
        del request
        logger.info("request refused: %s", error.code)
        return _refusal(error.status, error.code, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        del request
        # The first problem, located; the input itself is not echoed back.
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid')}"
        return _refusal(422, "invalid_request", message)

    @app.exception_handler(HTTPException)
    async def http_refusal(request: Request, error: HTTPException) -> JSONResponse:
        # Starlette's own refusals (no such route, wrong method, a body it
        # cannot decode) in the node's shape.
        del request
        code = _HTTP_CODES.get(error.status_code, "bad_request")
        return _refusal(error.status_code, code, str(error.detail))

    @app.exception_handler(LedgerError)
    async def chain_failed(request: Request, error: LedgerError) -> JSONResponse:
        del request
        logger.warning("chain failure: %s", type(error).__name__)
        return _refusal(503, "upstream_unavailable", "the chain refused or failed")

    @app.exception_handler(NodeStateError)
    async def state_failed(request: Request, error: NodeStateError) -> JSONResponse:
        del request
        return _refusal(503, "upstream_unavailable", str(error))

    @app.get("/v1/node", response_model=NodeOut)
    def node() -> NodeOut:
        """Who this node is: its name, role and DID (no token needed).

        A client reads ``did`` once and names it as the ``aud`` of the
        tokens it mints for this node.
        """
        return NodeOut(name=runtime.name, role=runtime.config.role, did=runtime.did)

    app.include_router(role_routes(runtime, caller_dependency(runtime)))
    return app
