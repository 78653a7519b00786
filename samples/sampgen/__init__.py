"""scanvault synthetic sample generator (see docs/samples.md)."""
