"""Tooling behind `python -m gofutures demo|top` (not the runtime)."""
