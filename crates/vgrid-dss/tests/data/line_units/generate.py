"""Regenerate opendss_totals.txt: per line, the total series impedance and shunt capacitance
OpenDSS builds (from its primitive Y matrix) for cases.dss.

Columns: name, Zs.re (ohm), Zs.im (ohm), Zm.re (ohm, first-last conductor), Cs (nF), Cm (nF).
Run: python generate.py > opendss_totals.txt   (needs opendssdirect.py)
"""
import os
import numpy as np
import opendssdirect as dss

here = os.path.dirname(os.path.abspath(__file__))
dss.Text.Command("redirect " + os.path.join(here, "cases.dss"))
dss.Text.Command("calcvoltagebases")  # builds the primitive matrices
for name in dss.Lines.AllNames():
    dss.Circuit.SetActiveElement("Line." + name)
    y = np.array(dss.CktElement.YPrim())
    y = y[0::2] + 1j * y[1::2]
    n = int(round(np.sqrt(len(y))))
    Y = y.reshape(n, n)
    p = n // 2
    Ys = -Y[0:p, p : 2 * p]
    Z = np.linalg.inv(Ys)
    C = (Y[0:p, 0:p] - Ys).imag * 2 / (2 * np.pi * 60) * 1e9
    vals = [Z[0, 0].real, Z[0, 0].imag, Z[0, -1].real if p > 1 else 0, C[0, 0], C[0, -1] if p > 1 else 0]
    print(name, " ".join(f"{v:.9g}" for v in vals))
