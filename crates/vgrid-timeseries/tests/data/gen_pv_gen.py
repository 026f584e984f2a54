#!/usr/bin/env python3
"""Reference for vgrid-timeseries: pv_gen.dss (loads, a generator with P and Q multipliers and a
PV system following load shapes) in yearly mode, 48 hourly steps, tolerance 1e-10.

Writes pv_gen_yearly.csv beside this script. Run with a Python that has OpenDSSDirect.py.
"""
import csv, os
import numpy as np
import opendssdirect as dss

HERE = os.path.dirname(os.path.abspath(__file__))
dss.Text.Command(f'compile "{os.path.join(HERE, "pv_gen.dss")}"')
for c in ["set tolerance=1e-10 maxiterations=1000", "set mode=yearly number=1 stepsize=1h"]:
    dss.Text.Command(c)
rows = []
for k in range(1, 49):
    dss.Solution.Solve()
    vpu = np.asarray(dss.Circuit.AllBusMagPu())
    vpu = vpu[vpu > 0.05]
    p, q = dss.Circuit.TotalPower()
    lw, lv = dss.Circuit.Losses()
    dss.Circuit.SetActiveElement("PVSystem.pv1")
    pv = dss.CktElement.Powers()
    dss.Circuit.SetActiveElement("Generator.g1")
    g = dss.CktElement.Powers()
    rows.append([k, f"{dss.Solution.DblHour():.6f}", int(dss.Solution.Converged()),
                 dss.Solution.Iterations(), dss.Solution.ControlIterations(),
                 f"{-p:.9f}", f"{-q:.9f}", f"{lw/1000:.9f}", f"{lv/1000:.9f}",
                 f"{vpu.min():.10f}", f"{vpu.max():.10f}",
                 f"{-sum(pv[0::2]):.9f}", f"{-sum(g[0::2]):.9f}", f"{-sum(g[1::2]):.9f}"])
with open(os.path.join(HERE, "pv_gen_yearly.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["step", "hour", "converged", "iterations", "control_iterations", "p_source_kw",
                "q_source_kvar", "losses_kw", "losses_kvar", "vpu_min", "vpu_max",
                "p_pv_kw", "p_gen_kw", "q_gen_kvar"])
    w.writerows(rows)
print(dss.Basic.Version().splitlines()[0])
