"""``agora demo lending``: joint lending risk control, end to end.

On the embedded ledger (or ``AGORA_CHAIN_URL``) three issuers (government,
school, bank) and three lending platforms join the consortium, and a
borrower walks through a loan application with verifiable credentials
(:mod:`agora.lending.walkthrough`). Then the platforms train the credit
model federated on their age-band parts of the Taiwan credit-default table,
through the ``DataMarket`` job flow (:mod:`agora.lending.credit_job`), and
are paid by contribution; the centralised baseline trains beside it. Last,
the demo applicants (:func:`agora.lending.applicants.demo_applicants`)
apply to platform A, are checked against the other platforms under their
consent, scored by the federated model and decided with reasons. Results go
to ``OUT/result.json`` and ``OUT/report.html``.
"""

import json
import logging
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from agora.errors import ConfigurationError
from agora.federated.audit import RoundRecord
from agora.ledger import Account, JobId, tokens
from agora.ledger.model import TOKEN_DECIMALS
from agora.lending import report
from agora.lending.applicants import (
    Applicant,
    ApplicationOutcome,
    arrange,
    demo_applicants,
    process_application,
)
from agora.lending.consortium import LendingConsortium
from agora.lending.credit import CreditTrainConfig, auc
from agora.lending.credit.bundle import CreditModel
from agora.lending.credit.model import predict_proba
from agora.lending.credit.service import CreditFileIn
from agora.lending.credit_job import (
    BUREAU_NAME,
    CreditCoordinator,
    CreditData,
    CreditJobPlan,
    CreditScorer,
    prepare_credit_data,
    probabilities,
    run_credit_job,
    train_baseline,
)
from agora.lending.decision import LendingPolicy
from agora.lending.service_section import run_credit_service_section
from agora.lending.walkthrough import walk_through
from agora.market.audit import audit_summary
from agora.market.jobs import JobOutcome, TrainingMarket, verify_receipts
from agora.settings import Settings
from agora.vault.blockstore import BlockStore

logger = logging.getLogger(__name__)

REWARD_TOKENS = 1_000
APPLY_TO = "platform-a"


@dataclass(frozen=True)
class LendingDemoOptions:
    """The knobs of ``agora demo lending``; ``quick`` is a smoke run."""

    data_dir: Path
    out_dir: Path
    rounds: int = 20
    local_epochs: int = 1
    seed: int = 7
    quick: bool = False

    @classmethod
    def create(
        cls,
        data_dir: Path,
        out_dir: Path,
        *,
        rounds: int | None = None,
        local_epochs: int | None = None,
        seed: int = 7,
        quick: bool = False,
    ) -> "LendingDemoOptions":
        """Options with defaults filled in; ``quick`` only changes the
        default rounds (3 instead of 20), never a value given explicitly."""
        return cls(
            data_dir,
            out_dir,
            rounds=(3 if quick else 20) if rounds is None else rounds,
            local_epochs=1 if local_epochs is None else local_epochs,
            seed=seed,
            quick=quick,
        )

    @property
    def train_config(self) -> CreditTrainConfig:
        """The platforms' local training settings for these options."""
        return replace(CreditTrainConfig(), local_epochs=self.local_epochs)


