# Type information for gofutures: the signatures of typeshed's
# concurrent.futures stubs, plus gofutures' additions (see _executor.pyi for
# what both executors add, thread.pyi, process.pyi, and _stats.py, whose
# dataclasses carry their own annotations).
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future as _StdFuture
from concurrent.futures._base import (
    ALL_COMPLETED as ALL_COMPLETED,
    FIRST_COMPLETED as FIRST_COMPLETED,
    FIRST_EXCEPTION as FIRST_EXCEPTION,
    BrokenExecutor as BrokenExecutor,
    CancelledError as CancelledError,
    DoneAndNotDoneFutures,
    Executor as Executor,
    InvalidStateError as InvalidStateError,
    TimeoutError as TimeoutError,
)
from concurrent.futures.process import BrokenProcessPool as BrokenProcessPool
from concurrent.futures.thread import BrokenThreadPool as BrokenThreadPool
from typing import Literal, TypeVar

from ._stats import Latency as Latency, PoolStats as PoolStats
from .process import ProcessPoolExecutor as ProcessPoolExecutor
from .thread import ThreadPoolExecutor as ThreadPoolExecutor

__version__: str

_T = TypeVar("_T")

class Future(_StdFuture[_T]):
    """The Go engine's Future: a concurrent.futures.Future subclass."""

def wait(
    fs: Iterable[_StdFuture[_T]],
    timeout: float | None = None,
    return_when: Literal["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"] = "ALL_COMPLETED",
) -> DoneAndNotDoneFutures[_T]: ...
def as_completed(fs: Iterable[_StdFuture[_T]], timeout: float | None = None) -> Iterator[_StdFuture[_T]]: ...
def stats() -> PoolStats:
    """Process-wide totals over every gofutures pool, live or gone."""

def install() -> None: ...
def uninstall() -> None: ...
def installed() -> bool: ...

__all__ = (
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "ALL_COMPLETED",
    "CancelledError",
    "TimeoutError",
    "InvalidStateError",
    "BrokenExecutor",
    "BrokenThreadPool",
    "Future",
    "Executor",
    "wait",
    "as_completed",
    "ThreadPoolExecutor",
    "ProcessPoolExecutor",
    "install",
    "uninstall",
    "stats",
    "PoolStats",
    "Latency",
)
