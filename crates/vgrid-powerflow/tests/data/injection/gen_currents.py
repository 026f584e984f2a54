"""Reference currents of loads, generators and PV systems, computed by OpenDSS.

Each case is a stiff source -> short, lossy 3-phase line -> bus `b` holding one element under test
(plus a 1-phase constant-Z background load on phase 2 to unbalance the voltages). The circuit is
solved with `set tolerance=1e-12 maxiterations=100`, then the element's conductor voltages,
terminal currents (into the element) and YPrim are recorded.

vgrid's unit tests (crates/vgrid-powerflow/src/injection/) feed the recorded voltages to
`Injection::currents` and compare with OpenDSS's currents; the suite does not need OpenDSS.

Run:  /work/.venv-peers/bin/python gen_currents.py   (writes currents.json beside this file)
"""
import json
import math
import os

import opendssdirect as dss

SKIPPED = []
SOURCE_PU = [0.4, 0.7, 0.88, 0.93, 1.0, 1.13]

# (phases, conn, bus spec, kV) for the element under test; bus `b` is 3-phase 12.47 kV.
CONNECTIONS = [
    (1, "wye", "b.1", 7.2),
    (1, "wye", "b.3.4", 7.2),  # neutral on a floating node
    (1, "delta", "b.1.2", 12.47),
    (2, "wye", "b.1.3", 12.47),
    (2, "delta", "b.1.2.3", 12.47),  # open delta
    (3, "wye", "b.1.2.3", 12.47),
    (3, "wye", "b.1.2.3.4", 12.47),  # floating neutral
    (3, "delta", "b.1.2.3", 12.47),
]

XY_PT = {"name": "pt", "x": [0.0, 25.0, 75.0, 100.0], "y": [1.2, 1.0, 0.8, 0.6]}
XY_EFF = {"name": "eff", "x": [0.1, 0.2, 0.4, 1.0], "y": [0.86, 0.9, 0.93, 0.97]}


def cplx_list(flat):
    return [[flat[k], flat[k + 1]] for k in range(0, len(flat), 2)]


def solve_case(element_cmd, element_name, source_pu, load_mult=1.0, extra=()):
    dss.Text.Command("clear")
    dss.Text.Command(
        f"new circuit.inj basekv=12.47 pu={source_pu} phases=3 bus1=src mvasc3=1e7 mvasc1=1e7"
    )
    dss.Text.Command(
        "new line.feeder bus1=src bus2=b phases=3 r1=0.3 x1=0.6 r0=0.9 x0=1.8 c1=0 c0=0 "
        "length=1 units=km"
    )
    dss.Text.Command("new load.background bus1=b.2 phases=1 kv=7.2 kw=150 kvar=50 model=2")
    for c in (
        f"new xycurve.{XY_PT['name']} npts=4 xarray={XY_PT['x']} yarray={XY_PT['y']}",
        f"new xycurve.{XY_EFF['name']} npts=4 xarray={XY_EFF['x']} yarray={XY_EFF['y']}",
    ):
        dss.Text.Command(c.replace(",", " "))
    for c in extra:
        dss.Text.Command(c)
    dss.Text.Command(element_cmd)
    dss.Text.Command("set voltagebases=[12.47]")
    dss.Text.Command("calcv")
    dss.Text.Command(f"set loadmult={load_mult}")
    dss.Text.Command("set tolerance=1e-12 maxiterations=100")
    dss.Text.Command("solve")
    dss.Circuit.SetActiveElement(element_name)
    return {
        "converged": bool(dss.Solution.Converged()),
        "voltages": cplx_list(dss.CktElement.Voltages()),
        "currents": cplx_list(dss.CktElement.Currents()),
        "yprim": cplx_list(dss.CktElement.YPrim()),
    }


def element_case(kind, name, params, load_mult, element_cmd, element_name):
    """One element, solved at every source voltage; YPrim (nominal, voltage-independent) kept once."""
    runs = []
    yprim = None
    for pu in SOURCE_PU:
        res = solve_case(element_cmd, element_name, pu, load_mult)
        yprim = res.pop("yprim")
        runs.append({"source_pu": pu, **res})
    # A solve that did not converge (floating neutrals at very low voltage, ...) is not a
    # reference: drop it, and count it in the summary.
    SKIPPED.extend((name, r["source_pu"]) for r in runs if not r["converged"])
    runs = [r for r in runs if r["converged"]]
    return {"kind": kind, "name": name, "load_mult": load_mult, "params": params,
            "yprim": yprim, "runs": runs}


def dss_value(v):
    if isinstance(v, list):
        return "[" + " ".join(str(x) for x in v) + "]"
    return str(v)


