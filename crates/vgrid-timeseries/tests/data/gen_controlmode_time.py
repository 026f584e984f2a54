#!/usr/bin/env python3
"""Reference for vgrid-timeseries: IEEE 123 with LoadShape1 in yearly mode, 15-minute steps,
`controlmode=time` (regulator delays run on the simulation clock across steps), tolerance 1e-10.

Writes controlmode_time_ieee123.csv beside this script (columns as OpenDSS's per_step.csv of
../shared/bench/opendss_timeseries.py). Run with a Python that has OpenDSSDirect.py:

    python3 gen_controlmode_time.py [path/to/shared]
"""
import csv, os, sys
import numpy as np
import opendssdirect as dss

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../../../shared")
STEPS = 192  # two days of 15-minute steps, from hour 4000

SETUP = [
    f'compile "{SHARED}/feeders/ieee123/IEEE123Master.dss"',
    "set tolerance=1e-10 maxiterations=1000",
    "solve",
    "Redirect LoadShape1.DSS",
    "batchedit load..* yearly=loadshape1",
    "solve",
    "set mode=yearly",
    "set controlmode=time",
    "set stepsize=15m number=1",
    "set hour=4000",
]

for c in SETUP:
    dss.Text.Command(c)
names = []
i = dss.RegControls.First()
while i:
    names.append(dss.RegControls.Name())
    i = dss.RegControls.Next()
rows = []
for k in range(1, STEPS + 1):
    dss.Solution.Solve()
    vpu = np.asarray(dss.Circuit.AllBusMagPu())
    vpu = vpu[vpu > 0.05]
    p, q = dss.Circuit.TotalPower()
    lw, lv = dss.Circuit.Losses()
    taps = []
    i = dss.RegControls.First()
    while i:
        taps.append(dss.RegControls.TapNumber())
        i = dss.RegControls.Next()
    rows.append([k, f"{dss.Solution.DblHour():.6f}", int(dss.Solution.Converged()),
                 dss.Solution.Iterations(), dss.Solution.ControlIterations(),
                 f"{-p:.9f}", f"{-q:.9f}", f"{lw/1000:.9f}", f"{lv/1000:.9f}",
                 f"{vpu.min():.10f}", f"{vpu.max():.10f}"] + taps)
with open(os.path.join(HERE, "controlmode_time_ieee123.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["step", "hour", "converged", "iterations", "control_iterations", "p_source_kw",
                "q_source_kvar", "losses_kw", "losses_kvar", "vpu_min", "vpu_max"]
               + [f"tap_{n}" for n in names])
    w.writerows(rows)
print(dss.Basic.Version().splitlines()[0])
print(f"{STEPS} steps; control mode during run: {dss.Solution.ControlMode()}")
