# What gofutures' two executors add alike to the stdlib's: submit_with_priority(),
# map(buffersize=) on every Python, and stats(). A stub-only base (type_check_only):
# at run time each class defines these itself, on the stdlib's executor class.
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, SupportsIndex, TypeVar, type_check_only

from typing_extensions import ParamSpec

from ._stats import PoolStats

_T = TypeVar("_T")
_P = ParamSpec("_P")

@type_check_only
class _GoExecutor(Executor):
    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]: ...
    def submit_with_priority(
        self, priority: SupportsIndex, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Future[_T]: ...
    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
        buffersize: int | None = None,
    ) -> Iterator[_T]: ...
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...
    def stats(self) -> PoolStats: ...
