"""Thin entry point: the suite ships inside the package (gofutures.bench),
so `python -m gofutures bench ...` and `python benchmarks/run.py ...` are the
same command."""
import sys

from gofutures.bench.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