def load_cases():
    cases = []
    variants = [
        ({"model": m}, 1.0) for m in (1, 2, 3, 5, 6, 7)
    ] + [
        ({"model": 4, "cvrwatts": 0.8, "cvrvars": 3.0}, 1.0),
        ({"model": 4, "cvrwatts": 1.0, "cvrvars": 2.0}, 1.0),
        ({"model": 4, "cvrwatts": 0.6, "cvrvars": 2.5}, 1.0),
        ({"model": 8, "zipv": [0.2, 0.3, 0.5, 0.1, 0.3, 0.6, 0.0]}, 1.0),
        ({"model": 8, "zipv": [0.5, 0.25, 0.25, 0.4, 0.4, 0.2, 0.8]}, 1.0),
        ({"model": 8, "zipv": [0.2, 0.3, 0.5, 0.1, 0.3, 0.6, 0.1]}, 1.0),
        ({"model": 1, "vminpu": 0.9, "vmaxpu": 1.1}, 1.0),
        ({"model": 5, "vminpu": 0.85, "vmaxpu": 1.02}, 1.0),
        ({"model": 1, "status": "variable"}, 1.3),
        ({"model": 1, "status": "fixed"}, 1.3),
        ({"model": 1, "status": "exempt"}, 1.3),
        ({"model": 2, "kvar": -120.0}, 1.0),
    ]
    n = 0
    for (phases, conn, bus, kv) in CONNECTIONS:
        for (extra, load_mult) in variants:
            p = {
                "phases": phases,
                "conn": conn,
                "bus1": bus,
                "kv": kv,
                "kw": 400.0 * phases,
                "kvar": 150.0 * phases,
                "model": 1,
                "vminpu": 0.95,
                "vmaxpu": 1.05,
                "cvrwatts": 1.0,
                "cvrvars": 2.0,
                "status": "variable",
                "zipv": [],
            }
            p.update(extra)
            n += 1
            name = f"l{n}"
            props = " ".join(
                f"{k}={dss_value(v)}" for k, v in p.items() if not (k == "zipv" and not v)
            )
            cases.append(element_case("load", name, p, load_mult, f"new load.{name} {props}", f"Load.{name}"))
    return cases


def generator_cases():
    cases = []
    variants = [{"model": m} for m in (1, 2, 4, 5, 7)] + [
        {"model": 1, "vminpu": 0.95, "vmaxpu": 1.05},
        {"model": 2, "kvar": -200.0},
    ]
    n = 0
    for (phases, conn, bus, kv) in CONNECTIONS:
        for extra in variants:
            p = {
                "phases": phases,
                "conn": conn,
                "bus1": bus,
                "kv": kv,
                "kw": 300.0 * phases,
                "kvar": 100.0 * phases,
                "kva": 500.0 * phases,
                "model": 1,
                "vminpu": 0.9,
                "vmaxpu": 1.1,
            }
            p.update(extra)
            n += 1
            name = f"g{n}"
            props = " ".join(f"{k}={dss_value(v)}" for k, v in p.items())
            cases.append(element_case("generator", name, p, 1.0, f"new generator.{name} {props}", f"Generator.{name}"))
    return cases


def pv_cases():
    cases = []
    variants = [
        {"pf": 1.0},
        {"pf": 0.9},
        {"pf": -0.9},
        {"pf": 0.9, "p-tcurve": "pt", "temperature": 40.0},
        {"pf": 1.0, "p-tcurve": "pt", "temperature": 10.0},
        {"pf": 1.0, "effcurve": "eff"},
        {"kvar": 60.0},
        {"kvar": -500.0},  # clipped at kvarMax (= kVA)
        {"pf": 0.8, "kvarmax": 40.0},
        {"pf": 0.9, "kva": 200.0, "irradiance": 1.0},  # kVA limit, Q priority
        {"pf": 1.0, "%pmpp": 60.0},
        {"pf": 0.95, "irradiance": 0.1},  # below %cutout: inverter off
        {"kvar": 50.0, "irradiance": 0.1},  # inverter off, vars still on
        {"pf": 1.0, "vminpu": 0.95, "vmaxpu": 1.05},
    ]
    n = 0
    for (phases, conn, bus, kv) in CONNECTIONS:
        for extra in variants:
            p = {
                "phases": phases,
                "conn": conn,
                "bus1": bus,
                "kv": kv,
                "pmpp": 250.0 * phases,
                "kva": 270.0 * phases,
                "irradiance": 0.8,
                "temperature": 25.0,
                "%cutin": 20.0,
                "%cutout": 20.0,
                "vminpu": 0.9,
                "vmaxpu": 1.1,
            }
            if "kva" in extra:
                extra = dict(extra, kva=extra["kva"] * phases)
            if "kvar" in extra:
                extra = dict(extra, kvar=extra["kvar"] * phases)
            if "kvarmax" in extra:
                extra = dict(extra, kvarmax=extra["kvarmax"] * phases)
            p.update(extra)
            n += 1
            name = f"pv{n}"
            # kva before kvarmax (kva resets the kvar limits when kvarmax was not given)
            props = " ".join(f"{k}={dss_value(v)}" for k, v in p.items())
            cases.append(element_case("pvsystem", name, p, 1.0, f"new pvsystem.{name} {props}", f"PVSystem.{name}"))
    return cases


def main():
    out = {
        "generator": "gen_currents.py",
        "opendss_version": dss.Basic.Version(),
        "xy_curves": [XY_PT, XY_EFF],
        "cases": load_cases() + generator_cases() + pv_cases(),
    }
    runs = [(c["name"], r["source_pu"]) for c in out["cases"] for r in c["runs"]]
    out["skipped_not_converged"] = SKIPPED
    print(f"{len(out['cases'])} elements, {len(runs)} solves kept, {len(SKIPPED)} not converged "
          f"(dropped): {SKIPPED[:10]}")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "currents.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
