# pragma version ~=0.4.3
"""
@title DIDRegistry
@notice Owners, delegates and attributes of Ethereum-address identities,
        with the semantics of ERC-1056 (EIP-1056, "Ethereum Lightweight
        Identity") so that did:ethr resolvers can read it.

        Every identity is owned by itself until its owner changes it. Each
        change emits an event carrying `previousChange`, the block number of
        the identity's previous change, and stores the current block number
        in `changed`; a resolver walks the events backwards from `changed`
        without scanning the whole chain.

        Departure from ERC-1056: changing the owner to the zero address
        deactivates the identity for good (the did:ethr deactivation rule).
        ERC-1056 would hand control back to the identity itself; here
        `identityOwner` stays the zero address and every later write
        reverts with "didregistry: deactivated".

        The `...Signed` variants let anyone relay a change the owner
        signed: the owner signs keccak256 of ERC-1056's packed message
        (0x19 0x00, this contract, the owner's `nonce`, the identity, the
        function name and its arguments) with no EIP-191 text prefix, and
        each accepted signature spends the owner's nonce.
"""

MAX_VALUE: public(constant(uint256)) = 1024


event DIDOwnerChanged:
    identity: indexed(address)
    owner: address
    previousChange: uint256


event DIDDelegateChanged:
    identity: indexed(address)
    delegateType: bytes32
    delegate: address
    validTo: uint256
    previousChange: uint256


event DIDAttributeChanged:
    identity: indexed(address)
    name: bytes32
    value: Bytes[MAX_VALUE]
    validTo: uint256
    previousChange: uint256


owners: HashMap[address, address]
deactivated: public(HashMap[address, bool])
delegates: public(HashMap[address, HashMap[bytes32, HashMap[address, uint256]]])
changed: public(HashMap[address, uint256])
nonce: public(HashMap[address, uint256])


@internal
@view
def _owner(identity: address) -> address:
    if self.deactivated[identity]:
        return empty(address)
    owner: address = self.owners[identity]
    if owner == empty(address):
        return identity
    return owner


@internal
@view
def _check_owner(identity: address):
    assert not self.deactivated[identity], "didregistry: deactivated"
    assert msg.sender == self._owner(identity), "didregistry: not owner"


@internal
def _check_signed(
    identity: address, v: uint8, r: bytes32, s: bytes32, payload: Bytes[1152]
):
    assert not self.deactivated[identity], "didregistry: deactivated"
    owner: address = self._owner(identity)
    digest: bytes32 = keccak256(
        concat(
            x"1900",
            convert(self, bytes20),
            convert(self.nonce[owner], bytes32),
            convert(identity, bytes20),
            payload,
        )
    )
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address) and signer == owner, "didregistry: bad signature"
    self.nonce[owner] += 1


@internal
def _touch(identity: address) -> uint256:
    previous: uint256 = self.changed[identity]
    self.changed[identity] = block.number
    return previous


@external
@view
def identityOwner(identity: address) -> address:
    """
    @notice The current owner: the identity itself until changed, the zero
            address once deactivated.
    """
    return self._owner(identity)


@external
@view
def validDelegate(
    identity: address, delegateType: bytes32, delegate: address
) -> bool:
    """
    @notice True while `delegate` holds `delegateType` for `identity`.
    """
    if self.deactivated[identity]:
        return False
    return self.delegates[identity][delegateType][delegate] > block.timestamp


@external
def changeOwner(identity: address, newOwner: address):
    """
    @notice Hand `identity` to `newOwner`; the zero address deactivates it.
    """
    self._check_owner(identity)
    self._change_owner(identity, newOwner)


@external
def changeOwnerSigned(
    identity: address, v: uint8, r: bytes32, s: bytes32, newOwner: address
):
    """
    @notice `changeOwner`, signed by the owner and sent by anyone.
    """
    payload: Bytes[1152] = concat(b"changeOwner", convert(newOwner, bytes20))
    self._check_signed(identity, v, r, s, payload)
    self._change_owner(identity, newOwner)


@internal
def _change_owner(identity: address, newOwner: address):
    if newOwner == empty(address):
        self.deactivated[identity] = True
    self.owners[identity] = newOwner
    log DIDOwnerChanged(
        identity=identity, owner=newOwner, previousChange=self._touch(identity)
    )


@external
def addDelegate(
    identity: address, delegateType: bytes32, delegate: address, validity: uint256
):
    """
    @notice Let `delegate` act as `delegateType` for `validity` seconds.
    """
    self._check_owner(identity)
    self._add_delegate(identity, delegateType, delegate, validity)


