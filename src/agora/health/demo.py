"""``agora demo health``: the OpenHealth federated X-ray market, end to end.

On the embedded ledger (or ``AGORA_CHAIN_URL``) this deploys the contracts,
admits three hospitals and a buyer to the consortium, offers each hospital's
non-IID part of PneumoniaMNIST as a dataset, posts a job with its reward
escrowed, lets the hospitals apply (matched on chain), trains the model
federated with every round committed (each hospital only on the rows its
pseudonymous patients consented to, :mod:`.consent_section`), measures
Shapley contributions on the buyer's validation split, pays the hospitals,
and reports on the official test split. Then it sells the model per call
(:mod:`.service_section`) and
runs a patient's records through consent (:mod:`.records_section`). Results
go to ``OUT/result.json`` and ``OUT/report.html``.

With ``--dp-epsilon`` the job's spec asks for DP-SGD at that epsilon: each
hospital first sets its dataset's on-chain privacy budget, trains the
GroupNorm model under DP-SGD, and the result reports the epsilon each one
spent; the plain job then runs as well, on a ledger of its own, so the
accuracy cost of the privacy stands beside it.
"""

import json
import logging
import time
from collections import Counter
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
from sklearn.metrics import roc_auc_score

from agora.errors import ConfigurationError
from agora.federated.audit import RoundRecord
from agora.federated.simulation import SimulationResources
from agora.health import report
from agora.health.consent_section import (
    Declared,
    HospitalConsent,
    consent_result,
    declare_inclusions,
    give_patients_consent,
)
from agora.health.fhir import fhir_folder
from agora.health.records_section import patient_bundle, run_records_section
from agora.health.service_section import run_service_section
from agora.health.xray import (
    PartitionRow,
    TrainConfig,
    choose_threshold,
    describe_partition,
    load_pneumoniamnist,
    partition_non_iid,
    state_to_arrays,
    train_centralized,
)
from agora.health.xray_consent import PURPOSE
from agora.health.xray_job import (
    LABELS,
    MODALITY,
    MODEL_NAME,
    PRIVATE_LR,
    PRIVATE_MODEL_NAME,
    XrayCoordinator,
    XrayTrainer,
    initial_model,
    probabilities,
    xray_privacy,
)
from agora.ledger import Account, JobId, MilliEpsilon, Role, connect, deploy, tokens
from agora.ledger.model import TOKEN_DECIMALS
from agora.market import report as job_plots
from agora.market.audit import audit_summary
from agora.market.jobs import JobOutcome, TrainingMarket, verify_receipts
from agora.market.spec import (
    DatasetSchema,
    TrainingJobSpec,
    parse_privacy,
    parse_spec,
)
from agora.settings import Settings
from agora.vault.blockstore import BlockStore

logger = logging.getLogger(__name__)

REWARD_TOKENS = 1_000
SERVICE_CALLS = 100
"""Calls the clinic makes to the listed pneumonia service."""
MAX_UPDATE_NORM = 50.0
"""Bound on the L2 change of one update; clean updates of this model stay
well below it (see the round records), a runaway or scaled update does not."""

HOSPITAL_NAMES = ("St Mary's Referral Centre", "Riverside General", "Northgate Clinic")
BUDGET_JOBS = 2
"""With ``--dp-epsilon``, each hospital's lifetime privacy budget is this
many jobs' epsilon, so the result shows what is left after one."""
BUYER_NAME = "Lumen Diagnostics"


@dataclass(frozen=True)
class HealthDemoOptions:
    """The knobs of ``agora demo health``; ``quick`` is a smoke configuration."""

    data_dir: Path
    out_dir: Path
    rounds: int = 10
    local_epochs: int = 2
    seed: int = 7
    baseline: bool = False
    quick: bool = False
    dp_epsilon: float | None = None
    """Train under DP-SGD at this epsilon (per hospital, whole job)."""

    @classmethod
    def create(
        cls,
        data_dir: Path,
        out_dir: Path,
        *,
        rounds: int | None = None,
        local_epochs: int | None = None,
        seed: int = 7,
        baseline: bool = False,
        quick: bool = False,
        dp_epsilon: float | None = None,
    ) -> "HealthDemoOptions":
        """Options with defaults filled in; ``quick`` only changes the
        defaults (two rounds of one epoch: every step runs, nothing
        converges), never a value given explicitly."""
        default_rounds, default_epochs = (2, 1) if quick else (10, 2)
        if dp_epsilon is not None:
            parse_privacy(xray_privacy(dp_epsilon))  # refused before any work
        return cls(
            data_dir,
            out_dir,
            rounds=default_rounds if rounds is None else rounds,
            local_epochs=default_epochs if local_epochs is None else local_epochs,
            seed=seed,
            baseline=baseline,
            quick=quick,
            dp_epsilon=dp_epsilon,
        )


