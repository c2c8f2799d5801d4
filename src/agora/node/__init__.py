"""``agora node``: one FastAPI service per organisation.

A node serves one role (:class:`NodeRole`: a patient's wallet, a hospital)
over HTTP with an OpenAPI document. Every request but ``GET /v1/node``
carries a short-lived bearer token signed by the caller's DID key
(:mod:`agora.node.auth`); the role decides who may do what. State lives in
SQLAlchemy models (:mod:`agora.node.db`): SQLite by default, PostgreSQL
by ``AGORA_DB_URL``.
"""

from agora.node.auth import Caller, TokenVerifier, mint_token
from agora.node.client import NodeClient
from agora.node.config import NodeConfig, NodeRole
from agora.node.db import NodeDatabase
from agora.node.errors import (
    AuthRule,
    ForbiddenError,
    NodeConfigError,
    NodeError,
    NodeStateError,
    RequestRefusedError,
    UnauthenticatedError,
)
from agora.node.runtime import NodeRuntime, open_node
from agora.node.server import node_app, serve

__all__ = [
    "AuthRule",
    "Caller",
    "ForbiddenError",
    "NodeClient",
    "NodeConfig",
    "NodeConfigError",
    "NodeDatabase",
    "NodeError",
    "NodeRole",
    "NodeRuntime",
    "NodeStateError",
    "RequestRefusedError",
    "TokenVerifier",
    "UnauthenticatedError",
    "mint_token",
    "node_app",
    "open_node",
    "serve",
]
