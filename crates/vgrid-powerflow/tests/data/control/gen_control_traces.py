"""Control-loop traces of OpenDSS on the IEEE feeders, and an independent re-enactment of them.

For each reference case this script

1. lets OpenDSS solve the snapshot with its own control loop and records its regulator event log
   (control iteration, regulator, new tap), the control-iteration count and the final taps;
2. re-enacts the loop the way `vgrid_powerflow::control` implements it, with OpenDSS used only as a
   power-flow engine (`SolveNoControl`, taps set by hand), recording every sampled control voltage;
3. checks that both agree (same moves in the same iterations and order, same taps, same count).

The output, `control_traces.json`, lets vgrid's tests compare not just the final taps but the whole
sequence of control iterations, and shows how far each decision was from a band edge or a
rounding boundary (`min_band_margin_v`, `min_round_margin_steps`). It also holds, per control
iteration, the monitored winding terminal's conductor voltages and currents of every regulator
(`reenactment.terminals`) and the regulator settings (`reenactment.regulators`), so that the Rust
control loop can be replayed on OpenDSS's own power flows without a network solver
(`tests/it/control_replay.rs`).

Run: /work/.venv-peers/bin/python gen_control_traces.py  (OpenDSSDirect.py 0.9.4, DSS C-API 0.14.5)
"""
import json, math, os, re, sys, tempfile
import numpy as np
import opendssdirect as dss

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(os.path.join(HERE, "../../../../../../shared"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared"
FEEDERS = os.path.join(SHARED, "feeders")
CASES = ["ieee13", "ieee34_mod1", "ieee34_mod2", "ieee37", "ieee123"]


def setup(case):
    """Compile the master with its Solve lines removed, then replay the reference's commands."""
    s = json.load(open(f"{FEEDERS}/reference/opendss/{case}/summary.json"))
    path = os.path.join(FEEDERS, s["master"].replace("feeders/", "", 1))
    # the stripped copy goes to a temporary folder (the feeders are read-only); it starts by
    # moving to the master's folder so that its Redirects resolve as in the original
    tmp = os.path.join(tempfile.mkdtemp(), "master_without_solve.dss")
    with open(path) as f, open(tmp, "w") as g:
        g.write(f'cd "{os.path.dirname(path)}"\n')
        for line in f:
            if not re.match(r"^\s*solve\b", line, re.I):
                g.write(line)
    dss.Text.Command("clear")
    try:
        dss.Text.Command(f"compile [{tmp}]")
    finally:
        os.remove(tmp)
        os.rmdir(os.path.dirname(tmp))
    for c in s["post_compile_commands"]:
        dss.Text.Command(c)
    return s


def regulators():
    out = []
    for name in dss.RegControls.AllNames():
        dss.RegControls.Name(name)
        r = dict(name=name, xf=dss.RegControls.Transformer(), wdg=dss.RegControls.Winding(),
                 tapw=dss.RegControls.TapWinding(), vreg=dss.RegControls.ForwardVreg(),
                 band=dss.RegControls.ForwardBand(), pt=dss.RegControls.PTRatio(),
                 ct=dss.RegControls.CTPrimary(), R=dss.RegControls.ForwardR(), X=dss.RegControls.ForwardX(),
                 delay=dss.RegControls.Delay(), maxchange=dss.RegControls.MaxTapChange())
        dss.Transformers.Name(r["xf"])
        dss.Transformers.Wdg(r["wdg"])
        r["delta"] = dss.Transformers.IsDelta()
        kv = dss.Transformers.kV()
        dss.Circuit.SetActiveElement("Transformer." + r["xf"])
        r["nph"] = dss.CktElement.NumPhases()
        r["vbase"] = kv * 1000 / math.sqrt(3) if (not r["delta"] and r["nph"] in (2, 3)) else kv * 1000
        dss.Transformers.Wdg(r["tapw"])
        r["min"], r["max"], r["ntaps"] = dss.Transformers.MinTap(), dss.Transformers.MaxTap(), dss.Transformers.NumTaps()
        r["step"] = (r["max"] - r["min"]) / r["ntaps"]
        r["armed"], r["pending"] = False, 0.0
        wd = []
        for w in (1, 2):
            dss.Transformers.Wdg(w)
            wd.append(dict(kv=dss.Transformers.kV(), conn="delta" if dss.Transformers.IsDelta() else "wye",
                           tap=dss.Transformers.Tap()))
        r["windings"] = wd
        out.append(r)
    return out


def tap(r, value=None):
    dss.Transformers.Name(r["xf"])
    dss.Transformers.Wdg(r["tapw"])
    if value is not None:
        dss.Transformers.Tap(value)
    return dss.Transformers.Tap()


def tap_number(r):
    return int(np.round((tap(r) - (r["max"] + r["min"]) / 2) / r["step"]))


def sample(r, k, queue, margins):
    """RegControl.Sample for PTphase=1 and no bus=/reverse/vlimit (all the IEEE cases)."""
    dss.Circuit.SetActiveElement("Transformer." + r["xf"])
    v = np.array(dss.CktElement.Voltages()); v = v[0::2] + 1j * v[1::2]
    i = np.array(dss.CktElement.Currents()); i = i[0::2] + 1j * i[1::2]
    n = r["nph"]
    off = (r["wdg"] - 1) * (n + 1)
    vt, it = v[off:off + n + 1], i[off:off + n + 1]
    if r["delta"]:  # line-to-line: conductor i minus the next one (for 1 phase, the 2nd conductor)
        vw = [vt[j] - vt[(j + 1) % n if n > 2 else j + 1] for j in range(n)]
    else:
        vw = [vt[j] - vt[n] for j in range(n)]
    vc = vw[0] / r["pt"]
    if r["R"] != 0 or r["X"] != 0:
        vc += complex(r["R"], r["X"]) * it[0] / r["ct"]
    va = abs(vc)
    margins["band"] = min(margins["band"], abs(abs(r["vreg"] - va) - r["band"] / 2))
    if abs(r["vreg"] - va) > r["band"] / 2:
        steps = (r["vreg"] - va) * r["pt"] / r["vbase"] / r["step"]
        margins["round"] = min(margins["round"], abs(abs(steps % 1.0) - 0.5))
        r["pending"] = float(np.round(steps)) * r["step"]
        if r["tapw"] != r["wdg"]:
            r["pending"] = -r["pending"]
        t = tap(r)
        if r["pending"] != 0 and not r["armed"] and ((r["pending"] > 0 and t < r["max"]) or (r["pending"] < 0 and t > r["min"])):
            due = r["delay"]
            at = next((j for j, a in enumerate(queue) if due <= a[0]), len(queue))
            queue.insert(at, (due, k))
            r["armed"] = True
    else:
        r["pending"] = 0.0
        if r["armed"]:
            queue[:] = [a for a in queue if a[1] != k]
            r["armed"] = False
    return va


def act(r):
    if r["pending"] == 0:
        r["armed"] = False
        return None
    n = min(max(math.trunc(0.7 * abs(r["pending"]) / r["step"]), 1), r["maxchange"])
    n = n if r["pending"] > 0 else -n
    new = min(max(tap(r) + n * r["step"], r["min"]), r["max"])
    tap(r, new)
    r["pending"], r["armed"] = 0.0, False
    return n, new


def terminal(r):
    """Conductor voltages and currents of the monitored winding's terminal, as [re, im] pairs."""
    dss.Circuit.SetActiveElement("Transformer." + r["xf"])
    n = r["nph"] + 1
    off = 2 * (r["wdg"] - 1) * n
    v = dss.CktElement.Voltages()[off:off + 2 * n]
    i = dss.CktElement.Currents()[off:off + 2 * n]
    return dict(v=[v[k:k + 2] for k in range(0, 2 * n, 2)], i=[i[k:k + 2] for k in range(0, 2 * n, 2)])


def config(r):
    return dict(name=r["name"], transformer=r["xf"], phases=r["nph"], winding=r["wdg"], tap_winding=r["tapw"],
                vreg=r["vreg"], band=r["band"], ptratio=r["pt"], ctprim=r["ct"], r=r["R"], x=r["X"],
                delay=r["delay"], maxtapchange=r["maxchange"], mintap=r["min"], maxtap=r["max"],
                numtaps=r["ntaps"], windings=r["windings"])


def reenact(case):
    setup(case)
    max_ci = dss.Solution.MaxControlIterations()
    regs = regulators()
    configs = [config(r) for r in regs]
    solutions = []
    dss.Solution.InitSnap()
    queue, moves, samples = [], [], []
    margins = {"band": float("inf"), "round": float("inf")}
    it, done = 0, False
    while True:
        it += 1
        dss.Solution.SolveNoControl()
        solutions.append({r["name"]: terminal(r) for r in regs})
        if it < max_ci:
            if not dss.Solution.Converged():
                done = True
            else:
                samples.append({r["name"]: sample(r, k, queue, margins) for k, r in enumerate(regs)})
                if not queue:
                    done = True
                else:
                    t0 = queue[0][0]
                    while queue and queue[0][0] <= t0:
                        _, k = queue.pop(0)
                        m = act(regs[k])
                        if m:
                            moves.append([it, regs[k]["name"], m[0], m[1]])
        if done or it >= max_ci:
            break
    return dict(max_control_iterations=max_ci, regulators=configs, terminals=solutions,
                control_iterations=it, settled=done, taps={r["name"]: tap_number(r) for r in regs},
                moves=moves, control_voltages_v=samples,
                min_band_margin_v=margins["band"], min_round_margin_steps=margins["round"])


def opendss_own(case):
    setup(case)
    for n in dss.RegControls.AllNames():
        dss.Text.Command(f"regcontrol.{n}.eventlog=yes")
    dss.Solution.Solve()
    xf_to_reg = {}
    for n in dss.RegControls.AllNames():
        dss.RegControls.Name(n)
        xf_to_reg[dss.RegControls.Transformer()] = n
    moves = []
    for line in dss.Solution.EventLog():
        m = re.search(r"ControlIter=(\d+), Element=Regulator\.(\S+), Action= CHANGED (-?\d+) TAPS TO ([0-9]+\.?[0-9]*)", line)
        if m:
            moves.append([int(m[1]), xf_to_reg[m[2]], int(m[3]), float(m[4])])
    taps = {}
    for n in dss.RegControls.AllNames():
        dss.RegControls.Name(n)
        taps[n] = dss.RegControls.TapNumber()
    return dict(control_iterations=dss.Solution.ControlIterations(), taps=taps, moves=moves)


# --- Capacitor controls: OpenDSS's own loop, stepped ------------------------------------------
# None of the IEEE feeders has a CapControl, so these cases add some to the 13-node feeder and
# let OpenDSS run its own loop one control iteration at a time (SolveNoControl,
# SampleControlDevices, DoControlActions), recording every monitored terminal at each iteration
# and OpenDSS's event log. The stepped loop is checked against a plain Solve.

CAP_CASES = {
    # all banks start with every step out: OpenDSS still calls them closed and steps up
    "ieee13_capcontrol_kvar_voltage": [
        "Capacitor.cap1.states=[0]", "Capacitor.cap2.states=[0]",
        "New CapControl.cc1 Capacitor=Cap1 Element=Line.650632 Terminal=1 type=kvar ON=500 OFF=-300 Delay=20 DelayOFF=20",
        "New CapControl.cc2 Capacitor=Cap2 Element=Line.684611 Terminal=2 type=voltage ON=119 OFF=126 PTratio=20 Delay=45",
    ],
    # power factor and current opening banks, a high-voltage override on an empty bank
    "ieee13_capcontrol_pf_current_override": [
        "New CapControl.cc1 Capacitor=Cap1 Element=Line.650632 Terminal=1 type=pf ON=0.80 OFF=0.88 Delay=15 DelayOFF=10",
        "New CapControl.cc2 Capacitor=Cap2 Element=Line.684611 Terminal=1 type=current CTratio=1 ON=90 OFF=75 DelayOFF=25",
        "New Capacitor.cap3 Bus1=675 phases=3 kvar=300 kv=4.16 states=[0]",
        "New CapControl.cc3 Capacitor=cap3 Element=Line.692675 Terminal=1 type=kvar ON=2000 OFF=-2000 "
        "VoltOverride=yes Vmin=118 Vmax=124.5 PTratio=20 PTphase=max Delay=5 DelayOFF=5",
    ],
}


def element_terminal(element, term):
    dss.Circuit.SetActiveElement(element)
    n = dss.CktElement.NumConductors()
    off = 2 * (term - 1) * n
    v = dss.CktElement.Voltages()[off:off + 2 * n]
    i = dss.CktElement.Currents()[off:off + 2 * n]
    return dict(v=[v[k:k + 2] for k in range(0, 2 * n, 2)], i=[i[k:k + 2] for k in range(0, 2 * n, 2)])


def phase_code(text):
    """OpenDSS PTphase/CTphase text to the model's code: 1-based, 0 = AVG, -1 = MAX, -2 = MIN."""
    t = text.strip().lower()
    named = {"avg": 0, "max": -1, "min": -2}
    return named[t] if t in named else (int(float(t)) if t else 1)


def cap_configs():
    caps, ccs, elements = [], [], {}
    for n in dss.Capacitors.AllNames():
        dss.Capacitors.Name(n)
        dss.Circuit.SetActiveElement("Capacitor." + n)
        caps.append(dict(name=n, phases=dss.CktElement.NumPhases(), kv=dss.Capacitors.kV(),
                         kvar=dss.Capacitors.kvar(), numsteps=dss.Capacitors.NumSteps(),
                         conn="delta" if dss.Capacitors.IsDelta() else "wye",
                         states=list(dss.Capacitors.States())))
    kinds = {0: "current", 1: "voltage", 2: "kvar", 3: "time", 4: "pf"}
    for n in dss.CapControls.AllNames():
        dss.CapControls.Name(n)
        element = dss.CapControls.MonitoredObj()
        dss.Circuit.SetActiveElement(element)
        elements[element.lower()] = dss.CktElement.NumPhases()
        dss.Text.Command(f"? capcontrol.{n}.ptphase"); pt = dss.Text.Result()
        dss.Text.Command(f"? capcontrol.{n}.ctphase"); ct = dss.Text.Result()
        ccs.append(dict(name=n, capacitor=dss.CapControls.Capacitor(), element=element.lower(),
                        terminal=dss.CapControls.MonitoredTerm(), type=kinds[dss.CapControls.Mode()],
                        on=dss.CapControls.ONSetting(), off=dss.CapControls.OFFSetting(),
                        delay=dss.CapControls.Delay(), delayoff=dss.CapControls.DelayOff(),
                        deadtime=dss.CapControls.DeadTime(), ptratio=dss.CapControls.PTRatio(),
                        ctratio=dss.CapControls.CTRatio(), vmin=dss.CapControls.Vmin(), vmax=dss.CapControls.Vmax(),
                        voltoverride=bool(dss.CapControls.UseVoltOverride()), ptphase=phase_code(pt), ctphase=phase_code(ct)))
    return caps, ccs, elements


def parse_events(log):
    moves = []
    xf_to_reg = {}
    for n in dss.RegControls.AllNames():
        dss.RegControls.Name(n)
        xf_to_reg[dss.RegControls.Transformer()] = n
    for line in log:
        m = re.search(r"ControlIter=(\d+), Element=Regulator\.(\S+), Action= CHANGED (-?\d+) TAPS TO ([0-9]+\.?[0-9]*)", line)
        if m:
            moves.append([int(m[1]), "regulator", xf_to_reg[m[2]], int(m[3]), float(m[4])])
        m = re.search(r"ControlIter=(\d+), Element=Capacitor\.(\S+), Action=\*\*(OPENED|CLOSED|STEP UP|STEP DOWN)\*\*", line)
        if m:
            moves.append([int(m[1]), "capacitor", m[2], m[3].lower(), None])
    return moves


def opendss_stepped(case, extra):
    def prepare():
        setup("ieee13")
        for c in extra:
            dss.Text.Command(c)
        for n in dss.RegControls.AllNames():
            dss.Text.Command(f"regcontrol.{n}.eventlog=yes")
        for n in dss.CapControls.AllNames():
            dss.Text.Command(f"capcontrol.{n}.eventlog=yes")

    def finals():
        caps = {}
        for n in dss.Capacitors.AllNames():
            dss.Capacitors.Name(n)
            caps[n] = list(dss.Capacitors.States())
        taps = {}
        for n in dss.RegControls.AllNames():
            dss.RegControls.Name(n)
            taps[n] = dss.RegControls.TapNumber()
        return caps, taps

    prepare()
    dss.Solution.Solve()
    plain = (dss.Solution.ControlIterations(), finals(), parse_events(dss.Solution.EventLog()))
    dss.Text.Command("clear")

    prepare()
    regs = [config(r) for r in regulators()]
    caps, ccs, elements = cap_configs()
    monitored = [("Transformer." + r["transformer"], r["winding"]) for r in regs]
    for cc in ccs:
        monitored += [(cc["element"], cc["terminal"]), (cc["element"], 1)]
    max_ci = dss.Solution.MaxControlIterations()
    dss.Solution.InitSnap()
    it, terminals, settled = 0, [], False
    while True:
        it += 1
        dss.Solution.ControlIterations(it)
        dss.Solution.SolveNoControl()
        terminals.append({f"{e.lower()}/{t}": element_terminal(e, t) for e, t in monitored})
        if it < max_ci:
            if not dss.Solution.Converged():
                break
            dss.Solution.SampleControlDevices()
            dss.Solution.DoControlActions()
            if dss.Solution.ControlActionsDone():
                settled = True
                break
        if it >= max_ci:
            break
    caps_final, taps = finals()
    moves = parse_events(dss.Solution.EventLog())
    dss.Text.Command("clear")
    if (it, (caps_final, taps), moves) != plain:
        print(f"{case}: stepped loop differs from Solve:", (it, caps_final, taps, moves), plain, file=sys.stderr)
        sys.exit(1)
    print(f"{case}: OpenDSS {it} iterations, capacitors {caps_final}, taps {taps}, {len(moves)} moves",
          file=sys.stderr)
    return dict(extra_commands=extra, max_control_iterations=max_ci, regulators=regs, capacitors=caps,
                capcontrols=ccs, monitored_element_phases=elements, terminals=terminals,
                control_iterations=it, settled=settled, moves=moves, capacitor_states=caps_final, taps=taps)


def one_case(case):
    """Everything for one case (each case runs in its own process: DSS C-API 0.14.5 sometimes
    crashes when a circuit is cleared after an event-logged solve)."""
    if case in CAP_CASES:
        return opendss_stepped(case, CAP_CASES[case])
    ours = reenact(case)
    own = opendss_own(case)
    same = (own["control_iterations"] == ours["control_iterations"] and own["taps"] == ours["taps"]
            and [m[:3] for m in own["moves"]] == [m[:3] for m in ours["moves"]]
            and all(abs(a[3] - b[3]) < 1e-9 for a, b in zip(own["moves"], ours["moves"])))
    print(f"{case}: OpenDSS {own['control_iterations']} iterations, taps {own['taps']}; "
          f"re-enactment {'agrees' if same else 'DIFFERS'}; margins {ours['min_band_margin_v']:.4f} V, "
          f"{ours['min_round_margin_steps']:.5f} steps", file=sys.stderr)
    if not same:
        print("  OpenDSS:", own["moves"], "\n  ours:   ", ours["moves"], file=sys.stderr)
        sys.exit(1)
    return dict(opendss=own, reenactment=ours)


def main():
    import subprocess
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        json.dump(one_case(sys.argv[2]), sys.stdout)
        return
    out = {"capcontrol_cases": {}}
    for case in CASES + list(CAP_CASES):
        for attempt in range(5):  # DSS C-API 0.14.5 segfaults now and then on clear; retry
            r = subprocess.run([sys.executable, __file__, "--case", case], stdout=subprocess.PIPE)
            if r.returncode == 0:
                break
        r.check_returncode()
        data = json.loads(r.stdout)
        if case in CAP_CASES:
            out["capcontrol_cases"][case] = data
        else:
            out[case] = data
    with open(os.path.join(HERE, "control_traces.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
