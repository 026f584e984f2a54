"""Reference primitive matrices of OpenDSS lines, for vgrid-network's prim::line tests.

Run with a Python that has opendssdirect.py:
    python gen_yprim.py > yprim.json
Each case records the OpenDSS definition, the parameters in vgrid-model units (ohm and nF per
metre, metres) and OpenDSS's YPrim (row-major over both terminals, [re, im, ...]).
"""
import json

import opendssdirect as dss

MI, KFT, FT, KM = 1609.344, 304.8, 0.3048, 1000.0

IEEE13_CODES = """
New linecode.mtx601 nphases=3 BaseFreq=60 rmatrix = (0.3465 | 0.1560 0.3375 | 0.1580 0.1535 0.3414 ) xmatrix = (1.0179 | 0.5017 1.0478 | 0.4236 0.3849 1.0348 ) units=mi
New linecode.mtx603 nphases=2 BaseFreq=60 rmatrix = (1.3238 | 0.2066 1.3294 ) xmatrix = (1.3569 | 0.4591 1.3471 ) units=mi
New linecode.mtx605 nphases=1 BaseFreq=60 rmatrix = (1.3292 ) xmatrix = (1.3475 ) units=mi
New Linecode.mtx606 nphases=3  Units=mi Rmatrix=[0.791721  |0.318476  0.781649  |0.28345  0.318476  0.791721  ] Xmatrix=[0.438352  |0.0276838  0.396697  |-0.0184204  0.0276838  0.438352  ] Cmatrix=[383.948  |0  383.948  |0  0  383.948  ]
New linecode.mtx607 nphases=1 BaseFreq=60 rmatrix = (1.3425 ) xmatrix = (0.5124 ) cmatrix = [236] units=mi
"""

EULV_CODES = """
New LineCode.2c_16 nphases=3 R1=1.15 X1=0.088 R0=1.2 X0=0.088 C1=0 C0=0 Units=km
New LineCode.4c_70 nphases=3 R1=0.446 X1=0.071 R0=1.505 X0=0.083 C1=0 C0=0 Units=km
New LineCode.35_SAC_XSC nphases=3 R1=0.868 X1=0.092 R0=0.76 X0=0.092 C1=0 C0=0 Units=km
"""


def lower_full(rows):
    """Lower-triangular rows -> full symmetric row-major list."""
    n = len(rows)
    m = [[0.0] * n for _ in range(n)]
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            m[i][j] = m[j][i] = v
    return [v for r in m for v in r]


def per_m(values, unit):
    return [v / unit for v in values]


R601 = lower_full([[0.3465], [0.1560, 0.3375], [0.1580, 0.1535, 0.3414]])
X601 = lower_full([[1.0179], [0.5017, 1.0478], [0.4236, 0.3849, 1.0348]])
R603 = lower_full([[1.3238], [0.2066, 1.3294]])
X603 = lower_full([[1.3569], [0.4591, 1.3471]])
R606 = lower_full([[0.791721], [0.318476, 0.781649], [0.28345, 0.318476, 0.791721]])
X606 = lower_full([[0.438352], [0.0276838, 0.396697], [-0.0184204, 0.0276838, 0.438352]])
C606 = lower_full([[383.948], [0, 383.948], [0, 0, 383.948]])


def default_c(n):
    """A matrix linecode without cmatrix keeps the C of OpenDSS's default sequence data,
    C1 = 3.4 and C0 = 1.6 nF per (linecode) unit length: self 2.8, mutual -0.6."""
    return [2.8 if i == j else -0.6 for i in range(n) for j in range(n)]


def matrix(r, x, c, unit):
    n = int(round(len(r) ** 0.5))
    return dict(kind="matrix", r_ohm_per_m=per_m(r, unit), x_ohm_per_m=per_m(x, unit),
                c_nf_per_m=per_m(c if c else default_c(n), unit))


def seq(r1, x1, r0, x0, c1, c0, unit):
    return dict(kind="sequence", r1_ohm_per_m=r1 / unit, x1_ohm_per_m=x1 / unit, r0_ohm_per_m=r0 / unit,
                x0_ohm_per_m=x0 / unit, c1_nf_per_m=c1 / unit, c0_nf_per_m=c0 / unit)


