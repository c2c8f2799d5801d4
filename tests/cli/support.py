"""Running the installed ``agora`` command as a user would."""

import os
import subprocess
import sys
from pathlib import Path

AGORA = str(Path(sys.executable).parent / "agora")
DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)


def agora(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``agora ARGS`` in a subprocess with ``env`` added to ours."""
    return subprocess.run(
        [AGORA, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )
