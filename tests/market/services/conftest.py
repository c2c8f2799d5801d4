"""Fixtures of the service tests: one chain with a listed service per module."""

import pytest

from .support import Deployed, deploy_market


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return deploy_market()
