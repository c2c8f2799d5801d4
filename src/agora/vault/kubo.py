"""Blocks in a Kubo (go-ipfs) node, through its RPC API.

The grown-up deployment's blockstore (DESIGN.md): used when
``AGORA_IPFS_API`` is set. It stores exactly the blocks the folder store
would (``/api/v0/block/put`` with the codec named), so CIDs agree, and it
re-hashes every block it reads: a Kubo node is trusted to store, not to
answer truthfully. Reads run with ``offline=true`` so that a missing block
fails at once instead of waiting on the public network.

Reference: https://docs.ipfs.tech/reference/kubo/rpc/ (``block/put``,
``block/get``, ``block/stat``, ``pin/add``; every call is a POST).
"""

import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from agora.vault.blockstore import DAG_PB, RAW, BlockRef, parse_block_ref
from agora.vault.errors import BackendError, BlockIntegrityError, BlockNotFoundError

logger = logging.getLogger(__name__)

_CODEC_NAMES = {RAW: "raw", DAG_PB: "dag-pb"}


class KuboBlockStore:
    """A :class:`~agora.vault.blockstore.BlockBackend` on a Kubo RPC API."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout_s: float = 60.0,
        client: httpx.Client | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError("AGORA_IPFS_API must be an http(s) URL")
        self._base = api_url.rstrip("/") + "/api/v0/"
        # The host alone names the endpoint in errors: a URL may carry
        # credentials (user:password@ or a token in the query).
        self._host = parts.hostname
        self._client = client or httpx.Client(timeout=timeout_s)

    def put_block(self, ref: BlockRef, *parts: bytes | memoryview) -> None:
        """``block/put`` with the codec and hash of ``ref``; Kubo's CID must agree."""
        block = b"".join(parts)
        params = {"cid-codec": _CODEC_NAMES[ref.codec], "mhtype": "sha2-256"}
        answer = self._call("block/put", params, files={"data": block}).json()
        stored = _parse_key(answer)
        if stored != ref:
            raise BackendError(f"{self._host} stored a block under another CID")

    def get_block(self, ref: BlockRef) -> bytes:
        """``block/get``, re-hashed against ``ref``."""
        data = self._call("block/get", {"arg": ref.cid, "offline": "true"}).content
        if hashlib.sha256(data).digest() != ref.digest:
            raise BlockIntegrityError(f"block {ref.cid} does not match its CID")
        return data

    def has_block(self, ref: BlockRef) -> bool:
        """``block/stat`` answers for a block the node holds."""
        try:
            self._call("block/stat", {"arg": ref.cid, "offline": "true"})
        except BlockNotFoundError:
            return False
        return True

    def pin(self, ref: BlockRef) -> None:
        """``pin/add`` (recursive): Kubo's garbage collector keeps the DAG."""
        self._call("pin/add", {"arg": ref.cid})

    def _call(
        self,
        command: str,
        params: dict[str, str],
        *,
        files: dict[str, bytes] | None = None,
    ) -> httpx.Response:
        try:
            response = self._client.post(
                self._base + command, params=params, files=files
            )
        except httpx.HTTPError as exc:
            raise BackendError(
                f"IPFS API at {self._host} unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code == httpx.codes.OK:
            return response

        # Kubo answers 500 with {"Message": …, "Type": "error"} for a
        # command that failed, such as a block it does not hold.
        message = _error_message(response)
        if "not found" in message or "could not find" in message:
            raise BlockNotFoundError(f"no block {params.get('arg')} in {self._host}")
        logger.debug("IPFS API %s failed: %s", command, message)
        raise BackendError(
            f"IPFS API at {self._host}: {command} failed ({response.status_code})"
        )


def _parse_key(answer: Any) -> BlockRef:
    if not isinstance(answer, dict) or not isinstance(answer.get("Key"), str):
        raise BackendError("block/put answered without a Key")
    return parse_block_ref(answer["Key"])


def _error_message(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return response.text[:200]
    message = answer.get("Message") if isinstance(answer, dict) else None
    return message if isinstance(message, str) else ""
