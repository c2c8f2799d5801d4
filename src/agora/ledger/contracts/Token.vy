# pragma version ~=0.4.3
"""
@title Token
@notice The ERC-20 used for escrow, rewards and service fees: snekmate's
        `erc20` with 18 decimals. The deployer owns it and is a minter.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5]):
    ownable.__init__()
    # The EIP-712 domain (used by `permit`) takes the token's own name.
    erc20.__init__(name_, symbol_, 18, name_, "1")
