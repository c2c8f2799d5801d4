"""Schemathesis over each node's OpenAPI document: whatever a client
sends, signed by the right person, the node answers below 500.

Kept small (a few dozen examples per operation, well under 30 s in all);
the grants it gives and offers it registers are real transactions on the
tests' chain.
"""

import time
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from agora.node.config import NodeRole
from agora.node.db import sqlite_url
from agora.node.runtime import NodeRuntime
from agora.node.server import node_app

from .conftest import Cast, make_runtime
from .support import Person

EXAMPLES = 12


@pytest.fixture(params=[NodeRole.PATIENT, NodeRole.HOSPITAL], ids=str)
def fuzzed(
    request: pytest.FixtureRequest,
    cast: Cast,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NodeRuntime, Person]]:
    role: NodeRole = request.param
    node_did, caller = {
        NodeRole.PATIENT: (cast.patient, cast.patient),
        NodeRole.HOSPITAL: (cast.hospital, cast.staff),
    }[role]
    url = sqlite_url(tmp_path_factory.mktemp(f"fuzz-{role}"))
    runtime = make_runtime(cast, role, node_did, url, time.time)
    yield runtime, caller
    runtime.database.close()


def test_no_request_makes_a_node_fail(fuzzed: tuple[NodeRuntime, Person]) -> None:
    runtime, caller = fuzzed
    # Schemathesis' own pytest plugin does not load under pytest 9; its
    # strategies are driven with Hypothesis directly instead.
    schema = schemathesis.openapi.from_asgi("/openapi.json", node_app(runtime))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=caller.headers(runtime.did, now=time.time()),
                checks=[not_a_server_error],
            )

        call()


ROUTES = {
    NodeRole.PATIENT: {
        ("get", "/v1/records"),
        ("post", "/v1/grants"),
        ("delete", "/v1/grants/{grant_id}"),
        ("get", "/v1/audit"),
    },
    NodeRole.HOSPITAL: {
        ("get", "/v1/offers"),
        ("post", "/v1/offers"),
        ("get", "/v1/jobs"),
        ("get", "/v1/earnings"),
    },
}


def test_openapi_documents_the_token_and_the_refusals(
    fuzzed: tuple[NodeRuntime, Person],
) -> None:
    runtime, _ = fuzzed
    document = node_app(runtime).openapi()
    operations = {
        (method, path): body
        for path, methods in document["paths"].items()
        for method, body in methods.items()
    }
    assert set(operations) == ROUTES[runtime.config.role] | {("get", "/v1/node")}
    for key in ROUTES[runtime.config.role]:
        assert operations[key]["security"] == [{"HTTPBearer": []}], key
        assert {"401", "403", "422"} <= set(operations[key]["responses"]), key
        assert operations[key]["description"], key
    assert "security" not in operations[("get", "/v1/node")]
