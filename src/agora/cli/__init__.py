"""agora.cli."""
