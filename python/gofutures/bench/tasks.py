"""Task functions for the benchmark suite's process pools.

Top-level and importing only the stdlib, so that workers started with
spawn/forkserver (and loky's) can unpickle them without loading gofutures'
engine.
"""
import hashlib


def square(x):
    return x * x


def noop():
    return None


def burn(n):
    """Pure-Python CPU work: holds the GIL for the whole call."""
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1_000_003
    return acc


def sha256(buf):
    """GIL-releasing CPU work (hashlib drops the GIL for large buffers)."""
    return hashlib.sha256(buf).digest()
