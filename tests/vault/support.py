"""Debian's ``ipfs_cid`` (package ``ipfs-cid``) as the reference for CIDs.

It chunks and links a file as Kubo's ``ipfs add`` does with default
settings and prints ``{"CIDv0": …, "CIDv1": …}`` on standard output. ``make
test`` installs it; without it the compatibility tests fail rather than skip,
since they are the contract.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest


def reference_cids(path: Path) -> tuple[str, str]:
    """The (CIDv0, CIDv1) ``ipfs_cid`` gives the file at ``path``."""
    tool = shutil.which("ipfs_cid")
    if tool is None:
        pytest.fail("ipfs_cid is missing: `apt-get install ipfs-cid` (make test does)")
    run = subprocess.run(
        [tool, str(path)], capture_output=True, text=True, check=True, timeout=300
    )
    answer = json.loads(run.stdout)
    return answer["CIDv0"], answer["CIDv1"]
