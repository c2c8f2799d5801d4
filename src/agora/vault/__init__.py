"""agora.vault: encrypted, content-addressed objects.

The safe recipes are :func:`put_encrypted` and :func:`get_decrypted`;
:mod:`agora.vault.reencryption` holds the sharing primitives and
:mod:`agora.vault.unixfs` plain (unencrypted) IPFS-compatible files.
"""

from agora.vault.blockstore import BlockBackend, BlockStore, Cid, open_blockstore
from agora.vault.objects import (
    Envelope,
    decrypt_to_file,
    get_decrypted,
    owner_data_key,
    put_encrypted,
    read_envelope,
)

__all__ = [
    "BlockBackend",
    "BlockStore",
    "Cid",
    "Envelope",
    "decrypt_to_file",
    "get_decrypted",
    "open_blockstore",
    "owner_data_key",
    "put_encrypted",
    "read_envelope",
]
