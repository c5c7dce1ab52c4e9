"""Proving the layer works: import probes and smoke scripts, differential diagnosis, trace."""
