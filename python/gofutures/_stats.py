"""Pool statistics: executor.stats() and gofutures.stats().

The figures are counted in Go (core/stats: a few atomic operations per task,
no Python) and read here through the gopy-generated bindings of
core/stats/statsapi (gofutures._gopy), which are compiled into gofutures'
one extension. Nothing in this module runs per task.

Each reading is a consistent snapshot:
completed + failed + cancelled + running + queued == submitted.
A task counts as running from the moment a worker takes it from the queue
until that worker is done with it (result set, done-callbacks run); a task
cancelled while queued counts as queued until a worker (or shutdown) takes
it out, then as cancelled.
"""
import weakref
from dataclasses import dataclass

from . import _fork

__all__ = ("Latency", "PoolStats", "stats")

# In a child forked after the Go engine was loaded, reading statistics
# would enter Go, which may hang there (_fork.py). Pools made in such a
# child are the stdlib's, which count nothing; the parent's figures are
# not the child's. So every reading raises this, as using a pre-fork
# gofutures object does (cshim/fork.h).
FORKED_MSG = ("gofutures statistics are not available in a process forked after the Go "
              "engine was loaded (the engine does not survive fork; pools made here run "
              "on the stdlib's concurrent.futures, which keeps no statistics)")

# Pool cores whose name Go does not know yet. Naming goes through the gopy
# module, whose first import is not free: it is done when statistics are
# first read, not when each executor is made. Weak: a pool gone before
# then needs no name.
_unnamed = weakref.WeakKeyDictionary()


def _api():
    if _fork.active:
        raise RuntimeError(FORKED_MSG)
    # Imported on first use: it loads the Go engine (see _ext.py).
    from ._gopy import statsapi
    while _unnamed:
        try:
            core, name = _unnamed.popitem()
        except KeyError:   # emptied meanwhile
            break
        statsapi.SetName(core.stats_id(), name)
    return statsapi


def _fmt_seconds(s):
    if s == 0:
        return "0"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return "%.3g%s" % (s / scale, unit)
    return "%.3gns" % (s / 1e-9)


@dataclass(frozen=True)
class Latency:
    """Latency percentiles of the tasks measured so far, in seconds. They
    come from a fixed-memory log-bucket histogram: each is within 6.25%
    above the exact value, capped at the exact max; p50 <= p90 <= p99 <= max."""
    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    def __repr__(self):
        if not self.count:
            return "Latency(count=0)"
        return "Latency(count=%d, p50=%s, p90=%s, p99=%s, max=%s)" % (
            self.count, _fmt_seconds(self.p50), _fmt_seconds(self.p90),
            _fmt_seconds(self.p99), _fmt_seconds(self.max))


@dataclass(frozen=True)
class PoolStats:
    """A consistent snapshot of one pool (kind 'thread' or 'process') or of
    every pool of the process (kind 'all').

    wait: from submit until a worker takes the task (or it leaves the queue).
    run: from then until the worker is done with it.
    workers_replaced: workers that left an open pool (max_tasks_per_child,
        max_worker_memory);
    workers_died: workers that exited abnormally (process pools).
    queue_high_water: the longest the queue has been (for 'all': the longest
    of any one pool)."""
    kind: str
    name: str
    submitted: int
    queued: int
    running: int
    completed: int
    failed: int
    cancelled: int
    workers_alive: int
    workers_started: int
    workers_replaced: int
    workers_died: int
    queue_high_water: int
    wait: Latency
    run: Latency

    def __repr__(self):
        name = " %r" % self.name if self.name else ""
        return ("<PoolStats %s%s: submitted=%d queued=%d running=%d completed=%d failed=%d "
                "cancelled=%d | workers alive=%d started=%d replaced=%d died=%d | "
                "queue high-water=%d | wait %s | run %s>" % (
                    self.kind, name, self.submitted, self.queued, self.running, self.completed,
                    self.failed, self.cancelled, self.workers_alive, self.workers_started,
                    self.workers_replaced, self.workers_died, self.queue_high_water,
                    _lat_brief(self.wait), _lat_brief(self.run)))


