"""Runs one workload on every implementation, interleaved, and checks it.

Each round runs every implementation once (the order flips every round:
A B, B A, ...), so slow drift of a shared, noisy machine hits both columns
alike. Pools are opened and warmed before the first round and closed after
the last, outside the clock. A sample whose result differs from the
expected value, raises, or overruns its time limit marks that implementation
"failed" for the workload and drops all its samples: a broken implementation
posts no figure at all.
"""
import gc
import signal
import statistics
import time


class Workload:
    """One benchmark. `sample(ctx, n)` returns (measure, value): measure is
    seconds (or bytes for kind="bytes") for n operations, timed by the
    workload itself around the part that is the point; value is compared
    with `expected(n)`."""

    def __init__(self, name, title, group, n, quick_n, sample, expected,
                 open=None, close=None, kind="seconds", per="task",
                 target=None, floor=None, serial=None, impls=None, pair=None, note=""):
        self.name = name
        self.title = title
        self.group = group            # thread | process | futures | memory
        self.n = n
        self.quick_n = quick_n
        self.sample = sample
        self.expected = expected
        self.open = open or (lambda impl, n: impl)
        self.close = close or (lambda ctx: None)
        self.kind = kind
        self.per = per
        self.target = target          # ("ratio<=", x) or ("speedup>=stdlib", 1.0)
        self.floor = floor            # floors, n -> (value per op, description)
        self.serial = serial          # n -> (seconds, value): the one-thread baseline
        self.impls = impls or ("stdlib", "gofutures")
        # The ratio reported: pair[0]'s time over pair[1]'s, paired per round.
        # gofutures/stdlib, except for the cost of an opt-in feature
        # (e.g. gofutures with task_timeout / gofutures without).
        self.pair = pair or ("gofutures", "stdlib")
        self.note = note

    def needs(self, impl):
        """The attribute the workload needs from an implementation."""
        return {"thread": "ThreadPoolExecutor", "process": "ProcessPoolExecutor",
                "futures": "Future", "memory": "ThreadPoolExecutor"}[self.group]


class SampleTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise SampleTimeout()


class _alarm:
    """Raises SampleTimeout in the main thread after `seconds` (gofutures'
    and the stdlib's blocking waits both run signal handlers)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        return False


def _describe(exc):
    if isinstance(exc, SampleTimeout):
        return "timed out"
    return "%s: %s" % (type(exc).__name__, exc)


def run(w, impls, rounds, quick, timeout):
    """Runs workload w; impls maps name -> namespace (None: not installed).
    Returns the workload's JSON record."""
    n = w.quick_n if quick else w.n
    expected = w.expected(n)
    cols = {}
    ctxs = {}
    for name in w.impls:
        impl = impls.get(name)
        if impl is None or getattr(impl, w.needs(impl), None) is None:
            cols[name] = {"status": "n/a", "samples": [], "checked": 0}
            continue
        cols[name] = {"status": "ok", "samples": [], "checked": 0}
        try:
            with _alarm(timeout):
                ctxs[name] = w.open(impl, n)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            cols[name].update(status="failed", error="open: " + _describe(e))
    serial = [] if w.serial else None
    live = [name for name in w.impls if cols[name]["status"] == "ok"]
    for r in range(rounds):
        if serial is not None:
            gc.collect()
            secs, value = w.serial(n)
            if value != expected:
                raise AssertionError("%s: the serial baseline is wrong" % w.name)
            serial.append(secs / n)
        for name in (live if r % 2 == 0 else live[::-1]):
            col = cols[name]
            if col["status"] != "ok":
                continue
            gc.collect()
            try:
                with _alarm(timeout):
                    measure, value = w.sample(ctxs[name], n)
            except Exception as e:  # noqa: BLE001
                col.update(status="failed", error=_describe(e), samples=[])
                continue
            if value != expected:
                col.update(status="failed", samples=[],
                           error="wrong result: %r, expected %r" % (_short(value), _short(expected)))
                continue
            col["samples"].append(measure / n)
            col["checked"] += 1
    for name, ctx in ctxs.items():
        try:
            with _alarm(timeout):
                w.close(ctx)
        except Exception as e:  # noqa: BLE001
            cols[name].setdefault("error", "close: " + _describe(e))
            cols[name]["status"] = "failed"
            cols[name]["samples"] = []
    return _record(w, n, rounds, cols, serial)


def _short(v):
    r = repr(v)
    return r if len(r) < 80 else r[:77] + "..."


def _record(w, n, rounds, cols, serial):
    for col in cols.values():
        s = col["samples"]
        if s and col["status"] == "ok":
            col["median"] = statistics.median(s)
            col["best"] = min(s)
    rec = {"name": w.name, "title": w.title, "group": w.group, "n": n, "rounds": rounds,
           "kind": w.kind, "per": w.per, "note": w.note,
           "target": list(w.target) if w.target else None, "pair": list(w.pair),
           "results": cols}
    if serial is not None:
        rec["serial"] = {"samples": serial, "median": statistics.median(serial),
                         "best": min(serial)}
        for col in cols.values():
            if "median" in col:
                col["speedup"] = rec["serial"]["median"] / col["median"]
    rec["ratio_gofutures"] = _paired(cols.get(w.pair[0]), cols.get(w.pair[1]))
    rec["ratio_loky"] = _paired(cols.get("loky"), cols.get("stdlib"))
    rec["verdict"] = _verdict(w, rec)
    return rec


def _paired(a, b):
    """a/b per round (same round = same machine conditions): the median and
    the range of the per-round ratios."""
    if not a or not b or "median" not in a or "median" not in b:
        return None
    ratios = [x / y for x, y in zip(a["samples"], b["samples"])]
    return {"median": statistics.median(ratios), "lo": min(ratios), "hi": max(ratios),
            "ratios": ratios}


def _verdict(w, rec):
    ratio = rec.get("ratio_gofutures")
    if not w.target:
        return None
    if ratio is None:
        return "n/a"
    met = ratio["median"] <= w.target[1]
    if ratio["lo"] <= w.target[1] < ratio["hi"]:
        return ("met" if met else "missed") + " (range spans the target)"
    return "met" if met else "missed"


def timed(fn):
    """(seconds, value) of fn()."""
    t0 = time.perf_counter()
    v = fn()
    return time.perf_counter() - t0, v
