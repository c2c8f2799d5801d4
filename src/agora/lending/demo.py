"""``agora demo lending``: the loan application walk-through, reported.

Runs :func:`agora.lending.walkthrough.run_loan_walkthrough` with progress
on the console, then writes ``result.json`` and ``report.html`` into the
output folder. The multi-lending check, the fraud list and the federated
credit model join this demo in the lending risk-control issue.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from agora.errors import ConfigurationError
from agora.lending.walkthrough import run_loan_walkthrough
from agora.settings import Settings

logger = logging.getLogger(__name__)


def run_lending_demo(out: Path, settings: Settings, console: Console) -> dict[str, Any]:
    """Run the walk-through; write ``result.json`` and ``report.html`` to ``out``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the output folder {out}: {exc}"
        ) from exc

    started = time.perf_counter()
    with console.status("starting") as status:

        def step(name: str) -> None:
            status.update(name)
            console.log(name)

        walkthrough = run_loan_walkthrough(settings, on_step=step)
    result = walkthrough.to_json()
    result["chain"] = "embedded" if settings.chain_url is None else "json-rpc"
    result["wall_s"] = round(time.perf_counter() - started, 2)

    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    environment = Environment(
        loader=PackageLoader("agora.lending"), autoescape=select_autoescape()
    )
    page = environment.get_template("report.html").render(
        result=result, chain=result["chain"], wall_s=result["wall_s"]
    )
    (out / "report.html").write_text(page)
    _summary(console, result, out)
    return result


def _summary(console: Console, result: dict[str, Any], out: Path) -> None:
    table = Table(title="Loan application to platform A")
    table.add_column("credential")
    table.add_column("disclosed")
    table.add_column("withheld")
    for vct, claims in result["disclosed_to_platform_a"].items():
        table.add_row(
            vct.rsplit("/", 2)[-2],
            ", ".join(f"{k}={v}" for k, v in claims.items()),
            ", ".join(result["withheld_from_platform_a"][vct]),
        )
    console.print(table)
    refused = sum(check["refused_as_expected"] for check in result["refusals"])
    console.print(
        f"{refused}/{len(result['refusals'])} attacks refused as expected; "
        f"wrote {out / 'result.json'} and {out / 'report.html'}"
    )