def run_lending_demo(
    options: LendingDemoOptions, settings: Settings, console: Console
) -> dict[str, Any]:
    """Run the whole demo; write ``result.json`` and ``report.html``."""
    started = time.perf_counter()
    _prepare_out_dir(options.out_dir)
    data = prepare_credit_data(options.data_dir, seed=options.seed)

    with tempfile.TemporaryDirectory(prefix="agora-lending-") as scratch:
        wallets = Path(scratch)

        # The consortium, and one borrower's application with credentials.
        with console.status("starting") as status:

            def step(name: str) -> None:
                status.update(name)
                console.log(name)

            consortium = LendingConsortium.setup(settings, on_step=step)
            walkthrough = walk_through(consortium, wallets, on_step=step)
        result = walkthrough.to_json()

        # The credit model, trained federated and paid for; its baseline.
        _print_split(console, data, options.seed)
        market = TrainingMarket(
            consortium.ledger, BlockStore(options.out_dir / "blocks")
        )
        plan = CreditJobPlan(
            rounds=options.rounds,
            config=options.train_config,
            seed=options.seed,
            reward=tokens(REWARD_TOKENS),
        )
        bureau = consortium.chain.new_account(BUREAU_NAME)
        outcome, coordinator = _train(
            plan,
            consortium,
            market,
            data,
            console,
            data_dir=options.data_dir,
            bureau=bureau,
        )
        receipts = verify_receipts(consortium.ledger, outcome)
        console.print("Training the centralised baseline (same model, same epochs)…")
        central_started = time.perf_counter()
        central = train_baseline(data, plan)
        central_seconds = time.perf_counter() - central_started

        # Scores on the held-out test split.
        test_inputs = data.encoder.encode(data.splits.test)
        test_labels = data.splits.test.labels
        config = options.train_config
        curves = {
            "federated": probabilities(outcome.model, test_inputs, config),
            "centralised": predict_proba(central, test_inputs),
        }
        result.update(_credit_result(options, outcome, coordinator, data, curves))
        result["inclusion_proofs_verified"] = receipts
        result["audit"] = audit_summary(consortium.ledger, market.store, outcome.job_id)
        result["centralized"] = {
            "test_auc": auc(test_labels, curves["centralised"]),
            "train_seconds": central_seconds,
        }

        # The applicants, scored by the federated model.
        console.print(f"Applicants apply to {APPLY_TO}…")
        applicants, outcomes = _applications(
            consortium, data, outcome, options, curves["federated"], wallets
        )
        result["applications"] = [o.to_json() for o in outcomes]

        # The model, sold per call; royalties to the platforms that trained it.
        console.print(f"Listing the credit model as a service; {APPLY_TO} calls it…")
        result["service"] = run_credit_service_section(
            consortium,
            bureau=bureau,
            job_id=outcome.job_id,
            model=CreditModel(outcome.model, data.encoder, config.hidden),
            files=[
                (a.label, CreditFileIn.of_row(data.splits.test, a.credit_file))
                for a in applicants
            ],
            caller_name=APPLY_TO,
            store=market.store,
        )

    result["chain"] = "embedded" if settings.chain_url is None else "json-rpc"
    result["wall_s"] = round(time.perf_counter() - started, 2)
    _write_outputs(options.out_dir, result, curves, test_labels, coordinator)
    _print_summary(console, result, options.out_dir)
    return result


def _prepare_out_dir(out_dir: Path) -> None:
    """Fail before any work if the results could not be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".agora-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write results to --out {out_dir}: {exc.strerror or exc}"
        ) from exc


def _train(
    plan: CreditJobPlan,
    consortium: LendingConsortium,
    market: TrainingMarket,
    data: CreditData,
    console: Console,
    *,
    data_dir: Path,
    bureau: Account,
) -> tuple[JobOutcome, CreditCoordinator]:
    """Post and run the credit job with a live progress bar."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )

    def posted(job_id: JobId, spec_cid: str) -> None:
        console.print(
            f"Credit job [bold]{job_id}[/] posted by the {BUREAU_NAME} "
            f"(spec {spec_cid}), {REWARD_TOKENS} tokens escrowed, "
            f"{len(data.rows)} platforms matched."
        )

    with Progress(*columns, console=console) as progress:
        task = progress.add_task("rounds", total=plan.rounds, status="starting")

        def on_round(record: RoundRecord) -> None:
            status = (
                f"{len(record.accepted)} accepted, {len(record.rejected)} rejected, "
                f"root {record.updates_root.hex()[:8]}"
            )
            progress.update(task, advance=1, status=status)

        return run_credit_job(
            consortium,
            market,
            data,
            plan,
            data_dir=data_dir,
            on_posted=posted,
            on_round=on_round,
            bureau=bureau,
        )


def _applications(
    consortium: LendingConsortium,
    data: CreditData,
    outcome: JobOutcome,
    options: LendingDemoOptions,
    test_probabilities: np.ndarray,
    wallets: Path,
) -> tuple[list[Applicant], list[ApplicationOutcome]]:
    """Pick the applicants' credit files, arrange their stories, apply."""
    policy = LendingPolicy()
    safe, risky = _credit_files(
        data.splits.test.labels,
        test_probabilities,
        limit=policy.max_default_probability,
        seed=options.seed,
    )
    applicants = demo_applicants(safe_files=safe, risky_file=risky)
    arrange(consortium, applicants)
    scorer = CreditScorer(
        outcome.model, data.encoder, data.splits.test, options.train_config
    )
    return applicants, [
        process_application(
            consortium, applicant, wallets, platform=APPLY_TO, score=scorer
        )
        for applicant in applicants
    ]


