#!/usr/bin/env python3
"""Check the bundled village with OpenDSS (opendssdirect.py), and vgrid against it on the snapshot.

  python check_with_opendss.py                  snapshot + the whole year (35,040 steps, ~1 minute)
  python check_with_opendss.py --snapshot-only  the snapshot only
  python check_with_opendss.py --vgrid PATH     also run `PATH solve Master.dss --json` and compare
  python check_with_opendss.py --steps-csv F    also write step,hour,p_kw,q_kvar,loss_kw,vmin,vmax,taps
                                                of every step of the year to F (to compare a time series)

What it checks:
  1. Master.dss compiles and its snapshot (the design evening peak) converges; prints source power,
     losses, min/max voltage, and the loading of every distribution transformer (largest phase
     current over its rated current, as `vgrid solve` reports it).
  2. With --vgrid: vgrid's snapshot against OpenDSS's (source power, losses, min/max voltage,
     transformer loadings).
  3. The year: Run_year.dss runs to the end (hour 8760), and the same run step by step records, per
     transformer, the peak loading and when, the hours above 100 % and 120 %; the LV feeder heads'
     peak loadings; the lowest and highest node voltage of the year and the hours with a node outside
     0.93-1.07 pu; the energy from the source, the PV energy and the losses.
Needs opendssdirect.py (`pip install opendssdirect.py`). The snapshot and the stepped year are solved
at tolerance 1e-8; Run_year.dss as written, at OpenDSS's default.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import opendssdirect as dss

HERE = os.path.dirname(os.path.abspath(__file__))
STEP_H = 0.25
NPTS = 35040


def cmd(text):
    dss.Text.Command(text)
    err = dss.Error.Description() if hasattr(dss, "Error") else ""
    if err:
        raise RuntimeError(f"OpenDSS: {text}: {err}")


def compile_master():
    cmd("clear")
    cmd(f"compile [{os.path.join(HERE, 'Master.dss')}]")
    os.chdir(HERE)


def rated_currents(name):
    """Rated current of each winding of a transformer, A (kVA over kV, times sqrt 3 if 3-phase)."""
    dss.Transformers.Name(name)
    phases = dss.CktElement.NumPhases()
    out = []
    for w in range(1, dss.Transformers.NumWindings() + 1):
        dss.Transformers.Wdg(w)
        kva, kv = dss.Transformers.kVA(), dss.Transformers.kV()
        out.append(kva / kv if phases == 1 else kva / (math.sqrt(3) * kv))
    return out


def loading_pct(element, rated, phases):
    """Largest phase-conductor current over its terminal's rating, in %, as vgrid reports it."""
    dss.Circuit.SetActiveElement(element)
    mags = dss.CktElement.CurrentsMagAng()[0::2]
    c = len(mags) // len(rated)
    return max(100 * mags[t * c + k] / r for t, r in enumerate(rated) for k in range(phases))


def distribution_transformers():
    names = [n for n in dss.Transformers.AllNames() if n.startswith("t")]
    return {n: rated_currents(n) for n in names}


def feeder_heads():
    heads = {}
    for n in dss.Lines.AllNames():
        # LV feeder heads are the first trunk sections: "<block><feeder>_1"
        if len(n) == 4 and n.endswith("_1") and n[0] in "abcde" and n[1].isdigit():
            dss.Lines.Name(n)
            heads[n] = [dss.Lines.NormAmps()] * 2
    return heads


def node_vpu():
    v = dss.Circuit.AllBusMagPu()
    return min(v), max(v), v


def snapshot():
    compile_master()
    tr = distribution_transformers()
    cmd("set tolerance=1e-8")
    cmd("solve")
    p = dss.Circuit.TotalPower()
    loss = dss.Circuit.Losses()
    vmin, vmax, v = node_vpu()
    names = dss.Circuit.AllNodeNames()
    res = {
        "converged": dss.Solution.Converged(),
        "source_kw": -p[0], "source_kvar": -p[1],
        "losses_kw": loss[0] / 1000, "losses_kvar": loss[1] / 1000,
        "v_min_pu": vmin, "v_min_node": names[v.index(vmin)],
        "v_max_pu": vmax, "v_max_node": names[v.index(vmax)],
        "transformers": {n: loading_pct(f"Transformer.{n}", r, 3) for n, r in tr.items()},
        "taps": {},
    }
    for rc in dss.RegControls.AllNames():
        dss.RegControls.Name(rc)
        res["taps"][rc] = dss.RegControls.TapNumber()
    n_loads = dss.Loads.Count()
    n_pv = dss.PVsystems.Count()
    print(f"OpenDSS snapshot (design evening peak): {dss.Circuit.NumBuses()} buses, "
          f"{dss.Circuit.NumNodes()} nodes, {dss.Lines.Count()} lines, {n_loads} loads, {n_pv} PV systems")
    print(f"  converged {res['converged']}, source {res['source_kw']:.3f} kW {res['source_kvar']:.3f} kvar, "
          f"losses {res['losses_kw']:.3f} kW {res['losses_kvar']:.3f} kvar")
    print(f"  V min {vmin:.5f} pu at {res['v_min_node']}, V max {vmax:.5f} pu at {res['v_max_node']}")
    print("  transformer loadings: " + ", ".join(f"{n} {x:.1f} %" for n, x in res["transformers"].items()))
    print("  regulator taps: " + ", ".join(f"{n} {t:+d}" for n, t in res["taps"].items()))
    return res


