#!/usr/bin/env python3
"""Compare vgrid with OpenDSS on public feeders that are not in ../shared.

    /work/.venv-peers/bin/python bench/extra_feeders.py /work/extra-feeders [--vgrid target/release/vgrid]
           [--only NAME ...] [--repeat 3] [--json out.json]

FOLDER holds one sub-folder per feeder, reconstructed from public repositories (see FEEDERS
below and docs/validation.md, "Feeders beyond ../shared"); the feeder files are never part of
this repository. For each feeder the script

1. writes `_bench_master.dss` beside the feeder's master script: the master with its `Solve`,
   `Show`, `Plot`, `Export`, `Buscoords`, ... lines commented out (both engines read this same
   file, so relative redirects keep working);
2. runs OpenDSS (opendssdirect): `clear`, `compile _bench_master.dss`, the feeder's extra
   commands, `set tolerance=1e-10 maxiterations=1000`, `solve`, and records every bus node's
   voltage, the losses, the source power, the regulator taps, the capacitor states and the
   compile and solve times;
3. runs `vgrid solve _bench_master.dss -c <extra commands> -c "set tolerance=1e-10
   maxiterations=1000" --json --voltages ...` and records the same;
4. prints one table row per feeder: nodes, max |dV| in pu of the node's base voltage, max
   angle difference (nodes above 1e-3 pu), loss difference, taps and capacitor states equal?,
   times (OpenDSS compile + solve inside the process; vgrid wall time of the whole CLI run,
   parse included, best of --repeat runs).
"""
import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

# name -> how to run it. `master` is relative to FOLDER/<folder> (folder defaults to the name).
FEEDERS = {
    "ieee8500": {
        "title": "IEEE 8500-node test feeder (balanced loads)",
        "source": "tshort/OpenDSS Distrib/IEEETestCases/8500-Node/{Master,Lines,Transformers,Regulators,"
        "LoadXfmrCodes,Triplex_Linecodes}.dss; NREL/ditto tests/data/big_cases/open_dss/8500-Node/"
        "{LineCodes2.DSS,Loads.dss,Triplex_Lines.DSS,CapControls.DSS}; NREL/ditto "
        "tests/data/big_cases/opendss/ieee_8500node/Capacitors.dss",
        "features": "split-phase centre-tapped 3-winding service transformers (1177), triplex secondaries, "
        "4 regulator banks (12 RegControls), 10 capacitors with kvar/voltage CapControls, open switches, "
        "12.47 kV primary, 115 kV source reactor",
        "master": "Master.dss",
        "commands": [],
    },
    "4bus_dy_bal": {
        "title": "IEEE 4-bus, delta / grounded-wye step-down, balanced load",
        "source": "dss-extensions/electricdss-tst Version8/Distrib/IEEETestCases/4Bus-DY-Bal/4Bus-DY-Bal.DSS",
        "features": "WireData + LineGeometry (Carson earth, neutral Kron-reduced), Dyg transformer, model=1 "
        "load with vminpu=0.75",
        "master": "4Bus-DY-Bal.DSS",
        "commands": [],
    },
    "4bus_grdyd_bal": {
        "title": "IEEE 4-bus, grounded-wye / delta step-down, balanced delta load",
        "source": "dss-extensions/electricdss-tst Version8/Distrib/IEEETestCases/4Bus-GrdYD-Bal/4Bus-GrdYD-Bal.DSS",
        "features": "LineGeometry (Carson), YgD transformer with explicit neutral node 0, delta load",
        "master": "4Bus-GrdYD-Bal.DSS",
        "commands": [],
    },
    "4bus_yyd": {
        "title": "Kersting YDY (OpenDSS YYD) test: three 1-phase 3-winding transformers",
        "source": "dss-extensions/electricdss-tst Version8/Distrib/IEEETestCases/4Bus-YYD/YYD-Master.DSS "
        "(up to its first Solve)",
        "features": "XfmrCode, 3-winding 1-phase units banked Y-Y-delta, 4-wire and 3-wire LineGeometry "
        "(Carson), unbalanced 1-phase loads, model=2 delta load",
        "master": "YYD-Master.DSS",
        "commands": [],
        "stop_at_solve": True,
    },
    "4bus_yyd_fault": {
        "title": "same YYD case, its scripted SLG fault at B2 solved in direct mode, loads disabled",
        "source": "as 4bus_yyd (the script's own fault commands, given as extra commands)",
        "features": "Fault element, batchedit, direct solution",
        "folder": "4bus_yyd",
        "master": "YYD-Master.DSS",
        "commands": ["New Fault.SLGFault phases=1 Bus1=B2.1 Bus2=B2.0", "Batchedit Load..* Enabled=no",
                     "set mode=direct"],
        "stop_at_solve": True,
    },
    "dg_prot_fdr": {
        "title": "DG protection feeder: 34.5/12.47 kV, wind plant as a second Vsource behind a Dyn step-up",
        "source": "dss-extensions/electricdss-tst Version8/Distrib/IEEETestCases/DG_Protection/DG_Prot_Fdr.dss "
        "(without its final Fault and open of transformer.tg)",
        "features": "LineGeometry built from LineSpacing + wires (Deri earth), 1-phase geometry lateral, two "
        "Vsources (second one at -60 deg with X0=1e99), Dyn transformers, disabled Recloser/Fuse/Relay, TCC curves",
        "master": "DG_Prot_Fdr.dss",
        "commands": [],
        "comment_out": [r"\s*new\s+fault\.", r"\s*open\s+transformer\.tg\b"],
    },
    "dg_prot_fdr_open": {
        "title": "same feeder with the script's `open transformer.tg 2` (wind source islanded on its own bus)",
        "source": "as dg_prot_fdr (without the Fault)",
        "features": "open transformer terminal, an islanded Vsource",
        "folder": "dg_prot_fdr",
        "master": "DG_Prot_Fdr.dss",
        "commands": [],
        "comment_out": [r"\s*new\s+fault\."],
    },
}

