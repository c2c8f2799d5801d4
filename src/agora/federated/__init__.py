"""agora.federated."""
