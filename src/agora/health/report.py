"""The health demo's report page, beside result.json and the job's plots
(:mod:`agora.market.report`)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from agora.market.report import TOKEN_UNIT


def write_html(path: Path, result: Mapping[str, Any], plots: Mapping[str, str]) -> None:
    """Render ``report.html`` from the result and the plot file names."""
    environment = Environment(
        loader=PackageLoader("agora.health", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    environment.globals["zip"] = zip
    environment.filters["tokens"] = lambda amount: f"{int(amount) / TOKEN_UNIT:,.4f}"
    page = environment.get_template("report.html").render(result=result, plots=plots)
    path.write_text(page, encoding="utf-8")
