"""Typed client of ``DIDRegistry.vy``: ERC-1056 owners, delegates, attributes.

Writes mirror ERC-1056 one for one, including the ``…_signed`` variants
that let a relayer send a change its owner signed.
:meth:`DIDRegistryClient.history` reads an identity's change events the
way ERC-1056 intends: from the block in ``changed(identity)`` backwards
along each event's ``previousChange``, one block at a time, so that no
resolver scans the whole chain.
"""

from dataclasses import dataclass
from typing import Any, TypeAlias

from eth_typing import ChecksumAddress, Hash32
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import EventData

from agora.ledger.clients.base import ContractClient
from agora.ledger.errors import (
    ChainUnavailableError,
    InvalidArgumentError,
    LedgerError,
)
from agora.ledger.model import Account, TxHash

MAX_ATTRIBUTE_VALUE = 1024
"""Longest attribute value the contract accepts (``MAX_VALUE``), in bytes."""


@dataclass(frozen=True)
class OwnerChanged:
    """``DIDOwnerChanged``: ``owner`` now controls ``identity``."""

    identity: ChecksumAddress
    owner: ChecksumAddress
    previous_change: int
    block_number: int


@dataclass(frozen=True)
class DelegateChanged:
    """``DIDDelegateChanged``: ``delegate`` holds ``delegate_type`` until
    ``valid_to`` (a Unix time; a revocation sets it to the block's time)."""

    identity: ChecksumAddress
    delegate_type: bytes
    delegate: ChecksumAddress
    valid_to: int
    previous_change: int
    block_number: int


@dataclass(frozen=True)
class AttributeChanged:
    """``DIDAttributeChanged``: ``name`` = ``value`` until ``valid_to``
    (0 for a revocation)."""

    identity: ChecksumAddress
    name: bytes
    value: bytes
    valid_to: int
    previous_change: int
    block_number: int


EVENT_NAMES = ("DIDOwnerChanged", "DIDDelegateChanged", "DIDAttributeChanged")

DidEvent: TypeAlias = OwnerChanged | DelegateChanged | AttributeChanged
"""Any change event of an identity."""


def bytes32(text: str) -> bytes:
    """``text`` as UTF-8, right-padded with zeros to 32 bytes (how ERC-1056
    names delegate types and attributes, e.g. ``"veriKey"``)."""
    data = text.encode()
    if len(data) > 32:
        raise InvalidArgumentError(f"{text!r} is longer than 32 bytes")
    return data.ljust(32, b"\x00")


