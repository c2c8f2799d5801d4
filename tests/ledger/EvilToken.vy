# pragma version ~=0.4.3
"""
@title EvilToken
@notice TEST ONLY. A bare ERC-20 whose `transfer` calls back into the
        DataMarket that is paying out, to show that the re-entrant call
        fails. `swallow` decides whether that failure is bubbled up (the
        whole payout reverts) or recorded (so a test can read what the
        re-entrant call returned).
"""

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)

# 0: plain ERC-20; 1: the next transfer re-enters finalize; 2: cancel.
attack: public(uint256)
target: public(address)
jobId: public(uint256)
weights: DynArray[uint256, 16]
swallow: public(bool)

attempts: public(uint256)
lastSucceeded: public(bool)
lastRevertData: public(Bytes[256])


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    self.allowance[owner][msg.sender] -= amount
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[to] += amount

    mode: uint256 = self.attack
    if mode != 0:
        # Attack once, so that a swallowed failure lets the payout finish.
        self.attack = 0
        self._call_target(mode)
    return True


@external
def arm(
    mode: uint256,
    target: address,
    jobId: uint256,
    weights: DynArray[uint256, 16],
    swallow: bool,
):
    self.attack = mode
    self.target = target
    self.jobId = jobId
    self.weights = weights
    self.swallow = swallow


@external
def callDirectly(mode: uint256):
    """
    @notice The same call as the attack, but not from inside a payout: what
            the market answers a caller that is merely unauthorised.
    """
    self._call_target(mode)


@internal
def _call_target(mode: uint256):
    data: Bytes[1024] = b""
    if mode == 1:
        data = abi_encode(
            self.jobId, self.weights, method_id=method_id("finalize(uint256,uint256[])")
        )
    else:
        data = abi_encode(self.jobId, method_id=method_id("cancel(uint256)"))

    success: bool = False
    response: Bytes[256] = b""
    success, response = raw_call(
        self.target, data, max_outsize=256, revert_on_failure=False
    )
    self.attempts += 1
    self.lastSucceeded = success
    self.lastRevertData = response
    if not success and not self.swallow:
        raw_revert(response)