def train_config(options: HealthDemoOptions) -> TrainConfig:
    """The hospitals' local training settings for these options."""
    config = replace(TrainConfig(), local_epochs=options.local_epochs)
    if options.dp_epsilon is not None:
        config = replace(config, lr=PRIVATE_LR)
    return config


@dataclass(frozen=True)
class _Posted:
    """The market state once the job is posted and matched."""

    market: TrainingMarket
    job_id: JobId
    spec: TrainingJobSpec
    admin: Account
    buyer: Account
    hospitals: list[Account]
    consent: list[HospitalConsent]
    declared: list[Declared]
    consent_seconds: float


def run_health_demo(
    options: HealthDemoOptions, settings: Settings, console: Console
) -> dict[str, Any]:
    """Run the whole job; write ``result.json`` and ``report.html``."""
    started = time.perf_counter()
    data = load_pneumoniamnist(options.data_dir)
    bundle = patient_bundle(
        fhir_folder(settings.model_copy(update={"data_dir": options.data_dir}))
    )
    _prepare_out_dir(options.out_dir)
    parts = partition_non_iid(data.train.labels, seed=options.seed)
    rows = describe_partition(data.train.labels, parts)
    _print_split(console, rows, options.seed)

    posted = _post_job(options, settings, rows, parts, console)
    coordinator = XrayCoordinator(data.val)
    outcome = _train(options, posted, coordinator, console)
    proofs = verify_receipts(posted.market.deployment, outcome)
    consent = consent_result(
        posted.market,
        posted.job_id,
        hospitals=posted.hospitals,
        section=posted.consent,
        declared=posted.declared,
        seconds=posted.consent_seconds,
    )

    # Final report on the official test split, at the threshold the
    # coordinator picked on its validation split.
    threshold = choose_threshold(
        probabilities(outcome.model, data.val), data.val.labels
    )
    test_probs = probabilities(outcome.model, data.test)
    curves = {"federated": test_probs}
    result = _result(options, settings, outcome, rows, coordinator)
    result["inclusion_proofs_verified"] = proofs
    result["audit"] = audit_summary(
        posted.market.deployment, posted.market.store, outcome.job_id
    )
    result["consent"] = consent
    for provider, hospital in zip(
        result["providers"], consent["hospitals"], strict=True
    ):
        provider["included"] = hospital["included"]
        provider["excluded"] = hospital["excluded"]
        provider["inclusion_root"] = hospital["inclusion_root"]
    result.update(_scores(test_probs, data.test.labels, threshold))
    if options.dp_epsilon is not None:
        result["privacy"], curves["without DP"] = _plain_beside(
            options, settings, rows, parts, outcome, posted, console
        )
        result["privacy"]["auc_cost"] = (
            result["privacy"]["plain"]["test_auc"] - result["test_auc"]
        )

    # The model, sold per call; royalties to the hospitals that trained it.
    console.print("Listing the model as a service; a clinic calls it…")
    result["service"] = run_service_section(
        posted.market.deployment.consortium.chain,
        posted.market.deployment,
        admin=posted.admin,
        buyer=posted.buyer,
        hospitals=posted.hospitals,
        job_id=posted.job_id,
        model=outcome.model,
        threshold=threshold,
        test=data.test,
        store=posted.market.store,
        calls=SERVICE_CALLS,
    )

    # A patient's records from the three hospitals, shared by consent.
    console.print("Importing a patient's records; a doctor reads them by consent…")
    result["records"] = run_records_section(
        posted.market.deployment.consortium.chain,
        posted.market.deployment,
        admin=posted.admin,
        hospitals=posted.hospitals,
        store=posted.market.store,
        bundle=bundle,
    )

    if options.baseline:
        console.print("Training the centralised baseline (same model, same epochs)…")
        baseline_started = time.perf_counter()
        central = dict(
            state_to_arrays(
                train_centralized(
                    data,
                    config=train_config(options),
                    rounds=options.rounds,
                    seed=options.seed,
                )
            )
        )
        central_threshold = choose_threshold(
            probabilities(central, data.val), data.val.labels
        )
        curves["centralised"] = probabilities(central, data.test)
        result["centralized"] = {
            **_scores(curves["centralised"], data.test.labels, central_threshold),
            "train_seconds": time.perf_counter() - baseline_started,
        }

    result["wall_s"] = time.perf_counter() - started
    _write_outputs(options.out_dir, result, curves, data.test.labels, coordinator)
    _print_summary(console, result)
    return result


