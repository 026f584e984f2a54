"""Reference primitive admittance matrices of transformers, computed by OpenDSS.

Run with a Python that has `opendssdirect` (e.g. /work/.venv-peers/bin/python):

    python gen_yprim.py            # writes yprim.json beside this script

For every case the script builds the transformer in OpenDSS from the DSS text kept here,
reads back the parameters as OpenDSS holds them after parsing (so that the Rust tests can
build the same `vgrid_model::Transformer` without an OpenDSS reader), and records
OpenDSS's YPrim (siemens, row-major over all conductors of all terminals; each terminal has
phases + 1 conductors).
"""

import json
import os
import re

import opendssdirect as dss

# (name, base frequency Hz, DSS text defining one transformer named like the case
#  [, solution frequency Hz when it differs from the base frequency])
CASES = [
    # IEEE 13: substation transformer, delta-wye 115/4.16 kV, tiny impedance.
    ("ieee13_sub", 60.0, """
New Transformer.ieee13_sub Phases=3 Windings=2 XHL=(8 1000 /)
~ wdg=1 bus=SourceBus conn=delta kv=115 kva=5000 %r=(.5 1000 /)
~ wdg=2 bus=650 conn=wye kv=4.16 kva=5000 %r=(.5 1000 /)
"""),
    # IEEE 13: single-phase regulator, at the published taps.
    ("ieee13_reg1", 60.0, """
New Transformer.ieee13_reg1 phases=1 bank=reg1 XHL=0.01 kVAs=[1666 1666]
~ Buses=[650.1 RG60.1] kVs=[2.4 2.4] %LoadLoss=0.01
~ Taps=[1.0 1.0625]
"""),
    # IEEE 13: load transformer, wye-wye 4.16/0.48 kV.
    ("ieee13_xfm1", 60.0, """
New Transformer.ieee13_xfm1 Phases=3 Windings=2 XHL=2
~ wdg=1 bus=633 conn=Wye kv=4.16 kva=500 %r=.55
~ wdg=2 bus=634 conn=Wye kv=0.480 kva=500 %r=.55
"""),
    # IEEE 37: substation transformer, delta-delta 230/4.8 kV.
    ("ieee37_subxf", 60.0, """
New Transformer.ieee37_subxf Phases=3 Windings=2 Xhl=8
~ wdg=1 bus=sourcebus conn=Delta kv=230 kva=2500 %r=1
~ wdg=2 bus=799 conn=Delta kv=4.8 kva=2500 %r=1
"""),
    # IEEE 37: open-delta regulator, single-phase delta windings between two phases.
    ("ieee37_reg1a", 60.0, """
new transformer.ieee37_reg1a phases=1 windings=2 bank=reg1 buses=(799.1.2 799r.1.2) conns='delta delta' kvs="4.8 4.8" kvas="2000 2000" XHL=1
"""),
    ("ieee37_reg1c_tapped", 60.0, """
new transformer.ieee37_reg1c_tapped phases=1 windings=2 bank=reg1 buses=(799.3.2 799r.3.2) conns='delta delta' kvs="4.8 4.8" kvas="2000 2000" XHL=1
~ wdg=2 tap=1.0375
"""),
    # IEEE 123: three-phase regulator with ppm=0, and a single-phase one.
    ("ieee123_reg1a", 60.0, """
new transformer.ieee123_reg1a phases=3 windings=2 buses=[150 150r] conns=[wye wye] kvs=[4.16 4.16] kvas=[5000 5000] XHL=.001 %LoadLoss=0.00001 ppm=0.0
"""),
    ("ieee123_reg2a", 60.0, """
new transformer.ieee123_reg2a phases=1 windings=2 bank=reg2 buses=[9.1 9r.1] conns=[wye wye] kvs=[2.402 2.402] kvas=[2000 2000] XHL=.01 %LoadLoss=0.00001 ppm=0.0
~ taps=[1 0.98125]
"""),
    # IEEE 123: load transformer, delta-delta 4.16/0.48 kV.
    ("ieee123_xfm1", 60.0, """
New Transformer.ieee123_xfm1 Phases=3 Windings=2 Xhl=2.72
~ wdg=1 bus=61s conn=Delta kv=4.16 kva=150 %r=0.635
~ wdg=2 bus=610 conn=Delta kv=0.48 kva=150 %r=0.635
"""),
    # European LV test feeder: delta-wye 11/0.416 kV, 50 Hz.
    ("eulv_tr1", 50.0, """
New Transformer.eulv_tr1 Buses=[SourceBus 1] Conns=[Delta Wye] kVs=[11 0.416] kVAs=[800 800] XHL=4 sub=y
"""),
    # Three-winding three-phase, different kVAs, taps on every winding, grounded wye neutrals.
    ("three_winding", 60.0, """
New Transformer.three_winding phases=3 windings=3 buses=[h x t] conns=[wye delta wye]
~ kvs=[115 12.47 4.16] kvas=[20000 10000 5000] %rs=[0.3 0.4 0.5]
~ xhl=7 xht=35 xlt=30 taps=[1.0 1.025 0.975]
~ wdg=1 rneut=0 xneut=0 wdg=3 rneut=2 xneut=1
"""),
    # Single-phase centre-tapped service transformer, as in the IEEE 8500-node feeder.
    ("center_tap", 60.0, """
New Transformer.center_tap phases=1 windings=3 buses=[x.1.0 y.1.0 y.0.2] conns=[wye wye wye]
~ kvs=[7.2 0.12 0.12] kvas=[25 25 25] %rs=[0.6 1.2 1.2] xhl=2.04 xht=2.04 xlt=1.36
~ %noloadloss=0.2 %imag=0.5
"""),
    # No-load loss and magnetising current on a delta-wye transformer.
    ("noload_imag", 60.0, """
New Transformer.noload_imag phases=3 windings=2 buses=[a b] conns=[delta wye] kvs=[12.47 0.48] kvas=[1000 1000]
~ %rs=[0.5 0.7] xhl=5.75 %noloadloss=0.5 %imag=2
"""),
    # Neutral impedances: solidly grounded (0, 0) on winding 1, R + jX on winding 2.
    ("neutral_impedance", 60.0, """
New Transformer.neutral_impedance phases=3 windings=2 buses=[a b] conns=[wye wye] kvs=[13.2 4.16] kvas=[3000 3000]
~ %rs=[0.4 0.4] xhl=6
~ wdg=1 rneut=0 xneut=0
~ wdg=2 rneut=5 xneut=2
"""),
    # Reactance-only neutral on winding 1 (rneut=0, xneut>0), ungrounded winding 2, ppm=5.
    ("neutral_reactance_ppm5", 60.0, """
New Transformer.neutral_reactance_ppm5 phases=3 windings=2 buses=[a b] conns=[wye wye] kvs=[13.2 4.16] kvas=[3000 3000]
~ %rs=[0.4 0.4] xhl=6 ppm_antifloat=5
~ wdg=1 rneut=0 xneut=3
"""),
    # A tap on winding 1.
    ("tap_winding1", 60.0, """
New Transformer.tap_winding1 phases=3 windings=2 buses=[a b] conns=[delta wye] kvs=[12.47 4.16] kvas=[2000 2000]
~ %rs=[0.5 0.5] xhl=6 taps=[1.05 1.0]
"""),
    # Wye high-voltage side, delta low-voltage side (delta lags wye).
    ("wye_delta_stepdown", 60.0, """
New Transformer.wye_delta_stepdown phases=3 windings=2 buses=[a b] conns=[wye delta] kvs=[12.47 4.16] kvas=[1500 1500]
~ %rs=[0.6 0.6] xhl=5
"""),
    # Step-up delta-wye: winding 2 is the high-voltage one.
    ("delta_wye_stepup", 60.0, """
New Transformer.delta_wye_stepup phases=3 windings=2 buses=[a b] conns=[delta wye] kvs=[0.48 13.8] kvas=[2500 2500]
~ %rs=[0.5 0.5] xhl=6 wdg=2 rneut=0
"""),
    # Four windings with an Xsc array (1-2, 1-3, 1-4, 2-3, 2-4, 3-4).
    ("four_winding", 60.0, """
New Transformer.four_winding phases=3 windings=4 buses=[a b c d] conns=[wye wye delta wye]
~ kvs=[69 13.8 4.16 0.48] kvas=[10000 8000 3000 500] %rs=[0.2 0.3 0.4 0.8]
~ xscarray=[8 10 12 7 9 5] taps=[1 1.0125 1 0.9875]
"""),
    # Two-phase transformers (OpenDSS's open-delta conventions for the delta one).
    ("two_phase_wye", 60.0, """
New Transformer.two_phase_wye phases=2 windings=2 buses=[a.1.2 b.1.2] conns=[wye wye] kvs=[12.47 0.48] kvas=[100 100]
~ %rs=[1 1] xhl=3
"""),
    ("two_phase_delta", 60.0, """
New Transformer.two_phase_delta phases=2 windings=2 buses=[a.1.2 b.1.2] conns=[delta wye] kvs=[12.47 0.48] kvas=[100 100]
~ %rs=[1 1] xhl=3
"""),
    # Single-phase wye-wye at 50 Hz with different %r per winding.
    ("single_phase_50hz", 50.0, """
New Transformer.single_phase_50hz phases=1 windings=2 buses=[a.1 b.1] kvs=[6.35 0.23] kvas=[50 50]
~ %rs=[1.1 0.9] xhl=4 %noloadloss=0.3 %imag=1.5 wdg=2 rneut=0
"""),
    # Solved at a harmonic: reactances (leakage, neutral) scale with frequency, the
    # magnetising susceptance inversely, resistances not at all.
    ("harmonic_180hz", 60.0, """
New Transformer.harmonic_180hz phases=3 windings=3 buses=[a b c] conns=[wye delta wye] kvs=[13.2 4.16 0.48] kvas=[3000 2000 1000]
~ %rs=[0.4 0.5 0.6] xhl=6 xht=9 xlt=4 %noloadloss=0.4 %imag=2
~ wdg=1 rneut=1 xneut=3 wdg=3 rneut=0 xneut=0.5
""", 180.0),
]