# name, base frequency of the circuit, setup script, line definition, model parameters
CASES = [
    ("mtx601", 60, IEEE13_CODES, "New Line.l Phases=3 Bus1=a Bus2=b LineCode=mtx601 Length=2000 units=ft",
     dict(phases=3, length_m=2000 * FT, base_frequency_hz=60, impedance=matrix(R601, X601, None, MI))),
    ("mtx603", 60, IEEE13_CODES, "New Line.l Phases=2 Bus1=a.3.2 Bus2=b.3.2 LineCode=mtx603 Length=500 units=ft",
     dict(phases=2, length_m=500 * FT, base_frequency_hz=60, impedance=matrix(R603, X603, None, MI))),
    ("mtx605", 60, IEEE13_CODES, "New Line.l Phases=1 Bus1=a.3 Bus2=b.3 LineCode=mtx605 Length=300 units=ft",
     dict(phases=1, length_m=300 * FT, base_frequency_hz=60, impedance=matrix([1.3292], [1.3475], None, MI))),
    ("mtx606", 60, IEEE13_CODES, "New Line.l Phases=3 Bus1=a Bus2=b LineCode=mtx606 Length=500 units=ft",
     dict(phases=3, length_m=500 * FT, base_frequency_hz=60, impedance=matrix(R606, X606, C606, MI))),
    ("mtx607", 60, IEEE13_CODES, "New Line.l Phases=1 Bus1=a.1 Bus2=b.1 LineCode=mtx607 Length=800 units=ft",
     dict(phases=1, length_m=800 * FT, base_frequency_hz=60, impedance=matrix([1.3425], [0.5124], [236], MI))),
    # OpenDSS: switch=y sets r1=x1=r0=x0=1, c1=1.1, c0=1 (nF), length 0.001 (no units); the
    # r1..c0 that follow override the impedances, the length stays 0.001.
    ("switch", 60, "", "New Line.l Phases=3 Bus1=a Bus2=b Switch=y r1=1e-4 r0=1e-4 x1=0.000 x0=0.000 c1=0.000 c0=0.000",
     dict(phases=3, length_m=0.001, base_frequency_hz=60, is_switch=True, impedance=seq(1e-4, 0, 1e-4, 0, 0, 0, 1.0))),
    ("sequence_kft", 60, "", "New Line.l Phases=3 Bus1=a Bus2=b r1=0.058 x1=0.1206 r0=0.1784 x0=0.4047 c1=3.4 c0=1.6 units=kft length=2.5",
     dict(phases=3, length_m=2.5 * KFT, base_frequency_hz=60, impedance=seq(0.058, 0.1206, 0.1784, 0.4047, 3.4, 1.6, KFT))),
    ("sequence_one_phase", 60, "", "New Line.l Phases=1 Bus1=a.2 Bus2=b.2 r1=0.3 x1=0.7 r0=0.9 x0=2.1 c1=12 c0=5 units=km length=0.8",
     dict(phases=1, length_m=800, base_frequency_hz=60, impedance=seq(0.3, 0.7, 0.9, 2.1, 12, 5, KM))),
    ("sequence_two_phase", 60, "", "New Line.l Phases=2 Bus1=a.1.3 Bus2=b.1.3 r1=0.3 x1=0.7 r0=0.9 x0=2.1 c1=12 c0=5 units=km length=0.8",
     dict(phases=2, length_m=800, base_frequency_hz=60, impedance=seq(0.3, 0.7, 0.9, 2.1, 12, 5, KM))),
    ("eulv_4c_70", 50, EULV_CODES, "New Line.l Bus1=a Bus2=b phases=3 Linecode=4c_70 Length=1.098 Units=m",
     dict(phases=3, length_m=1.098, base_frequency_hz=50, impedance=seq(0.446, 0.071, 1.505, 0.083, 0, 0, KM))),
    ("eulv_2c_16", 50, EULV_CODES, "New Line.l Bus1=a Bus2=b phases=3 Linecode=2c_16 Length=12.5 Units=m",
     dict(phases=3, length_m=12.5, base_frequency_hz=50, impedance=seq(1.15, 0.088, 1.2, 0.088, 0, 0, KM))),
    ("eulv_35_sac_xsc", 50, EULV_CODES, "New Line.l Bus1=a Bus2=b phases=3 Linecode=35_SAC_XSC Length=31.2 Units=m",
     dict(phases=3, length_m=31.2, base_frequency_hz=50, impedance=seq(0.868, 0.092, 0.76, 0.092, 0, 0, KM))),
    # A line whose data are given at 50 Hz, solved at 60 Hz: X and the susceptance scale with
    # frequency. Rg = Xg = 0 so that OpenDSS's earth-return correction (not in vgrid-model) is off.
    ("frequency_50_at_60", 60, "", "New Line.l Phases=3 Bus1=a Bus2=b r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=10 c0=4 rg=0 xg=0 basefreq=50 units=km length=1.5",
     dict(phases=3, length_m=1500, base_frequency_hz=50, impedance=seq(0.3, 0.6, 0.6, 1.8, 10, 4, KM))),
]


def flat(values):
    return [float(v) for v in values]


def main():
    out = []
    for name, base_hz, setup, definition, params in CASES:
        dss.Text.Command("clear")
        dss.Text.Command(f"set defaultbasefrequency={base_hz}")
        dss.Text.Command("new circuit.c basekv=12.47 bus1=a")
        for line in setup.strip().splitlines():
            dss.Text.Command(line)
        dss.Text.Command(definition)
        dss.Text.Command("calcv")
        dss.Circuit.SetActiveElement("Line.l")
        yprim = flat(dss.CktElement.YPrim())
        out.append(dict(name=name, dss=definition, params=params, yprim=yprim))
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
