# Mistakes the type information must catch: each line marked `# E` is one
# mypy error (tests/test_packaging.py::test_mypy_user_code). Not collected.
from gofutures import ProcessPoolExecutor, ThreadPoolExecutor


def square(x: int) -> int:
    return x * x


ex = ThreadPoolExecutor(max_pending="ten")  # E
ex.submit(square, "3")  # E
r: str = ex.submit(square, 3).result()  # E
ex.map(square, [1], buffersize="2")  # E
ex.submit_with_priority("high", square, 1)  # E
ex.stats().no_such_field  # E
pp = ProcessPoolExecutor(task_timeout="1s")  # E
pp.submit_with_timeout(1.0, square, 1, 2)  # E
pp.kill_workers(True)  # E
pp.submit_with_priority(0, square, "1")  # E
pp.map(square, [1], buffersize="2")  # E
ProcessPoolExecutor(max_worker_memory=1.5e9)  # E