def _plain_beside(
    options: HealthDemoOptions,
    settings: Settings,
    rows: list[PartitionRow],
    parts: list[np.ndarray],
    outcome: JobOutcome,
    posted: "_Posted",
    console: Console,
) -> tuple[dict[str, Any], np.ndarray]:
    """The private job's spend, and the same job run without DP for contrast
    (its test scores and test probabilities)."""
    privacy = outcome.privacy
    if privacy is None:
        raise ConfigurationError("the private job reported no privacy spend")
    data_market = posted.market.deployment.data_market
    noise = {p.provider.name: p.noise_multiplier for p in privacy.providers}
    section: dict[str, Any] = {
        "epsilon": privacy.epsilon,
        "delta": privacy.delta,
        "spent": privacy.spent,
        "noise_multiplier": noise,
        "budget": {},
        "budget_left": {},
    }
    for spent, hospital in zip(privacy.providers, posted.hospitals, strict=True):
        dataset = data_market.dataset(
            data_market.provider_dataset(outcome.job_id, hospital.address)
        )
        section["budget"][spent.provider.name] = dataset.privacy_budget / 1000
        section["budget_left"][spent.provider.name] = dataset.privacy_remaining / 1000

    console.print("Training the same job without differential privacy, for contrast…")
    plain_options = replace(options, dp_epsilon=None, out_dir=options.out_dir / "plain")
    data = load_pneumoniamnist(options.data_dir)
    plain_posted = _post_job(plain_options, settings, rows, parts, console)
    plain_outcome = _train(
        plain_options, plain_posted, XrayCoordinator(data.val), console
    )
    threshold = choose_threshold(
        probabilities(plain_outcome.model, data.val), data.val.labels
    )
    probs = probabilities(plain_outcome.model, data.test)
    section["plain"] = _scores(probs, data.test.labels, threshold)
    return section, probs


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


def _post_job(
    options: HealthDemoOptions,
    settings: Settings,
    rows: list[PartitionRow],
    parts: list[np.ndarray],
    console: Console,
) -> _Posted:
    """Deploy, admit the members, give the patients' consent, offer the
    datasets, post and match the job; the hospitals declare what their
    patients' consent lets them train on."""
    chain = connect(settings)
    admin = chain.new_account("consortium-admin")
    deployment = deploy(chain, admin)
    buyer = chain.new_account(BUYER_NAME)
    hospitals = [chain.new_account(name) for name in HOSPITAL_NAMES]
    consortium = deployment.consortium
    consortium.add_member(
        buyer.address, BUYER_NAME, Role.BUYER | Role.COORDINATOR, account=admin
    )
    for name, hospital in zip(HOSPITAL_NAMES, hospitals, strict=True):
        consortium.add_member(hospital.address, name, Role.HOSPITAL, account=admin)
    reward = tokens(REWARD_TOKENS)
    deployment.token.mint(buyer.address, reward, account=admin)
    market = TrainingMarket(deployment, BlockStore(options.out_dir / "blocks"))

    # Each hospital's patients sign their consent (or not); the hospital
    # submits the grants in batches.
    consent_started = time.perf_counter()
    consent = give_patients_consent(
        chain, market, hospitals=hospitals, parts=parts, seed=options.seed
    )
    consent_seconds = time.perf_counter() - consent_started

    # Each hospital offers its part (metadata only; the rows stay home).
    dataset_ids = [
        market.offer_dataset(
            hospital,
            DatasetSchema(
                modality=MODALITY,
                labels=LABELS,
                shape=(28, 28),
                dtype="uint8",
                samples=row.samples,
                label_counts={"normal": row.normal, "pneumonia": row.pneumonia},
            ),
        )
        for hospital, row in zip(hospitals, rows, strict=True)
    ]

    # The buyer posts the job with the reward escrowed; hospitals apply and
    # the contract checks each offer matches.
    private = options.dp_epsilon is not None
    fields: dict[str, Any] = {
        "task": "pneumonia-detection",
        "modality": MODALITY,
        "labels": LABELS,
        "model": PRIVATE_MODEL_NAME if private else MODEL_NAME,
        "rounds": options.rounds,
        "local_epochs": options.local_epochs,
        "min_samples": 100,
        "min_providers": len(hospitals),
        "max_providers": len(hospitals),
        "max_update_norm": MAX_UPDATE_NORM,
        "seed": options.seed,
        "purpose": PURPOSE,
    }
    if options.dp_epsilon is not None:
        fields["privacy"] = xray_privacy(options.dp_epsilon)
    spec = parse_spec(fields)
    if spec.privacy is not None:
        # Each hospital commits to a lifetime budget before it applies.
        budget = MilliEpsilon(BUDGET_JOBS * spec.privacy.milli_epsilon)
        for hospital, dataset_id in zip(hospitals, dataset_ids, strict=True):
            deployment.data_market.set_privacy_budget(
                dataset_id, budget, account=hospital
            )
    job_id, spec_cid = market.post_job(
        buyer,
        spec,
        reward=reward,
        deadline=chain.now() + 86_400,
        coordinator=buyer.address,
    )
    for hospital, dataset_id in zip(hospitals, dataset_ids, strict=True):
        market.apply(hospital, job_id, dataset_id)

    # Matched, each hospital keeps the rows its patients' consent covers
    # and declares their Merkle root before training starts.
    declare_started = time.perf_counter()
    declared = declare_inclusions(
        chain,
        market,
        job_id,
        hospitals=hospitals,
        section=consent,
        purpose=PURPOSE,
    )
    consent_seconds += time.perf_counter() - declare_started
    console.print(
        f"Job [bold]{job_id}[/] posted (spec {spec_cid}), "
        f"{REWARD_TOKENS} tokens escrowed, {len(hospitals)} hospitals matched; "
        f"they train on {sum(len(d.rows) for d in declared)} of "
        f"{sum(row.samples for row in rows)} rows, those their patients "
        f"consented to for {PURPOSE}."
    )
    return _Posted(
        market,
        job_id,
        spec,
        admin,
        buyer,
        hospitals,
        consent,
        declared,
        consent_seconds,
    )


