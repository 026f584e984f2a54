"""Reference primitive matrices of OpenDSS capacitors and reactors, for vgrid-network's
prim::shunt tests.

Run with a Python that has opendssdirect.py:
    python gen_yprim.py > yprim.json
Each case records the OpenDSS definition, the parameters in vgrid-model units and OpenDSS's
YPrim (row-major over all conductors of all terminals, [re, im, ...]).
"""
import json

import opendssdirect as dss


def cap(phases, kv, conn="wye", kvar=None, cuf=None, r=None, xl=None, states=None, series=False):
    steps = len(kvar or cuf)
    return dict(kind="capacitor", phases=phases, kv=kv, conn=conn, series=series,
                rating="kvar" if kvar else "cuf", values=kvar or cuf,
                r_ohm=r or [0.0] * steps, xl_ohm=xl or [0.0] * steps,
                states=states or [1] * steps)


def reactor(phases, kv, conn="wye", kvar=None, r=0.0, x=None, rmatrix=None, xmatrix=None, rp=None,
            parallel=False, series=False):
    if kvar is not None:
        rating = dict(rating="kvar", kvar=kvar)
    elif x is not None:
        rating = dict(rating="impedance", x_ohm=x)
    else:
        rating = dict(rating="matrix", rmatrix=rmatrix, xmatrix=xmatrix)
    return dict(kind="reactor", phases=phases, kv=kv, conn=conn, r_ohm=r, rp_ohm=rp,
                parallel=parallel, series=series, **rating)


