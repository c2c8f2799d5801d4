"""The root of Agora's exception tree.

Each package has its own ``errors`` module whose classes derive from
:class:`AgoraError`; where callers expect a builtin (``ValueError``,
``LookupError``) the class is a hybrid of both, as web3.py does.
Third-party exceptions are translated once, at the adapter, with ``from exc``.
"""


class AgoraError(Exception):
    """Root of every error Agora raises on purpose."""


class ConfigurationError(AgoraError, ValueError):
    """A setting is missing or invalid; the message names the setting."""


class DataError(AgoraError, ValueError):
    """Input data is missing, corrupt or of the wrong shape."""
