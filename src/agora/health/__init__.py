"""agora.health."""