def compare_vgrid(exe, ref):
    out = subprocess.run([exe, "solve", os.path.join(HERE, "Master.dss"), "--json",
                          "--loadings", "/dev/stdout"], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"vgrid failed: {out.stderr}")
        return False
    text = out.stdout
    start = text.index("{")
    depth, end = 0, None
    for i, ch in enumerate(text[start:], start):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            end = i + 1
            break
    j = json.loads(text[start:end])
    loadings = {}
    for line in (text[:start] + text[end:]).splitlines():
        parts = line.split(",")
        if len(parts) == 4 and parts[0].startswith("Transformer."):
            loadings[parts[0].split(".", 1)[1].lower()] = float(parts[3])
    print("vgrid vs OpenDSS (snapshot):")
    ok = True
    for key in ("source_kw", "source_kvar", "losses_kw", "losses_kvar"):
        a, b = j[key], ref[key]
        rel = abs(a - b) / max(abs(b), 1e-9)
        print(f"  {key:12s} vgrid {a:12.4f}  OpenDSS {b:12.4f}  rel diff {rel:.2e}")
        ok &= rel < 1e-4
    for key in ("v_min_pu", "v_max_pu"):
        a = j[key][0] if isinstance(j[key], list) else j[key]
        b = ref[key]
        print(f"  {key:12s} vgrid {a:12.7f}  OpenDSS {b:12.7f}  diff {abs(a - b):.1e} pu")
        ok &= abs(a - b) < 1e-5
    taps = {t["reg_control"].lower(): t["tap_number"] for t in j.get("taps", [])}
    for n, b in ref["taps"].items():
        print(f"  tap {n:5s} vgrid {taps.get(n)!s:>3}  OpenDSS {b:+d}")
        ok &= taps.get(n) == b
    for n, b in ref["transformers"].items():
        a = loadings.get(n)
        if a is not None:
            print(f"  loading {n:4s} vgrid {a:8.3f} %  OpenDSS {b:8.3f} %")
            ok &= abs(a - b) < 0.01
    print("  agreement:", "yes" if ok else "NO")
    return ok


