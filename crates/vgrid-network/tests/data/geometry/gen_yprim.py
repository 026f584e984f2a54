"""Reference primitive matrices of OpenDSS lines built from conductor geometry, for
vgrid-network's geometry tests (overhead wires, concentric-neutral and tape-shield cables).

Run with a Python that has opendssdirect.py:
    python gen_yprim.py > yprim.json
OpenDSS prints its geometry matrices with ~6 digits, so each case is a Line using the geometry
(or spacing and wires) and the reference is that line's full-precision YPrim. The conductor
data are read back from OpenDSS (so defaults OpenDSS filled in, such as Rdc, are recorded) and
converted to SI units (ohm/m, m), as vgrid-model holds them.
"""
import json

import opendssdirect as dss

TO_M = {0: 1.0, 1: 1609.344, 2: 304.8, 3: 1000.0, 4: 1.0, 5: 0.3048, 6: 0.0254, 7: 0.01, 8: 0.001}

ACSR = """
New WireData.acsr336 GMRac=0.0244 GMRunits=ft Diam=0.721 Radunits=in Rac=0.306 Runits=mi normamps=530
New WireData.acsr4/0 GMRac=0.00814 GMRunits=ft Diam=0.563 Radunits=in Rac=0.592 Runits=mi normamps=340
"""

CN606 = """
New CNDATA.250_1/3 k=13 DiaStrand=0.064 Rstrand=2.816666667 epsR=2.3
~ InsLayer=0.220 DiaIns=1.06 DiaCable=1.16 Rac=0.076705 GMRac=0.20568 diam=0.573
~ Runits=kft Radunits=in GMRunits=in
"""

TS = """
New TSData.ts1/0 DiaShield=0.88 TapeLayer=0.005 TapeLap=20 EpsR=2.3 InsLayer=0.220 DiaIns=0.82 DiaCable=1.06
~ Rac=0.97 Runits=mi GMRac=0.13356 GMRunits=in Diam=0.368 Radunits=in
New WireData.cu1/0 GMRac=0.0111 GMRunits=ft Diam=0.368 Radunits=in Rac=0.607 Runits=mi
"""

CASES = [
    # name, frequency, setup script, line definition
    ("cn606", 60, CN606 + """
New LineGeometry.606 nconds=3 nphases=3 units=ft
~ cond=1 cncable=250_1/3 x=-0.5 h= -4
~ cond=2 cncable=250_1/3 x=0   h= -4
~ cond=3 cncable=250_1/3 x=0.5  h= -4
""", "New Line.l bus1=a bus2=b geometry=606 length=500 units=ft"),
    ("oh_4wire_reduced", 60, ACSR + """
New LineGeometry.g nconds=4 nphases=3 reduce=yes units=ft
~ cond=1 wire=acsr336 x=-4 h=28
~ cond=2 wire=acsr336 x=-1.5 h=28
~ cond=3 wire=acsr336 x=3 h=28
~ cond=4 wire=acsr4/0 x=0 h=24
""", "New Line.l bus1=a bus2=b geometry=g length=2000 units=ft"),
    ("oh_4wire_unreduced", 60, ACSR + """
New LineGeometry.g nconds=4 nphases=3 reduce=no units=ft
~ cond=1 wire=acsr336 x=-4 h=28
~ cond=2 wire=acsr336 x=-1.5 h=28
~ cond=3 wire=acsr336 x=3 h=28
~ cond=4 wire=acsr4/0 x=0 h=24
""", "New Line.l bus1=a bus2=b.1.2.3.4 geometry=g length=2000 units=ft"),
    ("oh_50hz_rho300", 50, ACSR + """
New LineGeometry.g nconds=4 nphases=3 reduce=yes units=m
~ cond=1 wire=acsr336 x=-1.2 h=9
~ cond=2 wire=acsr336 x=0 h=9.5
~ cond=3 wire=acsr336 x=1.2 h=9
~ cond=4 wire=acsr4/0 x=0 h=7.5
""", "New Line.l bus1=a bus2=b geometry=g length=0.75 units=km rho=300"),
    ("spacing_oh", 60, ACSR + """
New LineSpacing.s nconds=4 nphases=3 units=ft x=[-4 -1.5 3 0] h=[28 28 28 24]
""", "New Line.l bus1=a bus2=b spacing=s wires=[acsr336 acsr336 acsr336 acsr4/0] length=2000 units=ft"),
    ("ts_with_neutral", 60, TS + """
New LineGeometry.g nconds=2 nphases=1 reduce=yes units=in
~ cond=1 tscable=ts1/0 x=0 h=-48
~ cond=2 wire=cu1/0 x=3 h=-48
""", "New Line.l bus1=a.1 bus2=b.1 geometry=g length=500 units=ft"),
    ("cn_with_neutral_spacing", 60, CN606 + ACSR + """
New LineSpacing.s nconds=4 nphases=3 units=in x=[-6 0 6 0] h=[-48 -48 -48 -40]
""", "New Line.l bus1=a bus2=b spacing=s CNCables=[250_1/3 250_1/3 250_1/3] wires=[acsr4/0] length=300 units=m"),
]


