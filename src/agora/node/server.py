"""Building a node's app for its role, and serving it with uvicorn."""

import logging
import signal
from collections.abc import Callable
from types import FrameType

import uvicorn
from fastapi import APIRouter, FastAPI

from agora.node.app import CallerOf, create_node_app
from agora.node.config import NodeRole
from agora.node.hospital import hospital_routes
from agora.node.patient import patient_routes
from agora.node.runtime import NodeRuntime

logger = logging.getLogger(__name__)

ROLE_ROUTES: dict[NodeRole, Callable[[NodeRuntime, CallerOf], APIRouter]] = {
    NodeRole.PATIENT: patient_routes,
    NodeRole.HOSPITAL: hospital_routes,
}


def node_app(runtime: NodeRuntime) -> FastAPI:
    """The app of ``runtime``'s node, with the routes of its role."""
    return create_node_app(runtime, ROLE_ROUTES[runtime.config.role])


def _stop(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise SystemExit(0)


def serve(runtime: NodeRuntime, *, host: str, port: int) -> None:
    """Serve the node until SIGTERM or SIGINT, then close its database and
    chain and return.

    uvicorn finishes in-flight requests on either signal and then raises
    the signal again under the handler it found; the handler installed here
    turns that into a normal exit, so ``runtime`` is closed and the process
    exits with 0.
    """
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        config = uvicorn.Config(
            node_app(runtime),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan="off",
        )
        server = uvicorn.Server(config)
        logger.info("node %s serving on %s:%d", runtime.name, host, port)
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        runtime.close()
        logger.info("node %s stopped", runtime.name)
