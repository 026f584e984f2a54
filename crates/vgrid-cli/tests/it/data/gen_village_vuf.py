"""Voltage unbalance factor of every three-phase bus of the bundled village at its design
evening peak (examples/village/Master.dss: step 19958 of the year, hour 4989.5), from
OpenDSS's sequence voltages: VUF = |V2| / |V1| x 100 %.

Run from the repository root:
    /work/.venv-peers/bin/python crates/vgrid-cli/tests/it/data/gen_village_vuf.py
writes crates/vgrid-cli/tests/it/data/village_vuf_peak.json (read by
tests/it/timeseries.rs::voltage_unbalance_matches_opendss).
"""
import json
import os

import opendssdirect as dss

here = os.path.dirname(os.path.abspath(__file__))
village = os.path.join(here, "..", "..", "..", "..", "..", "examples", "village")
cwd = os.getcwd()
os.chdir(village)
dss.Text.Command("clear")
dss.Text.Command("redirect Master.dss")
dss.Text.Command("set tolerance=1e-10 maxiterations=1000")
dss.Text.Command("solve")
os.chdir(cwd)
assert dss.Solution.Converged()
vuf = {}
for b in dss.Circuit.AllBusNames():
    dss.Circuit.SetActiveBus(b)
    nodes = set(dss.Bus.Nodes())
    if not {1, 2, 3} <= nodes:
        continue
    s = dss.Bus.SeqVoltages()
    vuf[b] = 100.0 * s[2] / s[1]
out = {
    "source": "OpenDSS " + dss.Basic.Version().split("\n")[0],
    "script": "examples/village/Master.dss, set tolerance=1e-10",
    "hour_h": 4989.5,
    "vuf_pct": vuf,
}
with open(os.path.join(here, "village_vuf_peak.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
print(len(vuf), "three-phase buses; highest", max(vuf.items(), key=lambda kv: kv[1]))