def _lat_brief(l):
    if not l.count:
        return "-"
    return "p50=%s p90=%s p99=%s max=%s" % (
        _fmt_seconds(l.p50), _fmt_seconds(l.p90), _fmt_seconds(l.p99), _fmt_seconds(l.max))


def _latency(s, prefix):
    g = lambda field: getattr(s, prefix + field)  # noqa: E731
    return Latency(count=g("Count"), mean=g("Mean") / 1e9, p50=g("P50") / 1e9,
                   p90=g("P90") / 1e9, p99=g("P99") / 1e9, max=g("Max") / 1e9)


def _convert(s):
    """A statsapi.Snapshot (gopy wrapper over a Go value copied once) to a
    PoolStats; every field is read from that one copy."""
    return PoolStats(
        kind=s.Kind, name=s.Name, submitted=s.Submitted, queued=s.Queued, running=s.Running,
        completed=s.Completed, failed=s.Failed, cancelled=s.Cancelled,
        workers_alive=s.WorkersAlive, workers_started=s.WorkersStarted,
        workers_replaced=s.WorkersReplaced, workers_died=s.WorkersDied,
        queue_high_water=s.QueueHighWater, wait=_latency(s, "Wait"), run=_latency(s, "Run"))


def stats():
    """Process-wide totals over every gofutures pool, live or gone."""
    return _convert(_api().Read(0))


def pool_stats(stats_id):
    """The snapshot of the live pool with that id (an executor's core)."""
    s = _api().Read(stats_id)
    if not s.ID:
        raise LookupError("no live pool with statistics id %d" % stats_id)
    return _convert(s)


def executor_stats(core):
    """executor.stats(): the snapshot of its core's pool. core is None for
    a pool made in a forked child (the stdlib's); a core made before the
    fork refuses in C (cshim/fork.h)."""
    if core is None:
        raise RuntimeError(FORKED_MSG)
    return pool_stats(core.stats_id())


def live_pools():
    """Snapshots of the live pools, oldest first, as (id, PoolStats)."""
    api = _api()
    out = []
    for i in list(api.LivePools()):
        s = api.Read(i)
        if s.ID:   # closed since listed
            out.append((i, _convert(s)))
    return out


def name_pool(core, name):
    """Names a pool's core (shown by `python -m gofutures top`), lazily."""
    _unnamed[core] = name


_COLUMNS = ("pool", "kind", "submit", "queue", "run", "done", "fail", "cancel", "hiwat",
            "workers", "wait p50/p99", "run p50/p99")


def format_table(rows):
    """A text table of (id, PoolStats) rows, plus a total line if given with
    id None."""
    lines = []
    cells = []
    for i, s in rows:
        label = "total" if i is None else ("#%d %s" % (i, s.name)).strip()
        cells.append((label[:28], s.kind, s.submitted, s.queued, s.running, s.completed, s.failed,
                      s.cancelled, s.queue_high_water, s.workers_alive,
                      "%s/%s" % (_fmt_seconds(s.wait.p50), _fmt_seconds(s.wait.p99)) if s.wait.count else "-",
                      "%s/%s" % (_fmt_seconds(s.run.p50), _fmt_seconds(s.run.p99)) if s.run.count else "-"))
    widths = [max([len(str(c[k])) for c in cells] + [len(_COLUMNS[k])]) for k in range(len(_COLUMNS))]

    def line(vals):
        return "  ".join(str(v).ljust(w) if k < 2 else str(v).rjust(w)
                         for k, (v, w) in enumerate(zip(vals, widths))).rstrip()
    lines.append(line(_COLUMNS))
    lines.extend(line(c) for c in cells)
    return "\n".join(lines)