def _credit_files(
    labels: np.ndarray, probs: np.ndarray, *, limit: float, seed: int
) -> tuple[list[int], int]:
    """Four test rows of borrowers who repaid and the model rates under
    ``limit``, and one who defaulted and the model rates over it, drawn with
    ``seed``. (Should the model rate no row so, the lowest and highest
    rated rows stand in, and the decisions show it.)"""
    rng = np.random.default_rng(seed)
    safe = np.flatnonzero((labels == 0) & (probs <= limit))
    risky = np.flatnonzero((labels == 1) & (probs > limit))
    if safe.shape[0] < 4:
        safe = np.argsort(probs)[:4]
    if risky.shape[0] == 0:
        risky = np.argsort(probs)[-1:]
    chosen = rng.choice(safe, size=4, replace=False)
    return [int(row) for row in chosen], int(rng.choice(risky))


def _credit_result(
    options: LendingDemoOptions,
    outcome: JobOutcome,
    coordinator: CreditCoordinator,
    data: CreditData,
    curves: dict[str, np.ndarray],
) -> dict[str, Any]:
    """The credit job's part of result.json."""
    providers = []
    for payout, row in zip(outcome.payouts, data.rows, strict=True):
        providers.append(
            {
                "name": payout.provider.name,
                "address": payout.provider.address,
                "samples": row.samples,
                "defaults": row.defaults,
                "default_rate": row.default_rate,
                "median_age": row.median_age,
                "mean_limit": row.mean_limit,
                "shapley": payout.shapley,
                "shapley_per_round": [
                    values[payout.provider.index]
                    for values in outcome.contributions.per_round
                ],
                "weight_bps": payout.weight_bps,
                "payout": int(payout.amount),
            }
        )
    return {
        "seed": options.seed,
        "quick": options.quick,
        "bureau": BUREAU_NAME,
        "job_id": int(outcome.job_id),
        "spec_cid": str(outcome.spec_cid),
        "rounds": len(outcome.rounds),
        "local_epochs": options.local_epochs,
        "test_auc": auc(data.splits.test.labels, curves["federated"]),
        "val_auc": coordinator.val_auc_per_round.get(len(outcome.rounds)),
        "initial_val_auc": coordinator.val_auc_per_round.get(0),
        "split": {
            "train_rows": len(data.splits.train),
            "val_rows": len(data.splits.val),
            "test_rows": len(data.splits.test),
            "partition": "age band: under 30 / 30-39 / 40 and over, "
            "one row in ten crossing to another platform (seeded)",
        },
        "round_details": [_round_detail(r, coordinator) for r in outcome.rounds],
        "token_decimals": TOKEN_DECIMALS,
        "escrow": int(outcome.escrow),
        "refund": int(outcome.refund),
        "providers": providers,
        "transactions": {"start": outcome.start_tx, "finalize": outcome.finalize_tx},
    }


def _round_detail(
    record: RoundRecord, coordinator: CreditCoordinator
) -> dict[str, Any]:
    return {
        "round": record.server_round,
        "accepted": [
            {
                "provider": u.provider.name,
                "num_examples": u.num_examples,
                "update_norm": u.norm,
                "update_hash": "0x" + u.digest.hex(),
            }
            for u in record.accepted
        ],
        "rejected": [
            {"provider": r.provider.name, "rule": r.rule, "detail": r.detail}
            for r in record.rejected
        ],
        "updates_root": "0x" + record.updates_root.hex(),
        "aggregate_hash": "0x" + record.aggregate_hash.hex(),
        "tx_hash": record.tx_hash,
        "val_auc": coordinator.val_auc_per_round.get(record.server_round),
        "round_seconds": record.round_seconds,
    }


