"""Worker-side functions for tests/test_priority.py's process pools:
importable by name in worker processes. The initializer hands each worker
an Event to block on and a Queue to record the order calls start in."""
_gate = _log = None


def init(gate, log):
    global _gate, _log
    _gate, _log = gate, log


def block():
    _log.put("started")
    _gate.wait(60)
    return "blocker"


def record(x):
    _log.put(x)
    return x
