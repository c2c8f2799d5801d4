"""Agora: an open decentralized data & AI marketplace.

Layers (see ``DESIGN.md``): ``ledger`` (contracts and clients), capabilities
(``federated``, ``vault``), ``market`` (data jobs), applications (``health``),
surfaces (``cli``). Arrows point down only.
"""

from agora.errors import AgoraError

__all__ = ["AgoraError", "__version__"]
__version__ = "0.1.0"
