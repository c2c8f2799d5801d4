"""Calling a node: an httpx client that signs every request afresh.

Example::

    >>> from agora.identity.did_key import did_key_from_key_pair
    >>> from agora.identity.keys import KeyPair, KeyType
    >>> pair = KeyPair.generate(KeyType.SECP256K1)
    >>> client = NodeClient(
    ...     "http://127.0.0.1:8700", pair, did_key_from_key_pair(pair),
    ...     audience="did:key:zNode")
    >>> client.headers()["Authorization"].startswith("Bearer ")
    True

Without ``audience`` the client reads it from the node's ``GET /v1/node``
on first use.
"""

from types import TracebackType
from typing import Any, Self

import httpx

from agora.identity.keys import KeyPair
from agora.node.auth import mint_token


class NodeClient:
    """Requests to one node, each with a new token (new ``jti``)."""

    def __init__(
        self,
        base_url: str,
        pair: KeyPair,
        did: str,
        *,
        audience: str | None = None,
        lifetime_s: int = 60,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._pair = pair
        self.did = did
        self._audience = audience
        self._lifetime_s = lifetime_s
        self._http = httpx.Client(
            base_url=base_url, transport=transport, timeout=timeout_s
        )

    @property
    def audience(self) -> str:
        """The node's DID, read from ``GET /v1/node`` unless given."""
        if self._audience is None:
            answer = self._http.get("/v1/node")
            answer.raise_for_status()
            self._audience = str(answer.json()["did"])
        return self._audience

    def headers(self) -> dict[str, str]:
        """A fresh ``Authorization`` header."""
        token = mint_token(
            self._pair, self.did, self.audience, lifetime_s=self._lifetime_s
        )
        return {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method path`` with a fresh token; the response as it came."""
        return self._http.request(method, path, headers=self.headers(), **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