def _train(
    options: HealthDemoOptions,
    posted: _Posted,
    coordinator: XrayCoordinator,
    console: Console,
) -> JobOutcome:
    """Run the job's rounds with a live progress bar."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("rounds", total=options.rounds, status="starting")

        def on_round(record: RoundRecord) -> None:
            status = (
                f"{len(record.accepted)} accepted, {len(record.rejected)} rejected, "
                f"root {record.updates_root.hex()[:8]}"
            )
            progress.update(task, advance=1, status=status)

        names = dict(
            zip((h.address for h in posted.hospitals), HOSPITAL_NAMES, strict=True)
        )
        return posted.market.run_job(
            posted.job_id,
            posted.spec,
            coordinator=posted.buyer,
            names=names,
            trainer=XrayTrainer(
                options.data_dir.resolve(),
                options.seed,
                train_config(options),
                included_rows=tuple(d.rows for d in posted.declared),
                privacy=posted.spec.privacy,
            ),
            initial=initial_model(
                options.seed, norm="batch" if posted.spec.privacy is None else "group"
            ),
            utility=coordinator.utility,
            evaluate=coordinator.on_round,
            on_round=on_round,
            resources=SimulationResources(),
        )


def _scores(
    probs: np.ndarray, labels: np.ndarray, threshold: float
) -> dict[str, float]:
    return {
        "test_auc": float(roc_auc_score(labels, probs)),
        "test_acc": float(np.mean((probs >= threshold) == (labels == 1))),
        "threshold": threshold,
    }


def _result(
    options: HealthDemoOptions,
    settings: Settings,
    outcome: JobOutcome,
    rows: list[PartitionRow],
    coordinator: XrayCoordinator,
) -> dict[str, Any]:
    """Everything result.json holds but the test scores."""
    # Round 1 also waits for the Flower workers to start (about 15 s here);
    # the audit's share is measured on the rounds after it, when there are.
    steady = outcome.rounds[1:] or outcome.rounds
    audit = sum(r.audit_seconds for r in steady)
    round_time = sum(r.round_seconds for r in steady)
    providers = []
    for payout, row in zip(outcome.payouts, rows, strict=True):
        providers.append(
            {
                "name": payout.provider.name,
                "address": payout.provider.address,
                "samples": row.samples,
                "normal": row.normal,
                "pneumonia": row.pneumonia,
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
        "job_id": int(outcome.job_id),
        "spec_cid": str(outcome.spec_cid),
        "chain": "embedded" if settings.chain_url is None else "json-rpc",
        "seed": options.seed,
        "quick": options.quick,
        "rounds": len(outcome.rounds),
        "local_epochs": options.local_epochs,
        "val_auc": coordinator.val_auc_per_round.get(len(outcome.rounds), float("nan")),
        "initial_val_auc": coordinator.val_auc_per_round.get(0, float("nan")),
        "centralized": None,
        "round_roots": ["0x" + r.updates_root.hex() for r in outcome.rounds],
        "round_details": [_round_detail(r, coordinator) for r in outcome.rounds],
        "token_decimals": TOKEN_DECIMALS,
        "escrow": int(outcome.escrow),
        "refund": int(outcome.refund),
        "providers": providers,
        "transactions": {"start": outcome.start_tx, "finalize": outcome.finalize_tx},
        "audit_seconds": sum(r.audit_seconds for r in outcome.rounds),
        "round_seconds": sum(r.round_seconds for r in outcome.rounds),
        "audit_overhead_fraction": audit / round_time if round_time > 0 else 0.0,
        "audit_overhead_rounds": [r.server_round for r in steady],
    }


def _round_detail(record: RoundRecord, coordinator: XrayCoordinator) -> dict[str, Any]:
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
        "missing": [p.name for p in record.missing],
        "updates_root": "0x" + record.updates_root.hex(),
        "aggregate_hash": "0x" + record.aggregate_hash.hex(),
        "tx_hash": record.tx_hash,
        "val_auc": coordinator.val_auc_per_round.get(record.server_round, float("nan")),
        "audit_seconds": record.audit_seconds,
        "round_seconds": record.round_seconds,
    }


def _write_outputs(
    out_dir: Path,
    result: dict[str, Any],
    curves: dict[str, np.ndarray],
    test_labels: np.ndarray,
    coordinator: XrayCoordinator,
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    result["report"] = str((out_dir / "report.html").resolve())
    plots = {
        "ROC curve (test split)": "roc.png",
        "Validation AUC per round": "auc_per_round.png",
        "Contributions and payouts": "contributions.png",
    }
    job_plots.plot_roc(
        out_dir / "roc.png", test_labels, curves, title="ROC, official test split"
    )
    job_plots.plot_rounds(
        out_dir / "auc_per_round.png",
        coordinator.val_auc_per_round,
        title="Global model per round",
    )
    job_plots.plot_contributions(out_dir / "contributions.png", result["providers"])
    (out_dir / "result.json").write_text(
        json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    report.write_html(out_dir / "report.html", result, plots)


def _print_split(console: Console, rows: list[PartitionRow], seed: int) -> None:
    table = Table(title=f"Non-IID split of the PneumoniaMNIST train rows (seed {seed})")
    for column in ("hospital", "samples", "normal", "pneumonia", "pneumonia %"):
        table.add_column(column, justify="left" if column == "hospital" else "right")
    for name, row in zip(HOSPITAL_NAMES, rows, strict=True):
        table.add_row(
            name,
            str(row.samples),
            str(row.normal),
            str(row.pneumonia),
            f"{100 * row.pneumonia / row.samples:.0f}",
        )
    console.print(table)


def _tokens(amount: int) -> str:
    return f"{amount / 10**TOKEN_DECIMALS:,.4f}"


def _print_summary(console: Console, result: dict[str, Any]) -> None:
    console.print()
    line = (
        f"Federated test AUC [bold]{result['test_auc']:.4f}[/], "
        f"ACC [bold]{result['test_acc']:.4f}[/]"
    )
    if result["centralized"]:
        central = result["centralized"]
        line += (
            f"   (centralised: AUC {central['test_auc']:.4f}, "
            f"ACC {central['test_acc']:.4f})"
        )
    console.print(line)
    if result.get("privacy"):
        _print_privacy(console, result)

    table = Table(title=f"Job {result['job_id']}: contributions and payouts")
    columns = (
        "hospital",
        "samples",
        "consented",
        "excluded",
        "Shapley",
        "weight (bps)",
        "payout (tokens)",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "hospital" else "right")
    for p in result["providers"]:
        table.add_row(
            p["name"],
            str(p["samples"]),
            str(p["included"]),
            str(p["excluded"]),
            f"{p['shapley']:.4f}",
            str(p["weight_bps"]),
            _tokens(p["payout"]),
        )
    console.print(table)
    _print_consent(console, result["consent"], result["providers"])
    paid = sum(p["payout"] for p in result["providers"])
    console.print(
        f"Escrow {_tokens(result['escrow'])} = paid {_tokens(paid)}"
        f" + refund {_tokens(result['refund'])} tokens"
    )

    rounds = Table(title="Rounds committed on chain")
    for column in ("round", "accepted", "rejected", "val AUC", "updates root", "tx"):
        rounds.add_column(column)
    for r in result["round_details"]:
        rounds.add_row(
            str(r["round"]),
            str(len(r["accepted"])),
            str(len(r["rejected"])),
            f"{r['val_auc']:.4f}",
            r["updates_root"],
            r["tx_hash"],
        )
    console.print(rounds)
    service = result["service"]
    royalties = ", ".join(
        f"{name} {_tokens(amount)}"
        for name, amount in service["hospital_royalties"].items()
    )
    console.print(
        f"Service {service['service_id']} (model {service['model_cid']}): a clinic "
        f"made {service['calls']} calls, {100 * service['calls_accuracy']:.0f} % "
        f"right; settled {_tokens(service['settled'])} tokens. Royalties: "
        f"{royalties}. The service's own evaluation on the test split: AUC "
        f"{service['evaluation']['test_auc']:.4f}, accuracy "
        f"{service['evaluation']['test_acc']:.4f}."
    )
    _print_records(console, result["records"])
    overhead = 100 * result["audit_overhead_fraction"]
    console.print(
        f"{result['inclusion_proofs_verified']} inclusion proofs checked against "
        "the on-chain roots. "
        f"Job audit from the chain and published artifacts: {_audited(result)}. "
        f"Audit overhead {overhead:.2f} % of round time; "
        f"wall time {result['wall_s']:.0f} s. Report: {result['report']}"
    )


def _audited(result: dict[str, Any]) -> str:
    audit = result["audit"]
    verdict = "ok" if audit["ok"] else f"{audit['mismatches']} MISMATCHES"
    return f"{verdict} (manifest {audit['manifest_cid']})"


def _print_consent(
    console: Console, consent: dict[str, Any], providers: list[dict[str, Any]]
) -> None:
    excluded: Counter[str] = Counter()
    for hospital in consent["hospitals"]:
        excluded.update(hospital["excluded_by_rule"])
    rules = ", ".join(f"{rule} {count}" for rule, count in excluded.items())
    roots = "; ".join(f"{p['name']} {p['inclusion_root'][:18]}…" for p in providers)
    patients = sum(hospital["patients"] for hospital in consent["hospitals"])
    console.print(
        f"Consent for {consent['purpose']}: {patients} patients; rows excluded "
        f"by rule: {rules}. Inclusion roots declared on chain: {roots}; one "
        "consenting patient per hospital proved their record included."
    )


def _print_privacy(console: Console, result: dict[str, Any]) -> None:
    privacy = result["privacy"]
    console.print(
        f"Differential privacy: DP-SGD at epsilon {privacy['epsilon']:g}, "
        f"delta {privacy['delta']:g} per hospital over the whole job. Without "
        f"it the same job reached test AUC {privacy['plain']['test_auc']:.4f} "
        f"(cost of privacy: {privacy['auc_cost']:+.4f} AUC)."
    )
    table = Table(title="Privacy spent (RDP accountant) and left on chain")
    for column in ("hospital", "epsilon spent", "noise multiplier", "budget left"):
        table.add_column(column, justify="left" if column == "hospital" else "right")
    for name, spent in privacy["spent"].items():
        table.add_row(
            name,
            f"{spent:.3f}",
            f"{privacy['noise_multiplier'][name]:.3f}",
            f"{privacy['budget_left'][name]:g} of {privacy['budget'][name]:g}",
        )
    console.print(table)


def _print_records(console: Console, records: dict[str, Any]) -> None:
    imported, grant, refusal = records["imported"], records["grant"], records["refusal"]
    events = Counter(entry["event"] for entry in records["audit"])
    console.print(
        f"Records: {imported['records']} resources of patient {records['patient']} "
        f"merged from {len(imported['per_hospital'])} hospitals' exports, encrypted "
        f"and anchored (root {imported['merkle_root'][:16]}…). Grant "
        f"{grant['grant_id']} to a doctor at {imported['anchored_by']}: "
        f"{' + '.join(grant['categories'])} for {grant['days']} days; the doctor "
        f"read {len(records['reads'])} records through {grant['threshold']} of "
        f"{len(grant['proxies'])} proxies, each proven against the anchored root. "
        f"After revocation the next read was refused ({refusal['error']}). Audit "
        f"trail from chain: {events['grant']} grant, {events['access']} accesses, "
        f"{events['revocation']} revocation."
    )