class DIDRegistryClient(ContractClient):
    """Identities, owned by themselves until changed. Writes are the
    current owner's; after deactivation nobody's."""

    artifact_name = "DIDRegistry"

    def identity_owner(self, identity: ChecksumAddress) -> ChecksumAddress:
        """The owner: ``identity`` itself until changed, the zero address
        once deactivated."""
        owner: ChecksumAddress = self._call(
            self.contract.functions.identityOwner(identity)
        )
        return owner

    def is_deactivated(self, identity: ChecksumAddress) -> bool:
        """True once the owner was changed to the zero address."""
        return bool(self._call(self.contract.functions.deactivated(identity)))

    def changed(self, identity: ChecksumAddress) -> int:
        """Block number of the identity's latest change; 0 if never changed."""
        return int(self._call(self.contract.functions.changed(identity)))

    def valid_delegate(
        self, identity: ChecksumAddress, delegate_type: bytes, delegate: ChecksumAddress
    ) -> bool:
        """True while ``delegate`` holds ``delegate_type`` for ``identity``."""
        function = self.contract.functions.validDelegate(
            identity, delegate_type, delegate
        )
        return bool(self._call(function))

    def change_owner(
        self, identity: ChecksumAddress, new_owner: ChecksumAddress, *, account: Account
    ) -> TxHash:
        """Hand ``identity`` to ``new_owner``; the zero address deactivates it
        for good."""
        return self._send(
            account, self.contract.functions.changeOwner(identity, new_owner)
        )

    def add_delegate(
        self,
        identity: ChecksumAddress,
        delegate_type: bytes,
        delegate: ChecksumAddress,
        *,
        validity: int,
        account: Account,
    ) -> TxHash:
        """Let ``delegate`` act as ``delegate_type`` for ``validity`` seconds."""
        function = self.contract.functions.addDelegate(
            identity, delegate_type, delegate, validity
        )
        return self._send(account, function)

    def revoke_delegate(
        self,
        identity: ChecksumAddress,
        delegate_type: bytes,
        delegate: ChecksumAddress,
        *,
        account: Account,
    ) -> TxHash:
        """End ``delegate``'s ``delegate_type`` now."""
        function = self.contract.functions.revokeDelegate(
            identity, delegate_type, delegate
        )
        return self._send(account, function)

    def set_attribute(
        self,
        identity: ChecksumAddress,
        name: bytes,
        value: bytes,
        *,
        validity: int,
        account: Account,
    ) -> TxHash:
        """Publish attribute ``name`` = ``value`` for ``validity`` seconds."""
        _check_value(value)
        function = self.contract.functions.setAttribute(identity, name, value, validity)
        return self._send(account, function)

    def revoke_attribute(
        self, identity: ChecksumAddress, name: bytes, value: bytes, *, account: Account
    ) -> TxHash:
        """Withdraw attribute ``name`` = ``value``."""
        _check_value(value)
        function = self.contract.functions.revokeAttribute(identity, name, value)
        return self._send(account, function)

    def nonce(self, owner: ChecksumAddress) -> int:
        """How many signed changes ``owner`` has had accepted."""
        return int(self._call(self.contract.functions.nonce(owner)))

    def change_owner_signed(
        self,
        identity: ChecksumAddress,
        new_owner: ChecksumAddress,
        *,
        signer: Account,
        account: Account,
    ) -> TxHash:
        """:meth:`change_owner` signed by ``signer`` (the owner), sent and
        paid for by ``account``."""
        payload = b"changeOwner" + _address_bytes(new_owner)
        v, r, s = self._sign(identity, payload, signer)
        function = self.contract.functions.changeOwnerSigned(
            identity, v, r, s, new_owner
        )
        return self._send(account, function)

    def add_delegate_signed(
        self,
        identity: ChecksumAddress,
        delegate_type: bytes,
        delegate: ChecksumAddress,
        *,
        validity: int,
        signer: Account,
        account: Account,
    ) -> TxHash:
        """:meth:`add_delegate` signed by the owner, sent by ``account``."""
        payload = b"addDelegate" + delegate_type + _address_bytes(delegate)
        payload += validity.to_bytes(32, "big")
        v, r, s = self._sign(identity, payload, signer)
        function = self.contract.functions.addDelegateSigned(
            identity, v, r, s, delegate_type, delegate, validity
        )
        return self._send(account, function)

    def revoke_delegate_signed(
        self,
        identity: ChecksumAddress,
        delegate_type: bytes,
        delegate: ChecksumAddress,
        *,
        signer: Account,
        account: Account,
    ) -> TxHash:
        """:meth:`revoke_delegate` signed by the owner, sent by ``account``."""
        payload = b"revokeDelegate" + delegate_type + _address_bytes(delegate)
        v, r, s = self._sign(identity, payload, signer)
        function = self.contract.functions.revokeDelegateSigned(
            identity, v, r, s, delegate_type, delegate
        )
        return self._send(account, function)

    def set_attribute_signed(
        self,
        identity: ChecksumAddress,
        name: bytes,
        value: bytes,
        *,
        validity: int,
        signer: Account,
        account: Account,
    ) -> TxHash:
        """:meth:`set_attribute` signed by the owner, sent by ``account``."""
        _check_value(value)
        payload = b"setAttribute" + name + value + validity.to_bytes(32, "big")
        v, r, s = self._sign(identity, payload, signer)
        function = self.contract.functions.setAttributeSigned(
            identity, v, r, s, name, value, validity
        )
        return self._send(account, function)

    def revoke_attribute_signed(
        self,
        identity: ChecksumAddress,
        name: bytes,
        value: bytes,
        *,
        signer: Account,
        account: Account,
    ) -> TxHash:
        """:meth:`revoke_attribute` signed by the owner, sent by ``account``."""
        _check_value(value)
        v, r, s = self._sign(identity, b"revokeAttribute" + name + value, signer)
        function = self.contract.functions.revokeAttributeSigned(
            identity, v, r, s, name, value
        )
        return self._send(account, function)

    def _sign(
        self, identity: ChecksumAddress, payload: bytes, signer: Account
    ) -> tuple[int, bytes, bytes]:
        # ERC-1056 "signed" functions: keccak256(0x19 0x00 ‖ registry ‖
        # nonce[owner] ‖ identity ‖ name ‖ args), signed as a bare hash.
        nonce = self.nonce(self.identity_owner(identity))
        digest = Hash32(
            Web3.keccak(
                b"\x19\x00"
                + _address_bytes(self.address)
                + nonce.to_bytes(32, "big")
                + _address_bytes(identity)
                + payload
            )
        )
        signed = signer.unsafe_sign_hash(digest)
        return int(signed.v), signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")

    def history(self, identity: ChecksumAddress) -> list[DidEvent]:
        """Every change event of ``identity``, oldest first.

        Follows ERC-1056's linked list: the events of block ``changed``,
        then those of the block their first event names as
        ``previousChange``, until it reaches 0.
        """
        events: list[DidEvent] = []
        block = self.changed(identity)
        while block:
            in_block = self._events_in_block(identity, block)
            if not in_block:
                raise LedgerError(
                    f"block {block} holds no change of {identity}: pruned logs?"
                )
            events[:0] = in_block
            block = in_block[0].previous_change
        return events

    def _events_in_block(self, identity: ChecksumAddress, block: int) -> list[DidEvent]:
        raw: list[EventData] = []
        try:
            for name in EVENT_NAMES:
                raw += self.contract.events[name].get_logs(
                    from_block=block,
                    to_block=block,
                    argument_filters={"identity": identity},
                )
        except OSError as exc:
            # requests' connection errors derive from OSError.
            raise ChainUnavailableError(f"reading logs failed: {exc}") from exc
        except Web3Exception as exc:
            raise LedgerError(f"reading logs failed: {exc}") from exc
        raw.sort(key=lambda event: (event["transactionIndex"], event["logIndex"]))
        return [_typed(event) for event in raw]


def _typed(event: EventData) -> DidEvent:
    args: Any = event["args"]
    block = int(event["blockNumber"])
    if event["event"] == "DIDOwnerChanged":
        return OwnerChanged(
            identity=args["identity"],
            owner=args["owner"],
            previous_change=int(args["previousChange"]),
            block_number=block,
        )
    if event["event"] == "DIDDelegateChanged":
        return DelegateChanged(
            identity=args["identity"],
            delegate_type=bytes(args["delegateType"]),
            delegate=args["delegate"],
            valid_to=int(args["validTo"]),
            previous_change=int(args["previousChange"]),
            block_number=block,
        )
    return AttributeChanged(
        identity=args["identity"],
        name=bytes(args["name"]),
        value=bytes(args["value"]),
        valid_to=int(args["validTo"]),
        previous_change=int(args["previousChange"]),
        block_number=block,
    )


def _check_value(value: bytes) -> None:
    if len(value) > MAX_ATTRIBUTE_VALUE:
        raise InvalidArgumentError(
            f"attribute value of {len(value)} bytes exceeds {MAX_ATTRIBUTE_VALUE}"
        )


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(address.removeprefix("0x"))
