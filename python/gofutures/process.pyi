# gofutures.ProcessPoolExecutor: typeshed's concurrent.futures.process
# signatures plus task_timeout / max_pending / pending_timeout / max_worker_memory,
# submit_with_timeout(), terminate_workers(), kill_workers() (as 3.14's);
# submit_with_priority(), map(buffersize=) and stats() come from _executor.pyi
# (shared with the thread pool).
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ProcessPoolExecutor as _StdProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool as BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import TypeVar

from typing_extensions import ParamSpec, TypeVarTuple, Unpack

from ._executor import _GoExecutor

_T = TypeVar("_T")
_P = ParamSpec("_P")
_Ts = TypeVarTuple("_Ts")

class ProcessPoolExecutor(_GoExecutor, _StdProcessPoolExecutor):
    def __init__(
        self,
        max_workers: int | None = None,
        mp_context: BaseContext | None = None,
        initializer: Callable[[Unpack[_Ts]], object] | None = None,
        initargs: tuple[Unpack[_Ts]] = ...,
        *,
        max_tasks_per_child: int | None = None,
        task_timeout: float | None = None,
        max_pending: int | None = None,
        pending_timeout: float | None = None,
        max_worker_memory: int | None = None,
    ) -> None: ...
    def submit_with_timeout(
        self, timeout: float | None, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Future[_T]: ...
    def terminate_workers(self) -> None: ...
    def kill_workers(self) -> None: ...
