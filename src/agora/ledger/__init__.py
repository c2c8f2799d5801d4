"""agora.ledger."""
