"""The provider side: a Flower ``ClientApp`` around a :class:`LocalTrainer`.

The trainer is the application's (the X-ray CNN, the credit model); this
module only moves weights in and out of Flower messages. The trainer must
be picklable: the simulation runs each ClientApp in its own worker process.
"""

from typing import Protocol, runtime_checkable

from flwr.app import ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from agora.federated.arrays import Arrays, from_record, to_record, update_digest
from agora.federated.strategy import (
    ARRAYS_KEY,
    CONFIG_KEY,
    JOB_ID,
    METRICS_KEY,
    NUM_EXAMPLES,
    PARTITION_ID,
    PROVIDER_ADDRESSES,
    RECEIPT_KEY,
    SERVER_ROUND,
    TRAIN_LOSS,
    UPDATE_DIGEST,
)

TOTAL_ROUNDS = "num-rounds"


class LocalTrainer(Protocol):
    """Trains the global model on one provider's local data."""

    def train(
        self,
        arrays: Arrays,
        *,
        partition_id: int,
        server_round: int,
        total_rounds: int,
    ) -> tuple[Arrays, int, float]:
        """Return the new arrays, the number of examples and the mean loss."""
        ...


@runtime_checkable
class RoundTagger(Protocol):
    """A trainer that names the round its reply answers by itself.

    Only fault injection does this (:mod:`agora.federated.faults`, a
    provider out of step with the coordinator); an honest ClientApp
    answers the round it was asked, and the coordinator rejects any other
    (``wrong-round``).
    """

    def reply_round(self, *, partition_id: int, server_round: int) -> int:
        """The round to tag this provider's reply with."""
        ...


def make_client_app(trainer: LocalTrainer) -> ClientApp:
    """A ClientApp whose ``train`` handler runs ``trainer`` on its partition."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        config = msg.content.config_records[CONFIG_KEY]
        partition_id = int(str(context.node_config[PARTITION_ID]))
        server_round = int(str(config[SERVER_ROUND]))
        arrays, num_examples, loss = trainer.train(
            from_record(msg.content.array_records[ARRAYS_KEY]),
            partition_id=partition_id,
            server_round=server_round,
            total_rounds=int(str(config[TOTAL_ROUNDS])),
        )
        answered = server_round
        if isinstance(trainer, RoundTagger):
            answered = trainer.reply_round(
                partition_id=partition_id, server_round=server_round
            )
        metrics = MetricRecord(
            {
                NUM_EXAMPLES: num_examples,
                PARTITION_ID: partition_id,
                TRAIN_LOSS: loss,
                SERVER_ROUND: answered,
            }
        )

        # The provider hashes what it sends, bound to the round it answers,
        # and keeps the receipt: with the coordinator's inclusion proof it
        # checks the on-chain root itself.
        addresses = config[PROVIDER_ADDRESSES]
        digest = update_digest(
            arrays,
            job_id=int(str(config[JOB_ID])),
            server_round=answered,
            provider=str(addresses[partition_id])
            if isinstance(addresses, list)
            else "",
        )
        receipt = ConfigRecord({UPDATE_DIGEST: digest})
        content = RecordDict(
            {ARRAYS_KEY: to_record(arrays), METRICS_KEY: metrics, RECEIPT_KEY: receipt}
        )
        return Message(content=content, reply_to=msg)

    return app
