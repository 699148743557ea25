# gofutures.ThreadPoolExecutor: typeshed's concurrent.futures.thread
# signatures plus max_pending / pending_timeout and context; submit_with_priority(),
# map(buffersize=) and stats() come from _executor.pyi (shared with the process pool).
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as _StdThreadPoolExecutor
from typing import Literal

from typing_extensions import TypeVarTuple, Unpack

from ._executor import _GoExecutor

_Ts = TypeVarTuple("_Ts")

class ThreadPoolExecutor(_GoExecutor, _StdThreadPoolExecutor):
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
