#!/usr/bin/env python3
"""vgrid vs OpenDSS, snapshot power flow, measured in one run on the same scripts.

For each case:
  read + solve        OpenDSS: `clear`, `compile MASTER` (its own Solve lines run), the case's
                      post-compile commands, `solve`.   vgrid: the same script through a fresh
                      `vgrid::Session` (crates/vgrid/examples/snapshot_timing.rs).
  re-solve after a    one load's kW/kvar alternate between 100 % and 110 %, then a snapshot solve
  load change         (power flow + control loop) from the warm state. OpenDSS is timed at its
                      default tolerance (1e-4) and at 1e-9, the accuracy vgrid always solves to.

Both tools time in-process (time.perf_counter in Python around the OpenDSS calls; std::time in
Rust). Medians of RUNS / RESOLVES repetitions. Prints a table with the ratios and writes
$BENCH_OUT/compare_opendss.json (default ./bench-out).

Usage (from the repository root, with ../shared beside it):
  python3 -m venv .venv-peers && .venv-peers/bin/pip install opendssdirect.py
  cargo build --release -p vgrid --example snapshot_timing
  .venv-peers/bin/python bench/compare_opendss.py [RUNS] [RESOLVES]
"""
import json
import os
import statistics
import subprocess
import sys
import time

import opendssdirect as dss

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
EXE = os.path.join(ROOT, "target", "release", "examples", "snapshot_timing")
OUT = os.environ.get("BENCH_OUT", os.path.join(os.getcwd(), "bench-out"))

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
RESOLVES = int(sys.argv[2]) if len(sys.argv) > 2 else 2000

CASES = {
    # name: (master, post-compile commands from the reference summary, load to change)
    "ieee123": ("feeders/ieee123/IEEE123Master.dss", "ieee123", "s1a"),
    "eulv": ("feeders/eulv/Master.dss", "eulv_snapshot", "load1"),
    "ieee13": ("feeders/ieee13/IEEE13Nodeckt.dss", "ieee13", "671"),
}


def post_commands(ref_case):
    with open(os.path.join(SHARED, "feeders/reference/opendss", ref_case, "summary.json")) as f:
        return json.load(f)["post_compile_commands"]


def opendss_read_solve(master, cmds):
    times = []
    for _ in range(RUNS):
        dss.Text.Command("clear")
        t0 = time.perf_counter()
        dss.Text.Command(f'compile "{master}"')
        for c in cmds:
            dss.Text.Command(c)
        dss.Solution.Solve()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), dss.Solution.Converged(), dss.Circuit.Losses()[0] / 1000


def opendss_resolve(load, tolerance):
    dss.Text.Command(f"set tolerance={tolerance}")
    dss.Solution.Solve()
    dss.Loads.Name(load)
    p0, q0 = dss.Loads.kW(), dss.Loads.kvar()
    times, iters = [], []
    for k in range(RESOLVES):
        f = 1.1 if k % 2 == 0 else 1.0
        t0 = time.perf_counter()
        dss.Loads.Name(load)
        dss.Loads.kW(p0 * f)
        dss.Loads.kvar(q0 * f)
        dss.Solution.Solve()
        times.append(time.perf_counter() - t0)
        iters.append(dss.Solution.Iterations())
    return statistics.median(times), statistics.median(iters)


def vgrid(master, cmds, load):
    r = subprocess.run([EXE, master, str(RUNS), str(RESOLVES), load] + cmds,
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def main():
    if not os.path.exists(EXE):
        sys.exit(f"build first: cargo build --release -p vgrid --example snapshot_timing ({EXE})")
    os.makedirs(OUT, exist_ok=True)
    results = {}
    print(f"{'case':8s} {'nodes':>6s} | {'read+solve: OpenDSS':>20s} {'vgrid':>9s} {'ratio':>6s} | "
          f"{'re-solve: OpenDSS 1e-4':>23s} {'1e-9':>9s} {'vgrid':>9s} {'ratio':>6s} {'ratio@1e-9':>10s}")
    for name, (rel, ref_case, load) in CASES.items():
        master = os.path.join(SHARED, rel)
        cmds = post_commands(ref_case)
        d_rs, d_conv, d_loss = opendss_read_solve(master, cmds)
        d_re, d_it = opendss_resolve(load, 1e-4)
        d_re9, d_it9 = opendss_resolve(load, 1e-9)
        v = vgrid(master, cmds, load)
        res = dict(nodes=v["nodes"], opendss_read_solve_s=d_rs, vgrid_read_solve_s=v["read_solve_s_median"],
                   opendss_resolve_s=d_re, opendss_resolve_iterations=d_it,
                   opendss_resolve_tol1e9_s=d_re9, opendss_resolve_tol1e9_iterations=d_it9,
                   vgrid_resolve_s=v["resolve_s_median"], vgrid_resolve_iterations=v["resolve_iterations_median"],
                   read_solve_ratio=d_rs / v["read_solve_s_median"], resolve_ratio=d_re / v["resolve_s_median"],
                   resolve_ratio_same_accuracy=d_re9 / v["resolve_s_median"],
                   opendss_losses_kw=d_loss, vgrid_losses_kw=v["losses_kw"], runs=RUNS, resolves=RESOLVES)
        results[name] = res
        print(f"{name:8s} {v['nodes']:6d} | {d_rs*1e3:17.2f} ms {v['read_solve_s_median']*1e3:6.2f} ms "
              f"{res['read_solve_ratio']:5.1f}x | {d_re*1e6:20.1f} us {d_re9*1e6:6.1f} us "
              f"{v['resolve_s_median']*1e6:6.1f} us {res['resolve_ratio']:5.1f}x {res['resolve_ratio_same_accuracy']:9.1f}x",
              flush=True)
    engine = dss.Basic.Version().split("\n")[0][:60]
    with open(os.path.join(OUT, "compare_opendss.json"), "w") as f:
        json.dump(dict(opendss=engine, results=results), f, indent=1)
    print(f"OpenDSS: {engine}")


if __name__ == "__main__":
    main()
