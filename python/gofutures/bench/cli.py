"""python -m gofutures bench [--quick] [--json FILE] [--svg FILE] [--only NAME ...]
                            [--rounds R] [--timeout S] [--list]
python -m gofutures bench --from-json FILE [--svg FILE]

The benchmark suite: every workload runs the stdlib's concurrent.futures and
gofutures (and loky's ProcessPoolExecutor for the process workloads, when
installed) in turn inside one run, checks every result, and reports per
implementation the median and best over the rounds, and the paired ratio
gofutures/stdlib (median and range of the per-round ratios). The floors this
machine allows (pipe round trip, thread wake-up, pickle round trip) are
measured in the same run. A progress line per workload goes to stderr; the
Markdown table to stdout.

  --quick        small sizes, 2 rounds: shows the suite works (for CI), not speed
  --json FILE    write every sample and statistic as JSON
  --svg FILE     write the chart (from the same data)
  --only NAME    run only these workloads (names from --list; a prefix works:
                 --only thread)
  --rounds R     rounds per workload (default 5; --quick: 2)
  --timeout S    limit per sample; over it, the implementation is marked failed
  --from-json F  no run: print the table (and --svg) of a saved result
"""
import argparse
import datetime
import json
import os
import platform
import sys
import warnings

from . import futures, memory, process_pool, report, runner, thread_pool
from .floors import measure as measure_floors
from .impls import by_name as impl_by_name


def all_workloads():
    return (thread_pool.workloads() + futures.workloads()
            + process_pool.workloads() + memory.workloads())


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return "%s × %d" % (line.split(":", 1)[1].strip(), os.cpu_count())
    except OSError:
        pass
    return "%s × %d" % (platform.processor() or platform.machine(), os.cpu_count())


def _machine(impls):
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "gofutures": impls["gofutures"].version,
        "gofutures_process_pool": impls["gofutures"].ProcessPoolExecutor is not None,
        "loky": impls["loky"].version if impls.get("loky") else None,
        "start_method": process_pool.start_method(),
        "load": os.getloadavg(),
    }


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m gofutures bench",
                                description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small sizes, 2 rounds: shows the suite works (CI), not speed")
    p.add_argument("--json", metavar="FILE", help="write every sample and statistic as JSON")
    p.add_argument("--svg", metavar="FILE", help="write the chart")
    p.add_argument("--only", nargs="+", default=[], metavar="NAME",
                   help="run only these workloads (a prefix works: --only thread)")
    p.add_argument("--rounds", type=int, help="rounds per workload (default 5; --quick: 2)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="limit per sample; over it the implementation is marked failed")
    p.add_argument("--list", action="store_true", help="list the workloads")
    p.add_argument("--from-json", metavar="FILE",
                   help="no run: print the table (and --svg) of a saved result")
    return p.parse_args(argv)


def _selected(only):
    ws = all_workloads()
    if not only:
        return ws
    chosen = [w for w in ws if any(w.name == o or w.name.startswith(o) for o in only)]
    unknown = [o for o in only if not any(w.name.startswith(o) for w in ws)]
    if unknown:
        raise SystemExit("unknown workload(s): %s (see --list)" % ", ".join(unknown))
    return chosen


def _progress(i, total, rec):
    parts = []
    for name, col in rec["results"].items():
        if col["status"] == "ok":
            parts.append("%s %s" % (name, report.fmt_value(col["median"], rec["kind"])))
        else:
            parts.append("%s %s" % (name, col["status"].upper() if col["status"] != "n/a"
                                    else "n/a"))
    r = rec.get("ratio_gofutures")
    what = "ratio" if rec["pair"] == ["gofutures", "stdlib"] else "/".join(rec["pair"])
    f = report.fmt_ratio
    ratio = ("%s %s (%s–%s)" % (what, f(r["median"]), f(r["lo"]), f(r["hi"]))) if r else what + " n/a"
    print("[%2d/%d] %-22s %s  %s%s" % (i, total, rec["name"], "  ".join(parts), ratio,
                                       "  " + rec["verdict"] if rec.get("verdict") else ""),
          file=sys.stderr, flush=True)


def _emit(data, args):
    print(report.header(data))
    print()
    print(report.table(data))
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(report.svg(data))


def main(argv):
    args = _parse(argv)
    if args.list:
        for w in all_workloads():
            print("%-22s %s" % (w.name, w.title))
        return 0
    if args.from_json:
        with open(args.from_json) as f:
            _emit(json.load(f), args)
        return 0
    # Workers forked after the engine loaded make 3.12+ warn; the stdlib's
    # fork-based pool is still what this machine's users get by default.
    warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                            category=DeprecationWarning)
    workloads = _selected(args.only)
    rounds = args.rounds or (2 if args.quick else 5)
    timeout = args.timeout or (60.0 if args.quick else 120.0)
    print("floors ...", file=sys.stderr, flush=True)
    floors = measure_floors(args.quick)   # before the engine is loaded
    names = {"stdlib", "gofutures", "loky"}.union(*(w.impls for w in workloads))
    impls = {name: impl_by_name(name) for name in sorted(names)}
    data = {"command": "python -m gofutures bench " + " ".join(argv),
            "quick": args.quick, "rounds": rounds, "machine": _machine(impls),
            "floors": floors, "workloads": []}
    for i, w in enumerate(workloads, 1):
        rec = runner.run(w, impls, rounds, args.quick, timeout)
        if w.floor:
            value, what = w.floor(floors, rec["n"])
            rec["floor"] = {"value": value, "what": what}
        data["workloads"].append(rec)
        _progress(i, len(workloads), rec)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    _emit(data, args)
    failed = [r["name"] for r in data["workloads"]
              if any(c["status"] == "failed" for c in r["results"].values())]
    if failed:
        print("FAILED (wrong result, error or timeout): %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0
