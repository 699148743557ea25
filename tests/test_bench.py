"""The benchmark suite works (not how fast anything is: tests never assert
timings). `bench --quick` runs once in a subprocess; its JSON must hold every
workload, every implementation that exists must have run and had each of its
results checked, and the chart must be well-formed SVG."""
import json
import subprocess
import sys
import time
import types
import xml.etree.ElementTree as ET

import pytest

import gofutures
from gofutures.bench import cli, runner


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    out, svg = d / "bench.json", d / "bench.svg"
    p = subprocess.run([sys.executable, "-m", "gofutures", "bench", "--quick",
                        "--json", str(out), "--svg", str(svg)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return types.SimpleNamespace(data=json.loads(out.read_text()), svg=svg,
                                 stdout=p.stdout, stderr=p.stderr)


def _has_loky():
    try:
        import loky  # noqa: F401
    except ImportError:
        return False
    return True


def test_every_workload_ran_and_was_checked(quick):
    data = quick.data
    names = [w.name for w in cli.all_workloads()]
    assert [r["name"] for r in data["workloads"]] == names
    has_process_pool = getattr(gofutures, "ProcessPoolExecutor", None) is not None
    for rec in data["workloads"]:
        cols = rec["results"]
        if rec["pair"] == ["gofutures", "stdlib"]:
            expect = {"stdlib": "ok", "gofutures": "ok"}
            if rec["group"] == "process":
                expect["loky"] = "ok" if _has_loky() else "n/a"
        else:   # the cost of an opt-in feature: gofutures with it / without it
            expect = {name: "ok" for name in rec["pair"]}
            assert rec["pair"][1] == "gofutures" and rec["pair"][0].startswith("gofutures+")
        if rec["group"] == "process" and not has_process_pool:
            expect = {k: "n/a" if k.startswith("gofutures") else v for k, v in expect.items()}
        assert {k: c["status"] for k, c in cols.items()} == expect, (rec["name"], cols)
        for c in cols.values():
            if c["status"] == "ok":
                # every sample posted was a checked one, one per round
                assert c["checked"] == len(c["samples"]) == rec["rounds"] == 2
                assert c["best"] <= c["median"] and c["best"] > 0
        if all(cols[name]["status"] == "ok" for name in rec["pair"]):
            r = rec["ratio_gofutures"]
            assert len(r["ratios"]) == 2 and r["lo"] <= r["median"] <= r["hi"]
            if rec["target"]:
                assert rec["verdict"].split(" (")[0] in ("met", "missed")
        if "speedup" in rec.get("note", ""):
            assert rec["serial"]["median"] > 0


def test_floors_and_machine_are_recorded(quick):
    data = quick.data
    for k in ("pipe_rtt", "thread_wake", "pickle_rtt"):
        assert data["floors"][k] > 0
    m = data["machine"]
    assert m["python"] and m["cpu"] and m["date"] and m["start_method"]
    assert data["command"].startswith("python -m gofutures bench --quick")


def test_progress_table_and_chart(quick):
    n = len(quick.data["workloads"])
    progress = [line for line in quick.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == n
    rows = [line for line in quick.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == n + 2  # a header per table (gofutures/stdlib, feature costs), a row each
    assert sum(line.startswith("| opt-in feature cost |") for line in rows) == 1
    root = ET.parse(quick.svg).getroot()
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    for rec in quick.data["workloads"]:
        assert any((t or "").startswith(rec["title"]) for t in texts)


def test_from_json_renders_the_same_table(quick, tmp_path):
    f = tmp_path / "b.json"
    f.write_text(json.dumps(quick.data))
    p = subprocess.run([sys.executable, "-m", "gofutures", "bench", "--from-json", str(f)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    table = [line for line in p.stdout.splitlines() if line.startswith("|")]
    assert table == [line for line in quick.stdout.splitlines() if line.startswith("|")]


def _impls():
    return {"stdlib": types.SimpleNamespace(name="stdlib", Future=1),
            "gofutures": types.SimpleNamespace(name="gofutures", Future=1)}


def test_a_wrong_result_posts_no_figure():
    def sample(impl, n):
        return 1.0, (n if impl.name == "stdlib" else n + 1)
    w = runner.Workload("w", "w", "futures", 3, 3, sample, lambda n: n,
                            target=("ratio<=", 0.5))
    rec = runner.run(w, _impls(), rounds=3, quick=False, timeout=5)
    assert rec["results"]["stdlib"]["status"] == "ok"
    g = rec["results"]["gofutures"]
    assert g["status"] == "failed" and g["samples"] == [] and "wrong result" in g["error"]
    assert rec["ratio_gofutures"] is None and rec["verdict"] == "n/a"


def test_a_feature_cost_is_the_ratio_of_its_own_two_columns():
    def sample(impl, n):
        return {"stdlib": 1.0, "gofutures": 2.0, "gofutures+x": 3.0}[impl.name] * n, n
    impls = dict(_impls(), **{"gofutures+x": types.SimpleNamespace(name="gofutures+x", Future=1)})
    w = runner.Workload("w", "w", "futures", 3, 3, sample, lambda n: n,
                            impls=("gofutures", "gofutures+x"), pair=("gofutures+x", "gofutures"))
    rec = runner.run(w, impls, rounds=2, quick=False, timeout=5)
    assert set(rec["results"]) == {"gofutures", "gofutures+x"}
    assert rec["ratio_gofutures"]["median"] == 1.5 and rec["ratio_loky"] is None


def test_a_hung_sample_times_out_and_fails():
    def sample(impl, n):
        if impl.name == "gofutures":
            time.sleep(30)
        return 1.0, n
    w = runner.Workload("w", "w", "futures", 1, 1, sample, lambda n: n)
    t0 = time.monotonic()
    rec = runner.run(w, _impls(), rounds=1, quick=False, timeout=0.5)
    assert time.monotonic() - t0 < 10
    assert rec["results"]["gofutures"]["status"] == "failed"
    assert rec["results"]["gofutures"]["error"] == "timed out"
    assert rec["results"]["stdlib"]["status"] == "ok"


def test_process_workloads_use_a_gofutures_process_pool_when_there_is_one(monkeypatch):
    # Until gofutures has its own, a stand-in class proves the column is wired:
    # the workload picks gofutures.ProcessPoolExecutor up and checks its results.
    import concurrent.futures as cf

    from gofutures.bench import impls as bench_impls, process_pool
    if getattr(gofutures, "ProcessPoolExecutor", None) is None:
        monkeypatch.setattr(gofutures, "ProcessPoolExecutor", cf.ProcessPoolExecutor,
                            raising=False)
    impls = {"stdlib": bench_impls.stdlib(), "gofutures": bench_impls.gofutures(),
             "loky": None}
    w = next(w for w in process_pool.workloads() if w.name == "process_map_1")
    rec = runner.run(w, impls, rounds=2, quick=True, timeout=60)
    cols = rec["results"]
    assert cols["loky"]["status"] == "n/a"
    assert cols["gofutures"]["status"] == "ok" and cols["gofutures"]["checked"] == 2
    assert rec["ratio_gofutures"] is not None
