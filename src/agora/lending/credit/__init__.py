"""The joint credit model: the Taiwan credit-default table, three lending
platforms, one small MLP trained federated.

Each platform holds the train rows of one age band (:func:`partition_by_age`,
with a seeded tenth crossing over), the job's buyer holds the validation
split, and the test split serves the final report only
(:func:`split_holdout`). Features follow fixed rules except the numeric
standardisation, which is fitted from the platforms' summed moments
(:func:`fit_encoder`), never from pooled rows. :class:`CreditNet` is trained
with :func:`train_local` per platform and round; :func:`train_centralized`
runs the same schedule on the pooled rows as the baseline.

The defaults form the measured recipe: 20 rounds of one local epoch with
:class:`CreditTrainConfig`'s defaults on :data:`DEFAULT_SHARES`. Over seeds
0-3 and 7 the federated model scored test AUC 0.769-0.786 (mean 0.779), its
centralised baseline 0.772-0.786 (mean 0.779), and gradient boosting on the
same rows 0.767-0.784; see ``benchmarks/README.md``.
"""

from agora.lending.credit.data import (
    CSV_NAME,
    DEFAULT_SHARES,
    CreditSplits,
    CreditTable,
    PartitionRow,
    PlatformShare,
    describe_partition,
    load_credit_table,
    partition_by_age,
    split_holdout,
)
from agora.lending.credit.features import (
    CreditEncoder,
    Moments,
    fit_encoder,
    local_moments,
)
from agora.lending.credit.model import (
    CreditNet,
    CreditTrainConfig,
    auc,
    build_model,
    load_state_arrays,
    predict_proba,
    state_to_arrays,
    train_centralized,
    train_local,
)

__all__ = [
    "CSV_NAME",
    "DEFAULT_SHARES",
    "CreditEncoder",
    "CreditNet",
    "CreditSplits",
    "CreditTable",
    "CreditTrainConfig",
    "Moments",
    "PartitionRow",
    "PlatformShare",
    "auc",
    "build_model",
    "describe_partition",
    "fit_encoder",
    "load_credit_table",
    "load_state_arrays",
    "local_moments",
    "partition_by_age",
    "predict_proba",
    "split_holdout",
    "state_to_arrays",
    "train_centralized",
    "train_local",
]
