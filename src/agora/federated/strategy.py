"""Flower strategy that runs every round through a :class:`RoundAuditor`.

Flower's ``FedAvg`` samples the nodes and sends the messages; everything a
reply goes through before it touches the global model is the auditor's.
Each ClientApp reports its provider index (its ``partition-id``) in the
reply's metrics. In the simulation that index is assigned by the runtime;
in a deployment, SuperNode authentication is what ties a node to a provider.
"""

import logging
import time
from collections.abc import Callable, Iterable

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg

from agora.federated.arrays import Arrays, from_record, to_record
from agora.federated.audit import RoundAuditor, RoundRecord, Submission

logger = logging.getLogger(__name__)

ARRAYS_KEY = "arrays"
METRICS_KEY = "metrics"
CONFIG_KEY = "config"
NUM_EXAMPLES = "num-examples"
PARTITION_ID = "partition-id"
TRAIN_LOSS = "train-loss"
RECEIPT_KEY = "receipt"
UPDATE_DIGEST = "update-digest"
JOB_ID = "job-id"
PROVIDER_ADDRESSES = "provider-addresses"
SERVER_ROUND = "server-round"


class AuditedFedAvg(FedAvg):
    """FedAvg whose aggregation is validated, hashed and committed."""

    def __init__(
        self,
        auditor: RoundAuditor,
        *,
        on_round: Callable[[RoundRecord], None] | None = None,
    ) -> None:
        count = len(auditor.providers)
        super().__init__(
            fraction_train=1.0,
            fraction_evaluate=0.0,  # the coordinator evaluates on its own split
            min_train_nodes=count,
            min_available_nodes=count,
            weighted_by_key=NUM_EXAMPLES,
            arrayrecord_key=ARRAYS_KEY,
            configrecord_key=CONFIG_KEY,
        )
        self.auditor = auditor
        self.on_round = on_round
        self._global: Arrays = {}
        self._round_started = 0.0

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Remember the global model the round starts from, then sample."""
        self._global = from_record(arrays)
        self._round_started = time.perf_counter()
        # What a provider needs to hash its own update exactly as the
        # coordinator will, so it can later check the on-chain root itself.
        config[JOB_ID] = self.auditor.job_id
        config[PROVIDER_ADDRESSES] = [str(p.address) for p in self.auditor.providers]
        return super().configure_train(server_round, arrays, config, grid)

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Audit the replies; an all-rejected round keeps the previous model."""
        submissions: list[Submission] = []
        for reply in replies:
            if reply.has_error():
                logger.warning(
                    "round %s: node %s failed: %s",
                    server_round,
                    reply.metadata.src_node_id,
                    reply.error.reason,
                )
                continue
            submission = _submission_from(reply)
            if submission is not None:
                submissions.append(submission)

        aggregate, record = self.auditor.audit_round(
            server_round, self._global, submissions
        )
        record.round_seconds = time.perf_counter() - self._round_started
        if self.on_round is not None:
            self.on_round(record)

        losses = [u.train_loss for u in record.accepted]
        metrics = MetricRecord(
            {
                "accepted": len(record.accepted),
                "rejected": len(record.rejected),
                "train-loss": sum(losses) / len(losses) if losses else float("nan"),
            }
        )
        return to_record(aggregate), metrics


def _submission_from(reply: Message) -> Submission | None:
    """Read a reply's arrays and metrics; ``None`` if it is malformed."""
    content = reply.content
    if (
        ARRAYS_KEY not in content.array_records
        or METRICS_KEY not in content.metric_records
    ):
        logger.warning(
            "reply from node %s lacks arrays or metrics", reply.metadata.src_node_id
        )
        return None
    metrics = content.metric_records[METRICS_KEY]
    partition = metrics.get(PARTITION_ID)
    answered = metrics.get(SERVER_ROUND)
    if not isinstance(partition, int) or not isinstance(answered, int):
        logger.warning(
            "reply from node %s names no provider or no round",
            reply.metadata.src_node_id,
        )
        return None
    loss = metrics.get(TRAIN_LOSS, float("nan"))
    receipt = content.config_records.get(RECEIPT_KEY)
    digest = receipt.get(UPDATE_DIGEST) if receipt is not None else None
    return Submission(
        provider_index=partition,
        arrays=from_record(content.array_records[ARRAYS_KEY]),
        num_examples=metrics.get(NUM_EXAMPLES),
        train_loss=float(loss) if isinstance(loss, int | float) else float("nan"),
        provider_digest=digest if isinstance(digest, bytes) else None,
        server_round=answered,
    )
