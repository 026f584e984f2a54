#!/usr/bin/env python3
"""Reference for vgrid-timeseries' storage and PV temperature model, from OpenDSS.

For each case (script, mode, steps, step size) it solves the time series one step at a time at
tolerance 1e-10 and writes storage_<case>.csv beside this script: per step the hour, the
source power, every storage element's terminal kW and kvar (discharging positive) and its kWh
after the step, every PV system's kW, and every node's voltage magnitude in pu.

Run with a Python that has OpenDSSDirect.py (optionally naming the cases to regenerate):
    /work/.venv-peers/bin/python gen_storage.py [follow peakshave valley regulated loadshape]
The controllers monitor lines, or one phase of a transformer: OpenDSS's GetPhasePower leaves
the entry of a grounded conductor (a delta winding's 4th conductor) unset, so MonPhase=max
or avg on such a terminal reads whatever memory holds (see vgrid_timeseries::storage).
"""
import csv, os
import opendssdirect as dss

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    ("follow", "storage_follow.dss", "daily", 48, "1h"),
    ("peakshave", "storage_peakshave.dss", "daily", 192, "15m"),
    ("valley", "storage_valley.dss", "daily", 96, "30m"),
    ("regulated", "storage_regulated.dss", "daily", 96, "15m"),
    ("loadshape", "storage_loadshape.dss", "daily", 96, "30m"),
]


def powers(kind, name):
    dss.Circuit.SetActiveElement(f"{kind}.{name}")
    p = dss.CktElement.Powers()
    n = dss.CktElement.NumConductors()
    return -sum(p[0:2 * n:2]), -sum(p[1:2 * n:2])


def variable(name, var):
    dss.Circuit.SetActiveElement(f"Storage.{name}")
    d = dict(zip(dss.CktElement.AllVariableNames(), dss.CktElement.AllVariableValues()))
    return d[var]


import sys
ONLY = sys.argv[1:]  # case names to regenerate (default: all)
for case, script, mode, steps, stepsize in CASES:
    if ONLY and case not in ONLY:
        continue
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{os.path.join(HERE, script)}"')
    dss.Text.Command("set tolerance=1e-10 maxiterations=1000")
    dss.Text.Command(f"set mode={mode} number=1 stepsize={stepsize}")
    storages = [n.split(".", 1)[1] for n in dss.Circuit.AllElementNames() if n.lower().startswith("storage.")]
    pvs = [n.split(".", 1)[1] for n in dss.Circuit.AllElementNames() if n.lower().startswith("pvsystem.")]
    nodes = [n.lower() for n in dss.Circuit.AllNodeNames()]
    header = ["step", "hour", "control_iterations", "p_source_kw", "q_source_kvar"]
    for s in storages:
        header += [f"{s}.kw", f"{s}.kvar", f"{s}.kwh"]
    header += [f"{p}.kw" for p in pvs]
    header += nodes
    rows = []
    taps = []
    for k in range(1, steps + 1):
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        p, q = dss.Circuit.TotalPower()
        row = [k, f"{dss.Solution.DblHour():.6f}", dss.Solution.ControlIterations(),
               f"{-p:.10f}", f"{-q:.10f}"]
        for s in storages:
            kw, kvar = powers("Storage", s)
            row += [f"{kw:.10f}", f"{kvar:.10f}", f"{variable(s, 'kWh'):.10f}"]
        for pv in pvs:
            row.append(f"{powers('PVSystem', pv)[0]:.10f}")
        row += [f"{v:.12f}" for v in dss.Circuit.AllBusMagPu()]
        taps.append(dss.RegControls.TapNumber() if dss.RegControls.First() else 0)
        rows.append(row)
    with open(os.path.join(HERE, f"storage_{case}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    print(case, len(rows), "steps; regulator taps", min(taps), "..", max(taps))
print(dss.Basic.Version().splitlines()[0])