DROP = re.compile(
    r"^\s*(solve|show|plot|export|visualize|buscoords|latloncoords|summary|help|closedi|interpolate|fileedit"
    r"|set\s+(markercode|nodewidth|showexport|datapath|demandinterval|overloadreport|voltexceptionreport)\b)",
    re.I,
)
TIGHT = "set tolerance=1e-10 maxiterations=1000"


def bench_master(folder, master, stop_at_solve=False, comment_out=(), replace=()):
    """Write _bench_master.dss beside `master` with the non-electrical lines commented out
    (and, with `stop_at_solve`, everything from the first Solve on; lines matching a
    `comment_out` pattern too; `replace`: (pattern, replacement) applied to every line)."""
    src = os.path.join(folder, master)
    dst = os.path.join(os.path.dirname(src), "_bench_master.dss")
    out, stopped = [], False
    extra = [re.compile(p, re.I) for p in comment_out]
    with open(src, newline="") as f:
        for line in f.read().splitlines():
            for pat, rep in replace:
                line = re.sub(pat, rep, line, flags=re.I)
            if stop_at_solve and re.match(r"^\s*solve\b", line, re.I):
                stopped = True
            drop = stopped or DROP.match(line) or any(p.match(line) for p in extra)
            out.append(("! [bench] " + line) if drop else line)
    with open(dst, "w", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return dst


def run_opendss(master, commands):
    import opendssdirect as dss

    dss.Text.Command("clear")
    t0 = time.perf_counter()
    dss.Text.Command(f'compile "{master}"')
    t_compile = time.perf_counter() - t0
    for c in commands:
        dss.Text.Command(c)
    dss.Text.Command(TIGHT)
    t0 = time.perf_counter()
    dss.Text.Command("solve")
    t_solve = time.perf_counter() - t0
    volts = {}
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        nodes = dss.Bus.Nodes()
        va = dss.Bus.VMagAngle()
        base = dss.Bus.kVBase()
        for i, n in enumerate(nodes):
            volts[(bus.lower(), n)] = (va[2 * i], va[2 * i + 1], base)
    taps = {}
    if dss.RegControls.Count():
        dss.RegControls.First()
        while True:
            taps[dss.RegControls.Name().lower()] = dss.RegControls.TapNumber()
            if not dss.RegControls.Next():
                break
    caps = {}
    if dss.Capacitors.Count():
        dss.Capacitors.First()
        while True:
            caps[dss.Capacitors.Name().lower()] = [bool(s) for s in dss.Capacitors.States()]
            if not dss.Capacitors.Next():
                break
    losses = dss.Circuit.Losses()
    power = dss.Circuit.TotalPower()
    return {
        "converged": bool(dss.Solution.Converged()),
        "iterations": dss.Solution.Iterations(),
        "control_iterations": dss.Solution.ControlIterations(),
        "buses": dss.Circuit.NumBuses(),
        "nodes": dss.Circuit.NumNodes(),
        "losses_kw": losses[0] / 1e3,
        "losses_kvar": losses[1] / 1e3,
        "source_kw": -power[0],
        "source_kvar": -power[1],
        "taps": taps,
        "caps": caps,
        "volts": volts,
        "t_compile": t_compile,
        "t_solve": t_solve,
    }


def run_vgrid(exe, master, commands, repeat):
    with tempfile.TemporaryDirectory() as tmp:
        vcsv = os.path.join(tmp, "v.csv")
        args = [exe, "solve", os.path.basename(master)]
        for c in commands + [TIGHT]:
            args += ["-c", c]
        args += ["--json", "--voltages", vcsv]
        best, res = math.inf, None
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            p = subprocess.run(args, cwd=os.path.dirname(master), capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if p.returncode != 0:
                return {"error": (p.stderr or p.stdout).strip()[:2000], "t_wall": dt}
            best = min(best, dt)
            res = p.stdout
        summary = json.loads(res)
        volts = {}
        with open(vcsv) as f:
            for r in csv.DictReader(f):
                volts[(r["bus"].lower(), int(r["node"]))] = (
                    float(r["vmag_v"]),
                    float(r["vang_deg"]),
                    float(r["vbase_ln_kv"]),
                )
    return {
        "converged": summary.get("converged"),
        "iterations": summary.get("iterations"),
        "control_iterations": summary.get("control_iterations"),
        "losses_kw": summary.get("losses_kw"),
        "losses_kvar": summary.get("losses_kvar"),
        "source_kw": summary.get("source_kw"),
        "source_kvar": summary.get("source_kvar"),
        "taps": {t["reg_control"].lower(): t["tap_number"] for t in summary.get("taps", [])},
        "caps": {n.lower(): list(s) for n, s in summary.get("capacitor_states", [])},
        "volts": volts,
        "t_wall": best,
        "status": summary.get("status"),
    }


def compare(ref, ours):
    max_dv, worst_dv, max_da, worst_da, missing = 0.0, "", 0.0, "", []
    max_dv_live, max_da_live, low = 0.0, 0.0, 0  # nodes at >= 0.1 pu; below, floating or dead
    for key, (vm, va, base) in ref["volts"].items():
        o = ours["volts"].get(key)
        if o is None:
            missing.append(f"{key[0]}.{key[1]}")
            continue
        vb = base * 1000.0 if base > 0 else max(vm, 1.0)  # Bus.kVBase is line-to-neutral
        # as crates/vgrid/tests/it/opendss_cases.rs: magnitude difference in pu of the node's base
        # (the CLI writes angles with 6 decimals, 1e-6 deg = 1.7e-8 rad, too coarse for a phasor
        # difference at this level); angles are compared separately below
        dv = abs(o[0] - vm) / vb
        if dv > max_dv:
            max_dv, worst_dv = dv, f"{key[0]}.{key[1]}"
        if vm / vb >= 0.1:
            max_dv_live = max(max_dv_live, dv)
        else:
            low += 1
        if vm / vb > 1e-3:
            da = abs((o[1] - va + 180.0) % 360.0 - 180.0)
            if da > max_da:
                max_da, worst_da = da, f"{key[0]}.{key[1]}"
            if vm / vb >= 0.1:
                max_da_live = max(max_da_live, da)
    tap_diff = {k: (ours["taps"].get(k), v) for k, v in ref["taps"].items() if ours["taps"].get(k) != v}
    cap_diff = {k: (ours["caps"].get(k), v) for k, v in ref["caps"].items() if ours["caps"].get(k) != v}
    return {
        "nodes": len(ref["volts"]),
        "missing": missing,
        "max_dv_pu": max_dv,
        "worst_dv": worst_dv,
        "max_dv_live_pu": max_dv_live,
        "low_nodes": low,
        "max_dang_deg": max_da,
        "worst_dang": worst_da,
        "max_dang_live_deg": max_da_live,
        "dloss_kw": ours["losses_kw"] - ref["losses_kw"],
        "dloss_rel": (ours["losses_kw"] - ref["losses_kw"]) / ref["losses_kw"] if ref["losses_kw"] else 0.0,
        "tap_diff": tap_diff,
        "cap_diff": cap_diff,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--vgrid", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "vgrid"))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="write every figure to this file")
    a = ap.parse_args()
    exe = os.path.abspath(a.vgrid)
    rows, everything = [], {}
    for name, cfg in FEEDERS.items():
        if a.only and name not in a.only:
            continue
        folder = os.path.join(a.folder, cfg.get("folder", name))
        if not os.path.isdir(folder):
            print(f"[skip] {name}: no folder {folder}", file=sys.stderr)
            continue
        master = bench_master(
            folder, cfg["master"], cfg.get("stop_at_solve", False), cfg.get("comment_out", ()), cfg.get("replace", ())
        )
        try:
            ref = run_opendss(master, cfg.get("commands", []))
        except Exception as e:  # a feeder OpenDSS itself cannot run is reported, not fatal
            print(f"[opendss error] {name}: {e}", file=sys.stderr)
            continue
        ours = run_vgrid(exe, master, cfg.get("commands", []), a.repeat)
        if "error" in ours:
            print(f"[vgrid error] {name}: {ours['error']}", file=sys.stderr)
            rows.append((name, ref, None, None))
            everything[name] = {"opendss": {k: v for k, v in ref.items() if k != "volts"}, "vgrid_error": ours["error"]}
            continue
        c = compare(ref, ours)
        rows.append((name, ref, ours, c))
        everything[name] = {
            "opendss": {k: v for k, v in ref.items() if k != "volts"},
            "vgrid": {k: v for k, v in ours.items() if k != "volts"},
            "comparison": c,
        }
    hdr = ("| feeder | buses / nodes | max abs dV (pu), all nodes | max abs dV, nodes >= 0.1 pu | max dangle (deg), nodes >= 0.1 pu / all | losses kW vgrid / OpenDSS (rel. diff) "
           "| taps equal | caps equal | OpenDSS compile + solve (s) | vgrid CLI wall (s) |")
    print(hdr)
    print("|" + "---|" * 10)
    for name, ref, ours, c in rows:
        if ours is None:
            print(f"| {name} | {ref['buses']} / {ref['nodes']} | vgrid error | | | | | | "
                  f"{ref['t_compile']:.3f} + {ref['t_solve']:.3f} | |")
            continue
        taps = "yes" if not c["tap_diff"] else "NO " + ", ".join(f"{k} {o}/{r}" for k, (o, r) in c["tap_diff"].items())
        caps = "yes" if not c["cap_diff"] else "NO " + ", ".join(c["cap_diff"])
        miss = f" ({len(c['missing'])} nodes missing)" if c["missing"] else ""
        print(
            f"| {name} | {ref['buses']} / {ref['nodes']}{miss} | {c['max_dv_pu']:.1e} ({c['worst_dv']}) "
            f"| {c['max_dv_live_pu']:.1e} ({c['low_nodes']} below) "
            f"| {c['max_dang_live_deg']:.1e} / {c['max_dang_deg']:.1e} | {ours['losses_kw']:.4f} / {ref['losses_kw']:.4f} ({c['dloss_rel']:.1e}) "
            f"| {taps} | {caps} | {ref['t_compile']:.3f} + {ref['t_solve']:.3f} | {ours['t_wall']:.3f} |"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(everything, f, indent=1, default=str)


if __name__ == "__main__":
    main()