def wire_params(name):
    """The conductor named `name` as OpenDSS holds it, in SI units."""
    for cls, kind in ((dss.CNData, "ConcentricNeutral"), (dss.TSData, "TapeShield"), (dss.WireData, "Bare")):
        if name.lower() in [n.lower() for n in cls.AllNames()]:
            cls.Name(name)
            r, g, d = TO_M[cls.ResistanceUnits()], TO_M[cls.GMRUnits()], TO_M[cls.RadiusUnits()]
            p = dict(name=name.lower(), kind=kind, r_dc_ohm_per_m=cls.Rdc() / r, r_ac_ohm_per_m=cls.Rac() / r,
                     gmr_m=cls.GMRac() * g, radius_m=cls.Radius() * d)
            if kind != "Bare":
                p.update(eps_r=cls.EpsR(), ins_layer_m=cls.InsLayer() * d, dia_ins_m=cls.DiaIns() * d,
                         dia_cable_m=cls.DiaCable() * d)
            if kind == "ConcentricNeutral":
                p.update(k=cls.k(), dia_strand_m=cls.DiaStrand() * d, gmr_strand_m=cls.GmrStrand() * g,
                         r_strand_ohm_per_m=cls.RStrand() / r)
            if kind == "TapeShield":
                p.update(dia_shield_m=cls.DiaShield() * d, tape_layer_m=cls.TapeLayer() * d,
                         tape_lap_pct=cls.TapeLap())
            return p
    raise KeyError(name)


def main():
    out = []
    for name, f, setup, definition in CASES:
        dss.Text.Command("clear")
        dss.Text.Command(f"set defaultbasefrequency={f}")
        dss.Text.Command("new circuit.c basekv=12.47 bus1=a")
        for line in setup.strip().splitlines():
            dss.Text.Command(line)
        dss.Text.Command(definition)
        dss.Text.Command("calcv")
        dss.Circuit.SetActiveElement("Line.l")
        yprim = [float(v) for v in dss.CktElement.YPrim()]
        dss.Lines.Name("l")
        geometry, spacing = dss.Lines.Geometry(), dss.Lines.Spacing()
        if geometry:
            dss.LineGeometries.Name(geometry)
            cls = dss.LineGeometries
            wires = list(cls.Conductors())
            reduce = bool(cls.Reduce())
        else:
            dss.LineSpacings.Name(spacing)
            cls = dss.LineSpacings
            dss.Text.Command("? line.l.wires")
            wires = dss.Text.Result().strip("[] ").replace(",", " ").split()
            reduce = True
        units = cls.Units()
        if not isinstance(units, (list, tuple)):
            units = [units] * len(cls.Xcoords())
        units = [TO_M[u] for u in units]
        params = dict(phases=cls.Phases(), x_m=[v * u for v, u in zip(cls.Xcoords(), units)],
                      h_m=[v * u for v, u in zip(cls.Ycoords(), units)],
                      reduce=reduce, wires=[wire_params(w) for w in wires],
                      kind="geometry" if geometry else "spacing",
                      line_phases=dss.Lines.Phases(), length_m=dss.Lines.Length() * TO_M[dss.Lines.Units()],
                      rho_ohm_m=dss.Lines.Rho(), frequency_hz=f)
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
