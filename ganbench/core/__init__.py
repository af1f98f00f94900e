"""Foundations every stage shares: errors, atomic file writes, the name registry,
plugin loading and the run record format. Nothing here imports a later stage."""
