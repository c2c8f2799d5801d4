"""agora.market."""