def year(steps=NPTS, steps_csv=None):
    # 1. Run_year.dss as written must run to the end.
    t0 = time.time()
    cmd("clear")
    cmd(f"compile [{os.path.join(HERE, 'Run_year.dss')}]")
    print(f"Run_year.dss: ran to hour {dss.Solution.DblHour():.2f}, converged {dss.Solution.Converged()}, "
          f"{time.time() - t0:.1f} s")
    # 2. The same run step by step, recording what the planner wants.
    compile_master()
    tr = distribution_transformers()
    heads = feeder_heads()
    cmd("Batchedit PVSystem..* irradiance=1")
    cmd("set tolerance=1e-8")
    cmd("set mode=yearly stepsize=15m number=1")
    peak = {n: (0.0, 0) for n in tr}
    above100 = {n: 0 for n in tr}
    above120 = {n: 0 for n in tr}
    head_peak = {n: (0.0, 0) for n in heads}
    head_above = {n: 0 for n in heads}
    vmin, vmax = (9.0, 0), (0.0, 0)
    low_steps = high_steps = 0
    e_src = e_loss = e_pv = 0.0
    src_peak = (0.0, 0)
    src_min = (1e9, 0)
    nonconv = 0
    taps_seen = {}
    pv_names = dss.PVsystems.AllNames()
    design_step = None
    with open(os.path.join(HERE, "Master.dss")) as f:
        for line in f:
            if "design evening peak: step " in line:
                design_step = int(line.split("peak: step ")[1].split()[0])
    design = None
    rows = []
    t0 = time.time()
    for step in range(1, steps + 1):
        dss.Solution.Solve()
        if not dss.Solution.Converged():
            nonconv += 1
        for n, r in tr.items():
            x = loading_pct(f"Transformer.{n}", r, 3)
            if x > peak[n][0]:
                peak[n] = (x, step)
            above100[n] += x > 100
            above120[n] += x > 120
        for n, r in heads.items():
            x = loading_pct(f"Line.{n}", r, 3)
            if x > head_peak[n][0]:
                head_peak[n] = (x, step)
            head_above[n] += x > 100
        lo, hi, _ = node_vpu()
        if lo < vmin[0]:
            vmin = (lo, step)
        if hi > vmax[0]:
            vmax = (hi, step)
        low_steps += lo < 0.93
        high_steps += hi > 1.07
        p = dss.Circuit.TotalPower()
        e_src += -p[0] * STEP_H
        if -p[0] > src_peak[0]:
            src_peak = (-p[0], step)
        if -p[0] < src_min[0]:
            src_min = (-p[0], step)
        e_loss += dss.Circuit.Losses()[0] / 1000 * STEP_H
        if step == design_step:
            design = (-p[0], -p[1], {n: loading_pct(f"Transformer.{n}", r, 3) for n, r in tr.items()})
        taps = []
        for rc in dss.RegControls.AllNames():
            dss.RegControls.Name(rc)
            t = dss.RegControls.TapNumber()
            taps.append(t)
            lo_t, hi_t = taps_seen.get(rc, (t, t))
            taps_seen[rc] = (min(lo_t, t), max(hi_t, t))
        if steps_csv:
            rows.append(f"{step},{dss.Solution.DblHour()},{-p[0]:.9f},{-p[1]:.9f},"
                        f"{dss.Circuit.Losses()[0] / 1000:.9f},{lo:.12f},{hi:.12f},"
                        + " ".join(str(t) for t in taps))
        if pv_names:
            dss.PVsystems.First()
            s = 0.0
            while True:
                s += dss.PVsystems.kW()
                if not dss.PVsystems.Next() > 0:
                    break
            e_pv += s * STEP_H
    secs = time.time() - t0
    if steps_csv:
        with open(steps_csv, "w") as f:
            f.write("step,hour,p_kw,q_kvar,loss_kw,vmin,vmax,taps\n" + "\n".join(rows) + "\n")

    def when(step):
        t_min = step * 15
        day, minute = divmod(t_min, 1440)
        if minute == 0:
            day, minute = day - 1, 1440
        months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        m, d = 0, day
        while d >= months[m]:
            d -= months[m]
            m += 1
        return f"{d + 1:02d}/{m + 1:02d} {minute // 60:02d}:{minute % 60:02d}"

    print(f"OpenDSS yearly run, {steps} quarter-hour steps, {secs:.0f} s, {nonconv} steps not converged")
    print("  distribution transformers: peak loading (when, step end), hours above 100 % / 120 %")
    for n in tr:
        dss.Transformers.Name(n)
        dss.Transformers.Wdg(1)
        kva = round(dss.Transformers.kVA())
        print(f"    {n}  {kva:4d} kVA  peak {peak[n][0]:6.1f} % ({when(peak[n][1])})  "
              f"{above100[n] * STEP_H:7.2f} h > 100 %  {above120[n] * STEP_H:6.2f} h > 120 %")
    print("  LV feeder heads: peak loading (when), hours above 100 %")
    for n in sorted(heads):
        print(f"    Line.{n}  peak {head_peak[n][0]:6.1f} % ({when(head_peak[n][1])})  {head_above[n] * STEP_H:6.2f} h")
    print(f"  lowest node voltage  {vmin[0]:.4f} pu ({when(vmin[1])}); hours with a node < 0.93 pu: {low_steps * STEP_H:.2f}")
    print(f"  highest node voltage {vmax[0]:.4f} pu ({when(vmax[1])}); hours with a node > 1.07 pu: {high_steps * STEP_H:.2f}")
    print(f"  source: peak {src_peak[0]:.0f} kW ({when(src_peak[1])}), least {src_min[0]:.0f} kW ({when(src_min[1])}), "
          f"energy {e_src / 1000:.1f} MWh; losses {e_loss / 1000:.1f} MWh ({100 * e_loss / e_src:.2f} %); "
          f"PV {e_pv / 1000:.1f} MWh")
    if design:
        print(f"  at the design step {design_step} ({when(design_step)}): source {design[0]:.3f} kW "
              f"{design[1]:.3f} kvar; " + ", ".join(f"{n} {x:.1f} %" for n, x in design[2].items())
              + "  (the snapshot of Master.dss is this step)")
    print("  regulator tap range: " + ", ".join(f"{n} {a:+d}..{b:+d}" for n, (a, b) in taps_seen.items()))
    return peak


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snapshot-only", action="store_true")
    ap.add_argument("--steps", type=int, default=NPTS, help="stop the stepped year after this many steps")
    ap.add_argument("--steps-csv", help="write step,hour,p_kw,q_kvar,loss_kw,vmin,vmax,taps per step")
    ap.add_argument("--vgrid", help="path of the vgrid binary (e.g. target/release/vgrid)")
    a = ap.parse_args()
    exe = os.path.abspath(a.vgrid) if a.vgrid else None
    if a.steps_csv:
        a.steps_csv = os.path.abspath(a.steps_csv)
    ref = snapshot()
    ok = ref["converged"]
    if a.vgrid:
        ok &= compare_vgrid(exe, ref)
    if not a.snapshot_only:
        peak = year(a.steps, a.steps_csv)
        over = [n for n, (x, _) in peak.items() if x > 100]
        print(f"transformers overloaded during the year: {', '.join(over) or 'none'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