def per_winding(n):
    out = []
    for w in range(1, n + 1):
        dss.Transformers.Wdg(w)
        out.append(
            {
                "conn": "delta" if dss.Transformers.IsDelta() else "wye",
                "kv": dss.Transformers.kV(),
                "kva": dss.Transformers.kVA(),
                "pct_r": dss.Transformers.R(),
                "r_neutral_ohm": dss.Transformers.Rneut(),
                "x_neutral_ohm": dss.Transformers.Xneut(),
                "tap_pu": dss.Transformers.Tap(),
            }
        )
    return out


def prop(name, p):
    dss.Text.Command(f"? transformer.{name}.{p}")
    return dss.Text.Result()


def numbers(text):
    return [float(x) for x in re.findall(r"[-+0-9.eE]+", text) if re.search(r"[0-9]", x)]


def run_case(name, freq, text, solve_freq=None):
    dss.Text.Command("clear")
    dss.Text.Command(f"set DefaultBaseFrequency={freq}")
    dss.Text.Command("new circuit.yprimtest basekv=115 bus1=sourcebus")
    for line in text.strip().splitlines():
        dss.Text.Command(line)
    dss.Circuit.SetActiveElement(f"Transformer.{name}")
    # Make sure the primitive matrix is (re)built with the final parameters.
    dss.Text.Command("set mode=snapshot")
    if solve_freq is not None:
        dss.Text.Command(f"set frequency={solve_freq}")
    dss.Solution.BuildYMatrix(1, 1)
    dss.Transformers.Name(name)
    nw = dss.Transformers.NumWindings()
    dss.Circuit.SetActiveElement(f"Transformer.{name}")
    phases = dss.CktElement.NumPhases()
    nconds = dss.CktElement.NumConductors()
    y = dss.CktElement.YPrim()
    n = nw * nconds
    assert len(y) == 2 * n * n, (name, len(y), n)
    case = {
        "name": name,
        "dss": text.strip(),
        "base_frequency_hz": freq,
        "phases": phases,
        "conductors_per_terminal": nconds,
        "windings": per_winding(nw),
        "x_sc_pct": numbers(prop(name, "xscarray")),
        "pct_noload_loss": float(prop(name, "%noloadloss")),
        "pct_imag": float(prop(name, "%imag")),
        "ppm_antifloat": float(prop(name, "ppm_antifloat")),
        "yprim_re": y[0::2],
        "yprim_im": y[1::2],
    }
    if solve_freq is not None:
        case["solve_frequency_hz"] = solve_freq
    return case


def main():
    out = {
        "generator": "gen_yprim.py",
        "opendss": dss.Basic.Version(),
        "cases": [run_case(*c) for c in CASES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "yprim.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
