"""The benchmark suite behind `python -m gofutures bench` (tooling, not the
runtime; see benchmarks/README.md). Empty on purpose: process-pool workers
import gofutures.bench.tasks, and must not pull in the rest of the suite."""
