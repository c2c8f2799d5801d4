"""``did:ethr``: DIDs of Ethereum addresses, resolved from ``DIDRegistry``.

``did:ethr:<chainId>:<address>`` names an identity in the registry's
ERC-1056 state. Resolution follows the did:ethr method specification
(decentralized-identity/ethr-did-resolver, doc/did-method-spec.md):

- the owner is ``#controller``, an ``EcdsaSecp256k1RecoveryMethod2020``
  identified by its CAIP-10 ``blockchainAccountId`` (``eip155:<chain>:<addr>``),
  for authentication and assertion;
- a ``veriKey`` delegate may assert, a ``sigAuth`` delegate may also
  authenticate; each becomes ``#delegate-<n>``;
- ``did/pub/<Ed25519|Secp256k1>/<veriKey|sigAuth>/<hex|base58|base64>``
  attributes add public keys, ``did/svc/<Type>`` attributes add services;
- entries whose ``validTo`` has passed, and revoked ones, are left out;
- an owner of ``0x0…0`` means deactivated: the document keeps only its id,
  and the metadata says ``deactivated``.

:class:`EthrResolver` caches each result until the registry's
``changed(identity)`` moves or the first included entry expires. A verifier
that resolves the same issuers thousands of times a second may allow a
bounded staleness (``recheck_after_s``): within it, cached documents are
served without asking the chain, so a change shows after at most that long.
"""

import base64
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_typing import ChecksumAddress
from multiformats import multibase
from web3 import Web3

from agora.identity.document import (
    DID_CONTEXT,
    RECOVERY_METHOD,
    Did,
    DidDocument,
    ResolutionResult,
    Service,
    VerificationMethod,
)
from agora.identity.errors import DidResolutionError, InvalidDidError, InvalidKeyError
from agora.identity.keys import KeyType, PublicKey
from agora.ledger import (
    AttributeChanged,
    DelegateChanged,
    DidEvent,
    DIDRegistryClient,
    LedgerError,
    OwnerChanged,
)

logger = logging.getLogger(__name__)

PREFIX = "did:ethr:"
ZERO_ADDRESS = "0x" + "00" * 20
RECOVERY_CONTEXT = "https://w3id.org/security/suites/secp256k1recovery-2020/v2"
FOREVER = 2**256 - 1

_DID_PATTERN = re.compile(r"did:ethr:(0x[0-9a-fA-F]+|[0-9]+):(0x[0-9a-fA-F]{40})")

# did:ethr spec, "Non-Ethereum Attributes": algorithm -> verification type.
_KEY_ALGORITHMS = {
    "Ed25519": (KeyType.ED25519, "Ed25519VerificationKey2018"),
    "Secp256k1": (KeyType.SECP256K1, "EcdsaSecp256k1VerificationKey2019"),
}


def ethr_did(chain_id: int, address: str) -> Did:
    """The did:ethr of ``address`` on chain ``chain_id`` (hex chain id, as
    ethr-did-resolver writes it, and the checksummed address)."""
    return Did(f"{PREFIX}{hex(chain_id)}:{Web3.to_checksum_address(address)}")


def parse_ethr_did(did: str) -> tuple[int, ChecksumAddress]:
    """The chain id and address a did:ethr names; raises
    :class:`InvalidDidError`."""
    if not did.startswith("did:"):
        raise InvalidDidError("syntax", "a DID starts with 'did:'")
    if not did.startswith(PREFIX):
        raise InvalidDidError("method", "not a did:ethr")
    match = _DID_PATTERN.fullmatch(did)
    if match is None:
        raise InvalidDidError("syntax", "expected did:ethr:<chainId>:<0x address>")
    network, address = match.groups()
    chain_id = int(network, 16) if network.startswith("0x") else int(network)
    return chain_id, Web3.to_checksum_address(address)


@dataclass
class _Entries:
    """The state an event walk accumulates."""

    did: Did
    chain_id: int
    now: int
    owner: ChecksumAddress
    deactivated: bool = False
    counter: int = 0
    valid_until: int = FOREVER
    methods: dict[str, tuple[VerificationMethod, bool]] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)