# name, base frequency, OpenDSS definition (element named "e"), model parameters
CASES = [
    ("cap_ieee13_675", 60, "New Capacitor.e Bus1=675 phases=3 kVAR=600 kV=4.16", cap(3, 4.16, kvar=[600])),
    ("cap_ieee13_611", 60, "New Capacitor.e Bus1=611.3 phases=1 kVAR=100 kV=2.4", cap(1, 2.4, kvar=[100])),
    ("cap_delta", 60, "New Capacitor.e Bus1=b phases=3 kvar=600 kv=4.16 conn=delta", cap(3, 4.16, conn="delta", kvar=[600])),
    ("cap_delta_one_phase", 60, "New Capacitor.e Bus1=b.1.2 phases=1 kvar=150 kv=4.16 conn=delta",
     cap(1, 4.16, conn="delta", kvar=[150])),
    ("cap_delta_two_phase", 60, "New Capacitor.e Bus1=b.1.2.3 phases=2 kvar=150 kv=4.16 conn=delta",
     cap(2, 4.16, conn="delta", kvar=[150])),
    ("cap_delta_four_phase", 60, "New Capacitor.e Bus1=b.1.2.3.4 phases=4 kvar=400 kv=4.16 conn=delta",
     cap(4, 4.16, conn="delta", kvar=[400])),
    ("cap_delta_one_phase_xl", 60, "New Capacitor.e Bus1=b.1.2 phases=1 kvar=150 kv=4.16 conn=delta xl=3",
     cap(1, 4.16, conn="delta", kvar=[150], xl=[3])),
    ("cap_delta_steps_xl", 60, "New Capacitor.e Bus1=b phases=3 numsteps=2 kvar=[300 300] kv=4.16 conn=delta xl=[5 5] states=[1 1]",
     cap(3, 4.16, conn="delta", kvar=[300, 300], xl=[5, 5])),
    # OpenDSS reuses one work matrix for the steps and adds each delta step into it, so the
    # second step in service counts the first one again (and so on): 2 x 300 kvar -> 3 x 300.
    ("cap_delta_steps", 60, "New Capacitor.e Bus1=b phases=3 numsteps=3 kvar=[300 300 300] kv=4.16 conn=delta states=[0 1 1]",
     cap(3, 4.16, conn="delta", kvar=[300, 300, 300], states=[0, 1, 1])),
    ("cap_two_phase", 60, "New Capacitor.e Bus1=b.1.3 phases=2 kvar=200 kv=4.16", cap(2, 4.16, kvar=[200])),
    # OpenDSS sizes every step's capacitance from the FIRST step's kvar (Capacitor.pas,
    # RecalcElementData: FkvarRating^[1]); the model keeps the per-step kvar as given.
    ("cap_steps", 60, "New Capacitor.e Bus1=b phases=3 numsteps=3 kvar=[100 200 300] kv=12.47 states=[0 1 1]",
     cap(3, 12.47, kvar=[100, 200, 300], states=[0, 1, 1])),
    ("cap_cuf_steps", 60, "New Capacitor.e Bus1=b phases=3 numsteps=2 cuf=[10 25] kv=12.47 states=[1 1]",
     cap(3, 12.47, cuf=[10, 25])),
    ("cap_wye_rl", 60, "New Capacitor.e Bus1=b phases=3 kvar=300 kv=12.47 r=0.5 xl=10", cap(3, 12.47, kvar=[300], r=[0.5], xl=[10])),
    # xl without r: OpenDSS puts r = |xl|/1000 so that the step can be inverted.
    ("cap_delta_xl", 60, "New Capacitor.e Bus1=b phases=3 kvar=600 kv=4.16 conn=delta xl=5",
     cap(3, 4.16, conn="delta", kvar=[600], xl=[5])),
    ("cap_series", 60, "New Capacitor.e Bus1=b Bus2=c phases=3 kvar=1000 kv=12.47", cap(3, 12.47, kvar=[1000], series=True)),
    ("cap_50hz", 50, "New Capacitor.e Bus1=b phases=3 kvar=50 kv=0.416", cap(3, 0.416, kvar=[50])),
    ("reactor_kvar", 60, "New Reactor.e Bus1=b phases=3 kvar=1000 kv=12.47", reactor(3, 12.47, kvar=1000)),
    ("reactor_kvar_r", 60, "New Reactor.e Bus1=b phases=3 kvar=500 kv=13.8 r=2", reactor(3, 13.8, kvar=500, r=2)),
    ("reactor_kvar_one_phase", 60, "New Reactor.e Bus1=b.2 phases=1 kvar=100 kv=7.2", reactor(1, 7.2, kvar=100)),
    ("reactor_delta", 60, "New Reactor.e Bus1=b phases=3 kvar=300 kv=4.16 conn=delta", reactor(3, 4.16, conn="delta", kvar=300)),
    ("reactor_delta_two_phase_rx", 60, "New Reactor.e Bus1=b.1.2.3 phases=2 r=1 x=3 conn=delta",
     reactor(2, 12.47, conn="delta", r=1, x=3)),
    ("reactor_rp", 60, "New Reactor.e Bus1=b phases=3 kvar=1000 kv=12.47 rp=5000", reactor(3, 12.47, kvar=1000, rp=5000)),
    ("reactor_series_rx", 60, "New Reactor.e Bus1=b.1 Bus2=c.1 phases=1 r=0.5 x=3", reactor(1, 12.47, r=0.5, x=3, series=True)),
    ("reactor_rx_parallel", 60, "New Reactor.e Bus1=b phases=3 r=20 x=3 parallel=yes", reactor(3, 12.47, r=20, x=3, parallel=True)),
    ("reactor_matrix", 60,
     "New Reactor.e Bus1=b Bus2=c phases=3 rmatrix=[0.5 | 0.1 0.5 | 0.1 0.1 0.5] xmatrix=[3 | 1 3 | 1 1 3]",
     reactor(3, 12.47, rmatrix=[0.5, 0.1, 0.1, 0.1, 0.5, 0.1, 0.1, 0.1, 0.5],
             xmatrix=[3, 1, 1, 1, 3, 1, 1, 1, 3], series=True)),
    ("reactor_matrix_parallel", 60,
     "New Reactor.e Bus1=b phases=3 rmatrix=[50 | 5 50 | 5 5 50] xmatrix=[3 | 1 3 | 1 1 3] parallel=yes",
     reactor(3, 12.47, rmatrix=[50, 5, 5, 5, 50, 5, 5, 5, 50], xmatrix=[3, 1, 1, 1, 3, 1, 1, 1, 3], parallel=True)),
]


def flat(values):
    return [float(v) for v in values]


def main():
    out = []
    for name, base_hz, definition, params in CASES:
        dss.Text.Command("clear")
        dss.Text.Command(f"set defaultbasefrequency={base_hz}")
        dss.Text.Command("new circuit.c basekv=12.47 bus1=a")
        dss.Text.Command(definition)
        dss.Text.Command("calcv")
        element = ("Capacitor.e" if params["kind"] == "capacitor" else "Reactor.e")
        dss.Circuit.SetActiveElement(element)
        yprim = flat(dss.CktElement.YPrim())
        out.append(dict(name=name, dss=definition, frequency_hz=base_hz, params=params,
                        terminals=dss.CktElement.NumTerminals(), yprim=yprim))
    write_json(out)


def write_json(cases):
    """One case per line, so diffs stay readable and the Rust tests can find a case by name."""
    print("{")
    print(' "generator": "gen_yprim.py",')
    print(f' "opendss": {json.dumps(dss.Basic.Version().splitlines()[0])},')
    print(' "cases": [')
    print(",\n".join("  " + json.dumps(c) for c in cases))
    print(" ]")
    print("}")


if __name__ == "__main__":
    main()