@external
def addDelegateSigned(
    identity: address,
    v: uint8,
    r: bytes32,
    s: bytes32,
    delegateType: bytes32,
    delegate: address,
    validity: uint256,
):
    """
    @notice `addDelegate`, signed by the owner and sent by anyone.
    """
    payload: Bytes[1152] = concat(
        b"addDelegate",
        delegateType,
        convert(delegate, bytes20),
        convert(validity, bytes32),
    )
    self._check_signed(identity, v, r, s, payload)
    self._add_delegate(identity, delegateType, delegate, validity)


@internal
def _add_delegate(
    identity: address, delegateType: bytes32, delegate: address, validity: uint256
):
    assert delegate != empty(address), "didregistry: zero delegate"
    valid_to: uint256 = block.timestamp + validity
    self.delegates[identity][delegateType][delegate] = valid_to
    log DIDDelegateChanged(
        identity=identity,
        delegateType=delegateType,
        delegate=delegate,
        validTo=valid_to,
        previousChange=self._touch(identity),
    )


@external
def revokeDelegate(identity: address, delegateType: bytes32, delegate: address):
    """
    @notice End `delegate`'s `delegateType` now (validTo = this block's time).
    """
    self._check_owner(identity)
    self._revoke_delegate(identity, delegateType, delegate)


@external
def revokeDelegateSigned(
    identity: address,
    v: uint8,
    r: bytes32,
    s: bytes32,
    delegateType: bytes32,
    delegate: address,
):
    """
    @notice `revokeDelegate`, signed by the owner and sent by anyone.
    """
    payload: Bytes[1152] = concat(
        b"revokeDelegate", delegateType, convert(delegate, bytes20)
    )
    self._check_signed(identity, v, r, s, payload)
    self._revoke_delegate(identity, delegateType, delegate)


@internal
def _revoke_delegate(identity: address, delegateType: bytes32, delegate: address):
    self.delegates[identity][delegateType][delegate] = block.timestamp
    log DIDDelegateChanged(
        identity=identity,
        delegateType=delegateType,
        delegate=delegate,
        validTo=block.timestamp,
        previousChange=self._touch(identity),
    )


@external
def setAttribute(
    identity: address,
    name: bytes32,
    attributeValue: Bytes[MAX_VALUE],
    validity: uint256,
):
    """
    @notice Publish attribute `name` = `attributeValue` for `validity` seconds. Only
            the event records it, as in ERC-1056.
    """
    self._check_owner(identity)
    self._set_attribute(identity, name, attributeValue, validity)


@external
def setAttributeSigned(
    identity: address,
    v: uint8,
    r: bytes32,
    s: bytes32,
    name: bytes32,
    attributeValue: Bytes[MAX_VALUE],
    validity: uint256,
):
    """
    @notice `setAttribute`, signed by the owner and sent by anyone.
    """
    payload: Bytes[1152] = concat(
        b"setAttribute", name, attributeValue, convert(validity, bytes32)
    )
    self._check_signed(identity, v, r, s, payload)
    self._set_attribute(identity, name, attributeValue, validity)


@internal
def _set_attribute(
    identity: address,
    name: bytes32,
    attributeValue: Bytes[MAX_VALUE],
    validity: uint256,
):
    log DIDAttributeChanged(
        identity=identity,
        name=name,
        value=attributeValue,
        validTo=block.timestamp + validity,
        previousChange=self._touch(identity),
    )


@external
def revokeAttribute(
    identity: address, name: bytes32, attributeValue: Bytes[MAX_VALUE]
):
    """
    @notice Withdraw attribute `name` = `attributeValue` (validTo = 0).
    """
    self._check_owner(identity)
    self._revoke_attribute(identity, name, attributeValue)


@external
def revokeAttributeSigned(
    identity: address,
    v: uint8,
    r: bytes32,
    s: bytes32,
    name: bytes32,
    attributeValue: Bytes[MAX_VALUE],
):
    """
    @notice `revokeAttribute`, signed by the owner and sent by anyone.
    """
    payload: Bytes[1152] = concat(b"revokeAttribute", name, attributeValue)
    self._check_signed(identity, v, r, s, payload)
    self._revoke_attribute(identity, name, attributeValue)


@internal
def _revoke_attribute(
    identity: address, name: bytes32, attributeValue: Bytes[MAX_VALUE]
):
    log DIDAttributeChanged(
        identity=identity,
        name=name,
        value=attributeValue,
        validTo=0,
        previousChange=self._touch(identity),
    )
