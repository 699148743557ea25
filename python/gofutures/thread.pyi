# gofutures.ThreadPoolExecutor: typeshed's concurrent.futures.thread
# signatures plus max_pending / pending_timeout, context, submit_with_priority(),
# map(buffersize=), stats().
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as _StdThreadPoolExecutor
from typing import Any, Literal, SupportsIndex, TypeVar

from typing_extensions import ParamSpec, TypeVarTuple, Unpack

from ._stats import PoolStats

_T = TypeVar("_T")
_P = ParamSpec("_P")
_Ts = TypeVarTuple("_Ts")

class ThreadPoolExecutor(_StdThreadPoolExecutor):
    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        initializer: Callable[[Unpack[_Ts]], object] | None = None,
        initargs: tuple[Unpack[_Ts]] = ...,
        *,
        max_pending: int | None = None,
        pending_timeout: float | None = None,
        context: Literal["copy"] | None = None,
    ) -> None: ...
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
