"""Reference primitive matrices of OpenDSS voltage sources, for vgrid-network's prim::source tests.

Run with a Python that has opendssdirect.py:
    python gen_yprim.py > yprim.json
Each case records the source parameters in vgrid-model units, OpenDSS's YPrim (row-major,
[re, im, ...]) and the EMF behind the impedance (the open-circuit voltages at bus1, nodes 1..n,
read from a solution with nothing else connected).
"""
import json

import opendssdirect as dss

CASES = [
    # name, default base frequency, script creating the source (circuit or extra vsource), element
    ("ieee13", 60, "new circuit.c basekv=115 pu=1.0001 phases=3 bus1=sourcebus angle=30 MVAsc3=20000 MVAsc1=21000",
     dict(phases=3, base_kv=115, pu=1.0001, angle_deg=30, frequency_hz=60,
          impedance=dict(kind="mva", mva_sc3=20000, mva_sc1=21000, x1_r1=4, x0_r0=3))),
    ("eulv", 50, "new circuit.c\nedit vsource.source basekv=11 pu=1.05 isc3=3000 isc1=5",
     dict(phases=3, base_kv=11, pu=1.05, angle_deg=0, frequency_hz=50,
          impedance=dict(kind="isc", isc3_a=3000, isc1_a=5, x1_r1=4, x0_r0=3))),
    ("one_phase_mva", 60, "new circuit.c phases=1 basekv=2.4 pu=1.02 angle=-10 mvasc3=100 mvasc1=90 x1r1=6 x0r0=2.5",
     dict(phases=1, base_kv=2.4, pu=1.02, angle_deg=-10, frequency_hz=60,
          impedance=dict(kind="mva", mva_sc3=100, mva_sc1=90, x1_r1=6, x0_r0=2.5))),
    ("one_phase_ohm", 60, "new circuit.c phases=1 basekv=7.2 pu=0.98 angle=5 r1=0.3 x1=1.7 r0=0.9 x0=4.2",
     dict(phases=1, base_kv=7.2, pu=0.98, angle_deg=5, frequency_hz=60,
          impedance=dict(kind="ohm", r1_ohm=0.3, x1_ohm=1.7, r0_ohm=0.9, x0_ohm=4.2))),
    ("three_phase_ohm", 60, "new circuit.c basekv=12.47 pu=1.03 r1=0.5 x1=2.0 r0=1.2 x0=6.0",
     dict(phases=3, base_kv=12.47, pu=1.03, angle_deg=0, frequency_hz=60,
          impedance=dict(kind="ohm", r1_ohm=0.5, x1_ohm=2.0, r0_ohm=1.2, x0_ohm=6.0))),
    ("three_phase_pu", 60, "new circuit.c basekv=69 pu=1.0 basemva=50 puZ1=[0.01, 0.1] puZ0=[0.02, 0.25]",
     dict(phases=3, base_kv=69, pu=1.0, angle_deg=0, frequency_hz=60,
          impedance=dict(kind="pu", r1_pu=0.01, x1_pu=0.1, r0_pu=0.02, x0_pu=0.25, base_mva=50))),
    ("two_phase_mva", 60, "new circuit.c phases=2 basekv=13.2 pu=1.01 angle=15 mvasc3=500 mvasc1=400",
     dict(phases=2, base_kv=13.2, pu=1.01, angle_deg=15, frequency_hz=60,
          impedance=dict(kind="mva", mva_sc3=500, mva_sc1=400, x1_r1=4, x0_r0=3))),
]


def flat(values):
    return [float(v) for v in values]


def main():
    out = []
    for name, base_hz, script, params in CASES:
        dss.Text.Command("clear")
        dss.Text.Command(f"set defaultbasefrequency={base_hz}")
        for line in script.splitlines():
            dss.Text.Command(line)
        dss.Text.Command("set tolerance=1e-12")
        dss.Text.Command("solve")
        dss.Circuit.SetActiveElement("Vsource.source")
        yprim = flat(dss.CktElement.YPrim())
        dss.Circuit.SetActiveBus("sourcebus")
        emf = flat(dss.Bus.Voltages())
        out.append(dict(name=name, params=params, yprim=yprim, emf_v=emf))
    write_json(out)


def write_json(cases):
    """One case per line, so diffs stay readable and the Rust tests can find a case by name."""
    print("{")
    print(f' "generator": "gen_yprim.py",')
    print(f' "opendss": {json.dumps(dss.Basic.Version().splitlines()[0])},')
    print(' "cases": [')
    print(",\n".join("  " + json.dumps(c) for c in cases))
    print(" ]")
    print("}")


if __name__ == "__main__":
    main()