def _write_outputs(
    out_dir: Path,
    result: dict[str, Any],
    curves: dict[str, np.ndarray],
    test_labels: np.ndarray,
    coordinator: CreditCoordinator,
) -> None:
    result["report"] = str((out_dir / "report.html").resolve())
    report.write_plots(
        out_dir,
        labels=test_labels,
        curves=curves,
        val_auc=coordinator.val_auc_per_round,
        providers=result["providers"],
    )
    (out_dir / "result.json").write_text(
        json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    report.write_html(out_dir / "report.html", result)


def _print_split(console: Console, data: CreditData, seed: int) -> None:
    table = Table(
        title=f"Credit-default train rows by platform (age bands, seed {seed})"
    )
    for column in ("platform", "rows", "defaults", "default %", "median age"):
        table.add_column(column, justify="left" if column == "platform" else "right")
    for row in data.rows:
        table.add_row(
            row.name,
            str(row.samples),
            str(row.defaults),
            f"{100 * row.default_rate:.1f}",
            f"{row.median_age:.0f}",
        )
    console.print(table)
    console.print(
        f"The {BUREAU_NAME} holds {len(data.splits.val)} validation rows; "
        f"{len(data.splits.test)} test rows are kept for the report."
    )


def _tokens(amount: int) -> str:
    return f"{amount / 10**TOKEN_DECIMALS:,.4f}"


def _print_summary(console: Console, result: dict[str, Any], out: Path) -> None:
    console.print()
    console.print(
        f"Federated credit model: test AUC [bold]{result['test_auc']:.4f}[/]"
        f"   (centralised baseline: {result['centralized']['test_auc']:.4f})"
    )
    payouts = Table(title=f"Job {result['job_id']}: contributions and payouts")
    for column in ("platform", "rows", "Shapley", "weight (bps)", "payout (tokens)"):
        payouts.add_column(column, justify="left" if column == "platform" else "right")
    for p in result["providers"]:
        payouts.add_row(
            p["name"],
            str(p["samples"]),
            f"{p['shapley']:.4f}",
            str(p["weight_bps"]),
            _tokens(p["payout"]),
        )
    console.print(payouts)
    paid = sum(p["payout"] for p in result["providers"])
    console.print(
        f"Escrow {_tokens(result['escrow'])} = paid {_tokens(paid)}"
        f" + refund {_tokens(result['refund'])} tokens"
    )

    decisions = Table(title=f"Loan applications to {APPLY_TO}")
    decisions.add_column("applicant", no_wrap=True)
    decisions.add_column("story")
    decisions.add_column("decision", overflow="fold", min_width=14)
    decisions.add_column("other\nlenders", justify="right")
    decisions.add_column("fraud")
    decisions.add_column("P(def.)", justify="right")
    for a in result["applications"]:
        verdict = (
            "[green]approved[/]"
            if a["decision"] == "approved"
            else f"[red]declined[/]: {', '.join(a['declined_by'])}"
        )
        decisions.add_row(
            a["applicant"],
            a["story"],
            verdict,
            str(a["multi_lending_platforms"]),
            "listed" if a["on_fraud_list"] else "no",
            f"{a['default_probability']:.3f}",
        )
    console.print(decisions)

    service = result["service"]
    royalties = ", ".join(
        f"{name} {_tokens(amount)}"
        for name, amount in service["platform_royalties"].items()
    )
    console.print(
        f"Credit scoring service {service['service_id']} "
        f"(model {service['model_cid'][:16]}…): {service['caller']} made "
        f"{service['calls']} calls, settled {_tokens(service['settled'])} tokens; "
        f"royalties {royalties}; bureau {_tokens(service['bureau_income'])}"
    )

    refused = sum(check["refused_as_expected"] for check in result["refusals"])
    console.print(
        f"{result['inclusion_proofs_verified']} inclusion proofs checked by the "
        "platforms against the on-chain roots. "
        f"Job audit from the chain and published artifacts: "
        f"{'ok' if result['audit']['ok'] else 'MISMATCH'} "
        f"(manifest {result['audit']['manifest_cid']}). "
        f"Walk-through: {refused}/{len(result['refusals'])} attacks refused as "
        f"expected. Wall time {result['wall_s']:.0f} s. "
        f"Wrote {out / 'result.json'} and {out / 'report.html'}"
    )
