"""Errors of the market layer."""

from agora.errors import AgoraError, DataError


class MarketError(AgoraError):
    """Root of the market layer's errors."""


class InvalidJobSpecError(MarketError, ValueError):
    """A training job spec is malformed or self-contradictory."""


class JobFailedError(MarketError):
    """A job could not be carried through; the message says at which step."""


class AuditError(MarketError):
    """A job cannot be audited; the message says why."""


class JobNotFoundError(AuditError, LookupError):
    """No job with this id was ever posted."""


class JobNotFinalizedError(AuditError):
    """The job is not finalised: there is nothing settled to audit yet."""


class ManifestNotPublishedError(AuditError, LookupError):
    """The job was finalised without an audit manifest on chain."""


class ArtifactMissingError(AuditError, DataError, LookupError):
    """A published artifact is not in the store; the message names it."""


class ArtifactCorruptError(AuditError, DataError):
    """A block's bytes do not match its CID; the message names the artifact."""


class ArtifactMalformedError(AuditError, DataError):
    """An artifact's bytes are not what its kind must be (canonical arrays,
    a round record, a manifest); the message names it."""


class AuditMismatchError(AuditError):
    """An audit ran to the end and found mismatches; the message names the
    first (round and provider) and how many there are."""


class NothingConsentedError(MarketError):
    """No record a provider holds is covered by its owners' consent for the
    job's purpose: there is nothing it may train on."""


class NotIncludedError(MarketError, LookupError):
    """A record is not in a provider's inclusion set (its owner's consent
    did not cover the job), so no inclusion proof exists for it."""


class MissingInclusionError(MarketError):
    """A provider of a consent-scoped job declared no inclusion on chain."""