class EthrResolver:
    """Resolve did:ethr DIDs of one chain against its ``DIDRegistry``.

    ``clock`` gives the current Unix time against which ``validTo`` is
    judged; it defaults to the chain's latest block time. With
    ``recheck_after_s`` > 0 a cached result younger than that (by
    ``monotonic``) is returned without reading the chain, as long as the
    elapsed time has not carried it past an entry's ``validTo``.
    """

    def __init__(
        self,
        registry: DIDRegistryClient,
        *,
        clock: Callable[[], int] | None = None,
        recheck_after_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.chain_id = registry.chain.chain_id
        self._clock = clock or registry.chain.now
        self._recheck_after_s = recheck_after_s
        self._monotonic = monotonic
        self._cache: dict[Did, _Cached] = {}

    def did_of(self, address: str) -> Did:
        """The did:ethr of ``address`` on this resolver's chain."""
        return ethr_did(self.chain_id, address)

    def resolve(self, did: str) -> ResolutionResult:
        """The DID document of ``did`` with its metadata.

        Raises :class:`InvalidDidError` for a malformed DID or one of
        another chain, :class:`DidResolutionError` when the chain fails.
        """
        # The document's id is the DID as asked (DID Core §7.1.2), so the
        # decimal and hex spellings of one chain id are cached apart. Only
        # well-formed DIDs of this chain are ever cached, so a hit needs no
        # parsing (whose address checksum costs more than the rest).
        asked = Did(did)
        cached = self._cache.get(asked)
        checked_at = self._monotonic()
        if cached is not None and cached.fresh_at(checked_at, self._recheck_after_s):
            return cached.result

        chain_id, identity = parse_ethr_did(did)
        if chain_id != self.chain_id:
            raise InvalidDidError("network", f"chain {chain_id} is not {self.chain_id}")

        try:
            changed = self.registry.changed(identity)
            now = self._clock()
            if (
                cached is not None
                and cached.changed == changed
                and now < cached.valid_until
            ):
                cached.checked_at, cached.chain_time = checked_at, now
                return cached.result
            history = self.registry.history(identity)
        except LedgerError as exc:
            raise DidResolutionError(f"registry unreadable: {exc}") from exc

        entries = _Entries(did=asked, chain_id=self.chain_id, now=now, owner=identity)
        for event in history:
            _apply(entries, event)
        result = _result(entries, changed)
        self._cache[asked] = _Cached(
            changed=changed,
            valid_until=entries.valid_until,
            result=result,
            checked_at=checked_at,
            chain_time=now,
        )
        return result


@dataclass
class _Cached:
    """A resolution and when it was last confirmed against the chain."""

    changed: int
    valid_until: int
    result: ResolutionResult
    checked_at: float
    chain_time: int

    def fresh_at(self, now: float, recheck_after_s: float) -> bool:
        """Whether it may be served at monotonic time ``now`` unchecked."""
        elapsed = now - self.checked_at
        return (
            elapsed < recheck_after_s and self.chain_time + elapsed < self.valid_until
        )


def _apply(entries: _Entries, event: DidEvent) -> None:
    """Fold one change event into ``entries`` (did:ethr spec, "Read")."""
    if isinstance(event, OwnerChanged):
        entries.owner = event.owner
        entries.deactivated = event.owner == ZERO_ADDRESS
        return

    # Every delegate or attribute event takes the next number, whether or
    # not it survives, so a method keeps its id while later events come.
    entries.counter += 1
    valid = event.valid_to > entries.now
    if isinstance(event, DelegateChanged):
        key = f"delegate-{event.delegate_type.hex()}-{event.delegate}"
        method = _delegate_method(entries, event)
        _keep(entries, key, method if valid else None, event.valid_to)
        return
    _apply_attribute(entries, event, valid=valid)


def _delegate_method(
    entries: _Entries, event: DelegateChanged
) -> tuple[VerificationMethod, bool] | None:
    delegate_type = event.delegate_type.rstrip(b"\x00")
    if delegate_type not in (b"veriKey", b"sigAuth"):
        return None
    method = VerificationMethod(
        id=f"{entries.did}#delegate-{entries.counter}",
        type=RECOVERY_METHOD,
        controller=entries.did,
        blockchain_account_id=f"eip155:{entries.chain_id}:{event.delegate}",
    )
    return method, delegate_type == b"sigAuth"


def _apply_attribute(
    entries: _Entries, event: AttributeChanged, *, valid: bool
) -> None:
    name = event.name.rstrip(b"\x00").decode(errors="replace")
    parts = name.split("/")
    key = f"attribute-{event.name.hex()}-{event.value.hex()}"

    if len(parts) == 3 and parts[:2] == ["did", "svc"]:
        service = Service(
            id=f"{entries.did}#service-{entries.counter}",
            type=parts[2],
            service_endpoint=event.value.decode(errors="replace"),
        )
        if valid:
            entries.services[key] = service
            entries.valid_until = min(entries.valid_until, event.valid_to)
        else:
            entries.services.pop(key, None)
        return

    if len(parts) >= 4 and parts[:2] == ["did", "pub"]:
        method = _attribute_method(entries, parts, event.value)
        _keep(entries, key, method if valid else None, event.valid_to)


def _attribute_method(
    entries: _Entries, parts: list[str], value: bytes
) -> tuple[VerificationMethod, bool] | None:
    algorithm, purpose = parts[2], parts[3]
    encoding = parts[4] if len(parts) > 4 else "hex"
    if algorithm not in _KEY_ALGORITHMS or purpose not in ("veriKey", "sigAuth"):
        return None
    key_type, method_type = _KEY_ALGORITHMS[algorithm]
    try:
        raw = _decode_value(value, encoding)
        public_key = PublicKey.from_bytes(key_type, raw)
    except (InvalidKeyError, ValueError):
        logger.debug("skipping unreadable %s key on %s", algorithm, entries.did)
        return None

    method = VerificationMethod(
        id=f"{entries.did}#delegate-{entries.counter}",
        type=method_type,
        controller=entries.did,
        public_key=public_key,
        public_key_base58=_base58(raw) if encoding == "base58" else None,
    )
    return method, purpose == "sigAuth"


def _keep(
    entries: _Entries,
    key: str,
    method: tuple[VerificationMethod, bool] | None,
    valid_to: int,
) -> None:
    if method is None:
        entries.methods.pop(key, None)
        return
    entries.methods[key] = method
    entries.valid_until = min(entries.valid_until, valid_to)


def _decode_value(value: bytes, encoding: str) -> bytes:
    """Attribute values: raw bytes for ``hex`` (the registry stores bytes),
    text for ``base58`` and ``base64``."""
    if encoding == "hex":
        return value
    text = value.decode("ascii")
    if encoding == "base58":
        return bytes(multibase.decode("z" + text))
    if encoding == "base64":
        return base64.b64decode(text, validate=True)
    raise ValueError(f"unknown encoding {encoding}")


def _base58(raw: bytes) -> str:
    encoded: str = multibase.encode(raw, "base58btc")
    return encoded[1:]


def _result(entries: _Entries, changed: int) -> ResolutionResult:
    did = entries.did
    metadata: dict[str, object] = {}
    if changed:
        metadata["versionId"] = str(changed)
    if entries.deactivated:
        document = DidDocument(id=did, contexts=(DID_CONTEXT,))
        return ResolutionResult(
            document=document,
            deactivated=True,
            updated_block=changed,
            metadata=metadata,
        )

    controller = VerificationMethod(
        id=f"{did}#controller",
        type=RECOVERY_METHOD,
        controller=did,
        blockchain_account_id=f"eip155:{entries.chain_id}:{entries.owner}",
    )
    methods = [controller]
    authentication = [controller.id]
    assertion = [controller.id]
    for method, authenticates in entries.methods.values():
        methods.append(method)
        assertion.append(method.id)
        if authenticates:
            authentication.append(method.id)

    document = DidDocument(
        id=did,
        contexts=(DID_CONTEXT, RECOVERY_CONTEXT),
        verification_methods=tuple(methods),
        authentication=tuple(authentication),
        assertion_method=tuple(assertion),
        services=tuple(entries.services.values()),
    )
    return ResolutionResult(
        document=document, updated_block=changed or None, metadata=metadata
    )
