"""agora.vault."""
