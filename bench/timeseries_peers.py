#!/usr/bin/env python3
"""vgrid's time series against its peers, measured in one run on this machine, on the same cases.

What is measured (each measurement RUNS times, median; the machine is shared, so read the ratios
measured in one run, not absolute times across runs):

 1. OpenDSS QSTS (opendssdirect.py, DSS C-API) on the reference scripts
    ../shared/feeders/reference/opendss_timeseries/<case>/run.dss -- IEEE 123 yearly (8,760 h,
    regulators active) and the European LV feeder daily (1,440 min) -- executed line by line as
    ../shared/bench/opendss_timeseries.py runs them: `clear`, the set-up lines, then ONE `solve`
    of all steps. Timed twice per run: the last `solve` alone (OpenDSS's figure in
    opendss_timeseries.py) and set-up + solve (compile, load shapes, everything).
    vgrid on the SAME run.dss files:
      - engine: the step loop alone, in process (crates/vgrid-timeseries/examples/yearly_timing.rs,
        tolerance 1e-9, reading and building untimed), as OpenDSS's timed `solve`; and again
        with --no-start-cache (flows start from the step-to-step prediction, not from the
        solutions remembered by load level and tap positions);
      - CLI: `vgrid timeseries run.dss --json` in a fresh process per run: its own `run_time_s`
        (step loop + per-node and per-element statistics) and the whole process wall time
        (start, reading the script, building, the run, statistics, the JSON summary), also with
        `--no-elements`.
    OpenDSS runs at its default tolerance (1e-4); vgrid always solves to 1e-9.

 2. SimBench grids (15-minute profiles, 35,136 steps in the year 2016), the grid taken by the
    Python peers from the `simbench` package (sb.get_simbench_net) and by vgrid from the SimBench
    CSV folder ../shared/simbench/<code>:
      - pandapower's time-series module (ConstControl per element from
        sb.apply_const_controllers, OutputWriter logging res_bus.vm_pu and
        res_line.loading_percent, run_timeseries; as ../shared/bench/bench_pp.py `ts`) over the
        first NSTEPS steps, with numba (pandapower's fast path; one untimed runpp first so the
        JIT compile is not timed) and without; the year is EXTRAPOLATED (per step x 35,136);
      - power-grid-model batch power flow (as ../shared/bench/bench_pgm.py: converted with
        power-grid-model-io's PandaPowerConverter, update arrays for every load and sgen, output
        node and line, tolerance 1e-8) over the full year (PGM_STEPS, default 35,136), threading=1,
        balanced (sym) and three-phase (asym), iterative current and Newton-Raphson;
        model building and update arrays untimed;
      - `vgrid timeseries <folder> --json` over the full year (three-phase model, solved in
        positive sequence since every SimBench grid is balanced), fresh process per run: process wall time, its `run_time_s`, `--no-elements`;
        and over the same first NSTEPS steps (`--number NSTEPS`) as pandapower.
    pandapower and PGM per-step figures exclude loading SimBench and building the model; vgrid's
    process wall includes reading the CSV tables and profiles.

 3. Peak memory (peak RSS of the vgrid process, measured by GNU time, /usr/bin/time) of
    `vgrid timeseries` on each SimBench grid for 1 day (96 steps), 1 month (2,976) and the year
    (35,136), and on IEEE 123 for 1 day, 1 month and the year (24, 744, 8,760 h): once with the
    per-step rows streamed to --per-step and the --elements, --buses, --trip-risk tables written
    (text summary), once with --json (whose summary lists every trip-risk episode).

 A summary table at the end gives each speed-up (peer time / vgrid time, by wall time and by
 CPU time) against issue 3's targets: 20x OpenDSS, 200x pandapower, faster than power-grid-model.

Set-up (once, from the repository root, with the shared data in ../shared):

    python3 -m venv /work/.venv-peers
    /work/.venv-peers/bin/pip install opendssdirect.py pandapower simbench power-grid-model power-grid-model-io numba
    cargo build --release -p vgrid-cli
    cargo build --release -p vgrid-timeseries --example yearly_timing

(the script runs the two cargo builds itself unless --no-build.) Run:

    /work/.venv-peers/bin/python bench/timeseries_peers.py | tee bench/results/timeseries_peers_$(date -u +%F).txt

Options (argv, or the environment variable in brackets):
    --runs N        [RUNS]       timed runs per measurement, median reported (default 3)
    --nsteps N      [NSTEPS]     pandapower steps, and vgrid's same-steps run (default 500)
    --pgm-steps N   [PGM_STEPS]  power-grid-model batch steps (default 35136, the year)
    --sections L    [SECTIONS]   comma list of opendss,simbench,memory (default all three)
    --grids L       [GRIDS]      SimBench codes (default 1-LV-rural1--0-sw,1-MV-urban--0-sw)
    --pp-variants L [PP_VARIANTS] numba,nonumba (default both)
    --pgm-methods L [PGM_METHODS] iterative_current,newton_raphson (default both)
    --shared DIR    [VGRID_SHARED] the shared data folder (default ../shared from the repository)
    --json FILE     [BENCH_JSON] also write every raw figure as JSON
    --no-build                   do not run cargo build first
A full run with the defaults takes 6 to 9 minutes on 2 shared cores.
Internally the script re-invokes itself (`--worker ...`) so that every peer measurement runs in
a fresh Python process of its own (no shared state, memory of each measured on its own).
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
YEAR_STEPS = 35136  # 2016, leap year, 15-minute steps
OPENDSS_CASES = [("ieee123_yearly", 8760), ("eulv_daily", 1440)]


# ----------------------------------------------------------------------------------------------
# workers: each runs in a fresh process and prints one JSON line as its last line of stdout
# ----------------------------------------------------------------------------------------------

def _quiet():
    import logging
    import warnings
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)


def worker_opendss(script, runs):
    """OpenDSS: run.dss line by line; time set-up+solve and the last `solve` alone."""
    import opendssdirect as dss
    case_dir = os.path.dirname(os.path.abspath(script))
    lines = []
    with open(script) as f:
        for raw in f:
            line = raw.split("!", 1)[0].strip()
            if line:
                lines.append(line)
    # the last solve is the timed series (as opendss_timeseries.py and run.dss's comment say)
    last = max(i for i, l in enumerate(lines) if l.lower().split()[0] == "solve")
    setup, timed = lines[:last], lines[last]
    total, solve, cpu_solve, cpu_total = [], [], [], []
    for _ in range(runs):
        os.chdir(case_dir)  # run.dss's paths are relative to its folder; compile moves the cwd
        c0 = time.process_time()
        t0 = time.perf_counter()
        for c in setup:
            dss.Text.Command(c)
        c1 = time.process_time()
        t1 = time.perf_counter()
        dss.Text.Command(timed)
        t2 = time.perf_counter()
        c2 = time.process_time()
        total.append(t2 - t0)
        solve.append(t2 - t1)
        cpu_solve.append(c2 - c1)
        cpu_total.append(c2 - c0)
    return dict(engine=dss.Basic.Version().split("\n")[0][:60], setup_commands=setup, timed=timed,
                converged=bool(dss.Solution.Converged()), number=dss.Solution.Number(),
                hour=dss.Solution.DblHour(), nodes=dss.Circuit.NumNodes(),
                tolerance=dss.Solution.Convergence(),
                total_s=total, solve_s=solve, cpu_solve_s=cpu_solve, cpu_total_s=cpu_total)


def _load_sb(code, nsteps):
    import simbench as sb
    net = sb.get_simbench_net(code)
    absv = sb.get_absolute_values(net, profiles_instead_of_study_cases=True)
    P = absv[("load", "p_mw")].values[:nsteps]
    Q = absv[("load", "q_mvar")].values[:nsteps]
    G = absv[("sgen", "p_mw")].values[:nsteps]
    return net, absv, P, Q, G


def worker_pp(code, nsteps, variant, runs):
    """pandapower's time-series module over the first nsteps steps (bench_pp.py `ts`)."""
    _quiet()
    import pandapower as pp
    import simbench as sb
    import pandapower.timeseries.run_time_series as rts
    from pandapower.timeseries import OutputWriter, run_timeseries
    use_numba = variant == "numba"
    # time the step loop apart from run_timeseries's fixed set-up (init_time_series,
    # control_diagnostic, cleanups), which would otherwise dominate a short run
    loop_span = []
    inner_loop = rts.run_loop

    def timed_loop(*a, **k):
        t = time.perf_counter()
        inner_loop(*a, **k)
        loop_span.append(time.perf_counter() - t)
    rts.run_loop = timed_loop
    times, cpus, loops = [], [], []

    def prepared(n):
        net, absv, _, _, _ = _load_sb(code, n)
        sb.apply_const_controllers(net, absv)
        ow = OutputWriter(net, time_steps=range(n), output_path=None)
        ow.log_variable("res_bus", "vm_pu")
        ow.log_variable("res_line", "loading_percent")
        return net, ow
    # untimed warm-up on a throw-away copy of the grid: a 2-step series compiles pandapower's
    # numba kernels (the power flow's and the OutputWriter's batch results, v_to_i_s: ~6 s of JIT
    # compile on the first call, with numba=False too), so that the timed runs are pandapower's
    # steady state. (A second run_timeseries on the same net skips the batch results, so the
    # warm-up cannot reuse the timed net.)
    net, ow = prepared(2)
    run_timeseries(net, time_steps=range(2), verbose=False, numba=use_numba)
    for _ in range(runs):
        net, ow = prepared(nsteps)
        loop_span.clear()
        c0 = time.process_time()
        t0 = time.perf_counter()
        run_timeseries(net, time_steps=range(nsteps), verbose=False, numba=use_numba)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        loops.append(loop_span[-1])
        vm = ow.output["res_bus.vm_pu"].values
    import numba
    from importlib.metadata import version
    return dict(code=code, steps=nsteps, variant=variant, nbus=len(net.bus), wall_s=times, cpu_s=cpus,
                loop_s=loops,
                vmin_pu=float(vm.min()), vmax_pu=float(vm.max()),
                pandapower=version("pandapower"), numba=numba.__version__, simbench=version("simbench"))


def worker_pgm(code, nsteps, methods, runs):
    """power-grid-model batch power flow (bench_pgm.py), threading=1."""
    _quiet()
    import numpy as np
    import pandapower as pp
    from importlib.metadata import version
    from power_grid_model import (CalculationMethod, ComponentType, DatasetType, PowerGridModel,
                                  initialize_array)
    from power_grid_model_io.converters import PandaPowerConverter
    net, absv, P, Q, G = _load_sb(code, nsteps)
    # pandapower at the last step, to check agreement
    net.load["p_mw"] = P[-1]; net.load["q_mvar"] = Q[-1]; net.sgen["p_mw"] = G[-1]
    pp.runpp(net)
    vm_pp_last = net.res_bus.vm_pu.values.copy()
    net.trafo["vector_group"] = "Dyn5"  # SimBench leaves it empty; shift_degree=150
    # zero-sequence data (absent in SimBench), as bench_pgm.py / bench_pp.py loop3ph
    net.line["r0_ohm_per_km"] = net.line.r_ohm_per_km; net.line["x0_ohm_per_km"] = net.line.x_ohm_per_km
    net.line["c0_nf_per_km"] = net.line.c_nf_per_km
    net.trafo["vk0_percent"] = net.trafo.vk_percent; net.trafo["vkr0_percent"] = net.trafo.vkr_percent
    net.trafo["mag0_percent"] = 100; net.trafo["mag0_rx"] = 0; net.trafo["si0_hv_partial"] = 0.9
    net.ext_grid["s_sc_max_mva"] = 1000; net.ext_grid["rx_max"] = 0.1
    net.ext_grid["r0x0_max"] = 0.1; net.ext_grid["x0x_max"] = 1.0
    conv = PandaPowerConverter()
    t0 = time.perf_counter()
    inp, _ = conv.load_input_data(net, make_extra_info=True)
    model = PowerGridModel(inp)
    build_s = time.perf_counter() - t0
    ids_p = [conv.get_id("load", i, name="const_power") for i in net.load.index]
    ids_g = [conv.get_id("sgen", i) for i in net.sgen.index]
    upd_load = initialize_array(DatasetType.update, ComponentType.sym_load, (nsteps, len(ids_p)))
    upd_load["id"] = np.array(ids_p)[None, :]
    upd_load["p_specified"] = P * 1e6
    upd_load["q_specified"] = Q * 1e6
    upd_gen = initialize_array(DatasetType.update, ComponentType.sym_gen, (nsteps, len(ids_g)))
    upd_gen["id"] = np.array(ids_g)[None, :]
    upd_gen["p_specified"] = G * 1e6
    upd_gen["q_specified"] = 0.0
    update = {ComponentType.sym_load: upd_load, ComponentType.sym_gen: upd_gen}
    node_ids = np.array([conv.get_id("bus", i) for i in net.bus.index])
    res = dict(code=code, steps=nsteps, build_s=build_s, power_grid_model=version("power-grid-model"),
               power_grid_model_io=version("power-grid-model-io"), results={})
    for sym, label in ((True, "sym"), (False, "asym")):
        for mname in methods:
            method = getattr(CalculationMethod, mname)
            times, cpus = [], []
            for _ in range(runs):
                out = None
                c0 = time.process_time()
                t0 = time.perf_counter()
                out = model.calculate_power_flow(
                    symmetric=sym, calculation_method=method, update_data=update, threading=1,
                    error_tolerance=1e-8, max_iterations=20,
                    output_component_types={ComponentType.node, ComponentType.line})
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                u = out[ComponentType.node]["u_pu"]
                idmap = {nid: k for k, nid in enumerate(out[ComponentType.node]["id"][0])}
                last = u[-1] if sym else u[-1].mean(axis=1)
                vm = np.array([last[idmap[n]] for n in node_ids])
                del out, u
            res["results"][f"{label}_{mname}"] = dict(
                wall_s=times, cpu_s=cpus, maxdV_vs_pandapower_last_pu=float(np.abs(vm - vm_pp_last).max()))
    return res


def worker_main(argv):
    kind = argv[0]
    if kind == "opendss":
        r = worker_opendss(argv[1], int(argv[2]))
    elif kind == "pp":
        r = worker_pp(argv[1], int(argv[2]), argv[3], int(argv[4]))
    elif kind == "pgm":
        r = worker_pgm(argv[1], int(argv[2]), argv[3].split(","), int(argv[4]))
    else:
        raise SystemExit(f"unknown worker {kind}")
    sys.stdout.write("\n" + json.dumps(r) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------------

def run_child(cmd, env=None, cwd=None):
    """Run cmd in a fresh process; return (exit code, stdout, stderr, wall s, rusage of that child
    alone). Output goes to temporary files so that os.wait4 can collect the child's own rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0); err.seek(0)
        return p.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"), wall, ru


def worker(args, env):
    rc, out, err, wall, ru = run_child([sys.executable, os.path.abspath(__file__), "--worker", *map(str, args)],
                                       env=env)
    if rc != 0:
        sys.stdout.write(f"!! worker {args} failed (exit {rc}):\n{err[-3000:]}\n")
        return None
    r = json.loads(out.strip().splitlines()[-1])
    r["process_wall_s"] = wall
    r["process_peak_rss_mb"] = ru.ru_maxrss / 1024.0
    return r


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def loadavg():
    try:
        a = os.getloadavg()
        return f"load average {a[0]:.2f} {a[1]:.2f} {a[2]:.2f} (1/5/15 min) on {os.cpu_count()} cores"
    except OSError:
        return "load average n/a"


def say(s=""):
    print(s, flush=True)


def fmt_s(x):
    return f"{x:.3f}" if x == x else "-"


def table(header, rows, left=1):
    """A plain-text table; the first `left` columns left-aligned, the others right-aligned."""
    w = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    say("  " + " | ".join(str(h).ljust(w[i]) for i, h in enumerate(header)))
    say("  " + "-+-".join("-" * x for x in w))
    for r in rows:
        say("  " + " | ".join(str(c).rjust(w[i]) if i >= left else str(c).ljust(w[i]) for i, c in enumerate(r)))


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
RSS_MARK = "timeseries_peers-rusage"


def vgrid_runs(vgrid, target, extra, runs, env, json_summary=True):
    """`vgrid timeseries target --json extra` in a fresh process per run.

    Peak RSS and CPU come from GNU time (/usr/bin/time) when it is installed: a process
    started straight from Python inherits Python's resident pages until its exec, and Linux
    keeps that high-water mark in the child's ru_maxrss, so os.wait4 alone would report the
    benchmark's own ~20 MB as a floor for every run. Without GNU time that floor is reported."""
    walls, loops, setups, rss, cpu, last = [], [], [], [], [], None
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            args = [a.replace("{tmp}", tmp) for a in extra]
            cmd = [vgrid, "timeseries", target, *(["--json"] if json_summary else []), *args]
            if GNU_TIME:
                cmd = [GNU_TIME, "-f", f"{RSS_MARK} %U %S %M"] + cmd
            rc, out, err, wall, ru = run_child(cmd, env=env)
        if rc not in (0, 1):
            raise SystemExit(f"vgrid timeseries {target} {' '.join(extra)} failed ({rc}):\n{err[-3000:]}")
        j = json.loads(out) if json_summary else dict(run_time_s=float("nan"), setup_time_s=float("nan"))
        walls.append(wall); loops.append(j["run_time_s"]); setups.append(j["setup_time_s"])
        marks = [l.split() for l in err.splitlines() if l.startswith(RSS_MARK)]
        if marks:
            u, sy, kb = marks[-1][1:4]
            rss.append(float(kb) / 1024.0); cpu.append(float(u) + float(sy))
        else:
            rss.append(ru.ru_maxrss / 1024.0); cpu.append(ru.ru_utime + ru.ru_stime)
        last = j
    return dict(wall_s=walls, run_time_s=loops, setup_time_s=setups, peak_rss_mb=rss, cpu_s=cpu,
                steps=last.get("steps"), steps_not_converged=last.get("steps_not_converged"),
                source_mwh=last.get("source_mwh"), losses_mwh=last.get("losses_mwh"),
                v_min=last.get("v_min"), v_max=last.get("v_max"),
                trip_risk_episodes=len(last["trip_risks"]) if isinstance(last.get("trip_risks"), list) else None)


def parse_opts(argv):
    o = dict(runs=int(os.environ.get("RUNS", 3)), nsteps=int(os.environ.get("NSTEPS", 500)),
             pgm_steps=int(os.environ.get("PGM_STEPS", YEAR_STEPS)),
             sections=os.environ.get("SECTIONS", "opendss,simbench,memory"),
             grids=os.environ.get("GRIDS", "1-LV-rural1--0-sw,1-MV-urban--0-sw"),
             pp_variants=os.environ.get("PP_VARIANTS", "numba,nonumba"),
             pgm_methods=os.environ.get("PGM_METHODS", "iterative_current,newton_raphson"),
             shared=os.environ.get("VGRID_SHARED", os.path.join(os.path.dirname(REPO), "shared")),
             json=os.environ.get("BENCH_JSON"), build=True)
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--no-build":
            o["build"] = False
        elif a.startswith("--") and a[2:].replace("-", "_") in o and i + 1 < len(argv):
            k = a[2:].replace("-", "_")
            o[k] = type(o[k])(argv[i + 1]) if isinstance(o[k], int) else argv[i + 1]
            i += 1
        else:
            raise SystemExit(f"unknown option {a}; see the docstring at the top of {__file__}")
        i += 1
    for k in ("sections", "grids", "pp_variants", "pgm_methods"):
        o[k] = [x for x in o[k].split(",") if x]
    return o


def main():
    o = parse_opts(sys.argv[1:])
    runs = o["runs"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    vgrid = os.path.join(REPO, "target", "release", "vgrid")
    example = os.path.join(REPO, "target", "release", "examples", "yearly_timing")
    if o["build"]:
        for cmd in (["cargo", "build", "--release", "-p", "vgrid-cli"],
                    ["cargo", "build", "--release", "-p", "vgrid-timeseries", "--example", "yearly_timing"]):
            r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    summary = []  # (case, comparison, speed-up = peer time / vgrid time, issue 3's target)
    raw = dict(options={k: v for k, v in o.items()}, started_utc=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
    t_start = time.perf_counter()

    def git(*a):
        r = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return r.stdout.strip()

    from importlib.metadata import PackageNotFoundError, version

    def v(p):
        try:
            return version(p)
        except PackageNotFoundError:
            return "not installed"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    vgrid_version = subprocess.run([vgrid, "--version"], capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    say("vgrid time series vs peers (bench/timeseries_peers.py)")
    say(f"  date (UTC)    {raw['started_utc']}")
    say(f"  machine       {cpu}, {os.cpu_count()} cores, {platform.platform()}")
    say(f"  {loadavg()}  (shared machine: other jobs run meanwhile; each figure is a median)")
    say(f"  vgrid         {vgrid_version}, commit {git('rev-parse', '--short', 'HEAD')}"
        f"{' (work tree has uncommitted changes)' if git('status', '--porcelain', '--untracked-files=no') else ''}, {rustc}")
    say(f"  peers         opendssdirect.py {v('opendssdirect.py')} (dss_python_backend {v('dss_python_backend')}), "
        f"pandapower {v('pandapower')}, numba {v('numba')}, simbench {v('simbench')}, "
        f"power-grid-model {v('power-grid-model')}, power-grid-model-io {v('power-grid-model-io')}, "
        f"Python {platform.python_version()}")
    say(f"  options       RUNS={runs} NSTEPS={o['nsteps']} PGM_STEPS={o['pgm_steps']} "
        f"SECTIONS={','.join(o['sections'])} GRIDS={','.join(o['grids'])} "
        f"PP_VARIANTS={','.join(o['pp_variants'])} PGM_METHODS={','.join(o['pgm_methods'])}")
    say("  all single-threaded (OMP/BLAS/NUMBA threads 1, PGM threading=1, vgrid runs one series on one thread)")

    # ------------------------------------------------------------------ 1. OpenDSS
    if "opendss" in o["sections"]:
        say()
        say("== 1. OpenDSS QSTS vs vgrid on the same run.dss ==")
        say(f"  {loadavg()}")
        raw["opendss"] = {}
        ref = os.path.join(o["shared"], "feeders", "reference", "opendss_timeseries")
        for case, nsteps in OPENDSS_CASES:
            script = os.path.join(ref, case, "run.dss")
            d = worker(["opendss", script, runs], env)
            if d is None:
                continue
            rc, out, err, _, _ = run_child([example, str(runs), "--json", "--tol", "1e-9", script], env=env)
            if rc != 0:
                raise SystemExit(f"yearly_timing failed:\n{err[-3000:]}")
            eng = json.loads(out.strip().splitlines()[-1])
            rc, out, err, _, _ = run_child([example, str(runs), "--json", "--tol", "1e-9", "--no-start-cache", script],
                                           env=env)
            if rc != 0:
                raise SystemExit(f"yearly_timing --no-start-cache failed:\n{err[-3000:]}")
            eng_nc = json.loads(out.strip().splitlines()[-1])
            cli = vgrid_runs(vgrid, script, [], runs, env)
            cli_ne = vgrid_runs(vgrid, script, ["--no-elements"], runs, env)
            raw["opendss"][case] = dict(opendss=d, vgrid_engine=eng, vgrid_engine_no_start_cache=eng_nc, vgrid_cli=cli,
                                        vgrid_cli_no_elements=cli_ne)
            ods_solve, ods_total = med(d["solve_s"]), med(d["total_s"])
            say()
            say(f"  {case}: {nsteps} steps; OpenDSS {d['engine']}, tolerance {d['tolerance']:g}, "
                f"converged at the end: {d['converged']}; vgrid tolerance 1e-9, "
                f"{cli['steps_not_converged']} steps not converged")
            rows = [
                ["OpenDSS: the timed `solve` alone", fmt_s(ods_solve), f"{ods_solve / nsteps * 1e6:.1f}",
                 " ".join(f"{x:.3f}" for x in d["solve_s"]), fmt_s(med(d["cpu_solve_s"]))],
                ["OpenDSS: set-up + solve (clear, compile, ...)", fmt_s(ods_total), f"{ods_total / nsteps * 1e6:.1f}",
                 " ".join(f"{x:.3f}" for x in d["total_s"]), fmt_s(med(d["cpu_total_s"]))],
                ["vgrid engine: step loop alone (yearly_timing)", fmt_s(eng["run_s_median"]), f"{eng['us_per_step']:.1f}",
                 " ".join(f"{x:.3f}" for x in eng["run_s_all"]), "-"],
                [f"  (its iterations/step {eng['iterations_per_step']:.2f}; start cache "
                 f"{'not used' if eng.get('start_cache') is None else 'hits/misses/kept ' + '/'.join(map(str, eng['start_cache']))})",
                 "", "", "", ""],
                ["vgrid engine without the start cache (--no-start-cache)", fmt_s(eng_nc["run_s_median"]),
                 f"{eng_nc['us_per_step']:.1f}", " ".join(f"{x:.3f}" for x in eng_nc["run_s_all"]), "-"],
                ["vgrid CLI: run loop + statistics (run_time_s)", fmt_s(med(cli["run_time_s"])),
                 f"{med(cli['run_time_s']) / nsteps * 1e6:.1f}", " ".join(f"{x:.3f}" for x in cli["run_time_s"]), "-"],
                ["vgrid CLI --no-elements: run loop (run_time_s)", fmt_s(med(cli_ne["run_time_s"])),
                 f"{med(cli_ne['run_time_s']) / nsteps * 1e6:.1f}", " ".join(f"{x:.3f}" for x in cli_ne["run_time_s"]),
                 "-"],
                ["vgrid CLI: whole process (wall)", fmt_s(med(cli["wall_s"])),
                 f"{med(cli['wall_s']) / nsteps * 1e6:.1f}", " ".join(f"{x:.3f}" for x in cli["wall_s"]),
                 fmt_s(med(cli["cpu_s"]))],
                ["vgrid CLI --no-elements: whole process (wall)", fmt_s(med(cli_ne["wall_s"])),
                 f"{med(cli_ne['wall_s']) / nsteps * 1e6:.1f}", " ".join(f"{x:.3f}" for x in cli_ne["wall_s"]),
                 fmt_s(med(cli_ne["cpu_s"]))],
            ]
            table(["what is timed", "median s", "us/step", "runs (s)", "CPU s"], rows)
            say("  ratios (OpenDSS time / vgrid time = how many times faster vgrid is; vgrid/OpenDSS in brackets):")
            pairs = [
                ("engine vs engine: OpenDSS solve / vgrid step loop", ods_solve, eng["run_s_median"]),
                ("the same, vgrid without its start cache", ods_solve, eng_nc["run_s_median"]),
                ("OpenDSS solve / vgrid CLI run loop with statistics", ods_solve, med(cli["run_time_s"])),
                ("OpenDSS set-up+solve / vgrid whole process", ods_total, med(cli["wall_s"])),
                ("OpenDSS set-up+solve / vgrid whole process --no-elements", ods_total, med(cli_ne["wall_s"])),
                ("harshest: OpenDSS solve alone / vgrid whole process", ods_solve, med(cli["wall_s"])),
            ]
            for name, a, b in pairs:
                say(f"    {name:58s} {a / b:6.1f}x  ({b / a:.3f})   target 20x: {'met' if a / b >= 20 else 'NOT met'}")
            summary.append((case, "OpenDSS solve / vgrid engine step loop", ods_solve / eng["run_s_median"], 20, None))
            summary.append((case, "OpenDSS set-up+solve / vgrid whole process", ods_total / med(cli["wall_s"]), 20,
                            med(d["cpu_total_s"]) / med(cli["cpu_s"])))
            say(f"    by CPU time (user+system, less sensitive to the other jobs): OpenDSS solve / vgrid whole "
                f"process {med(d['cpu_solve_s']) / med(cli['cpu_s']):.1f}x, set-up+solve / whole process "
                f"{med(d['cpu_total_s']) / med(cli['cpu_s']):.1f}x")

    # ------------------------------------------------------------------ 2. SimBench
    if "simbench" in o["sections"]:
        say()
        say("== 2. SimBench, 15-minute steps: pandapower time series, power-grid-model batch, vgrid ==")
        raw["simbench"] = {}
        for code in o["grids"]:
            folder = os.path.join(o["shared"], "simbench", code)
            say()
            say(f"  {code}  ({loadavg()})")
            g = raw["simbench"][code] = {}
            rows = []
            for variant in o["pp_variants"]:
                d = worker(["pp", code, o["nsteps"], variant, runs], env)
                if d is None:
                    continue
                g[f"pandapower_{variant}"] = d
                m, lp = med(d["wall_s"]), med(d["loop_s"])
                n = d["steps"]
                rows.append([f"pandapower {d['pandapower']} run_timeseries, {variant}: whole call", n, fmt_s(m),
                             f"{m / n * 1e3:.4f}", f"{m - lp + lp / n * YEAR_STEPS:.1f} (extrapolated)",
                             " ".join(f"{x:.2f}" for x in d["wall_s"]), fmt_s(med(d["cpu_s"])),
                             f"{d['process_peak_rss_mb']:.0f}"])
                rows.append([f"pandapower {d['pandapower']} run_timeseries, {variant}: step loop", n, fmt_s(lp),
                             f"{lp / n * 1e3:.4f}", f"{lp / n * YEAR_STEPS:.1f} (extrapolated)",
                             " ".join(f"{x:.2f}" for x in d["loop_s"]), "-", ""])
            d = worker(["pgm", code, o["pgm_steps"], ",".join(o["pgm_methods"]), runs], env)
            if d is not None:
                g["pgm"] = d
                for k, r in d["results"].items():
                    m = med(r["wall_s"])
                    year = f"{m / d['steps'] * YEAR_STEPS:.2f}" + ("" if d["steps"] == YEAR_STEPS else " (extrapolated)")
                    rows.append([f"power-grid-model {d['power_grid_model']} batch, {k}", d["steps"], fmt_s(m),
                                 f"{m / d['steps'] * 1e3:.4f}", year, " ".join(f"{x:.2f}" for x in r["wall_s"]),
                                 fmt_s(med(r["cpu_s"])), f"{d['process_peak_rss_mb']:.0f}"])
            vy = g["vgrid_year"] = vgrid_runs(vgrid, folder, [], runs, env)
            vyn = g["vgrid_year_no_elements"] = vgrid_runs(vgrid, folder, ["--no-elements"], runs, env)
            vn = g["vgrid_nsteps"] = vgrid_runs(vgrid, folder, ["--number", str(o["nsteps"])], runs, env)
            for name, r, key in [("vgrid timeseries: whole process (wall)", vy, "wall_s"),
                                 ("vgrid timeseries: run loop + statistics (run_time_s)", vy, "run_time_s"),
                                 ("vgrid timeseries --no-elements: whole process (wall)", vyn, "wall_s"),
                                 ("vgrid timeseries --no-elements: run loop (run_time_s)", vyn, "run_time_s"),
                                 (f"vgrid timeseries --number {o['nsteps']}: whole process (wall)", vn, "wall_s"),
                                 (f"vgrid timeseries --number {o['nsteps']}: run loop (run_time_s)", vn, "run_time_s")]:
                m = med(r[key])
                year = f"{m / r['steps'] * YEAR_STEPS:.2f}" + ("" if r["steps"] == YEAR_STEPS else " (extrapolated)")
                whole = key == "wall_s"
                rows.append([name, r["steps"], fmt_s(m), f"{m / r['steps'] * 1e3:.4f}", year,
                             " ".join(f"{x:.2f}" for x in r[key]), fmt_s(med(r["cpu_s"])) if whole else "-",
                             f"{max(r['peak_rss_mb']):.0f}" if whole else ""])
            table(["tool, what is timed", "steps", "median s", "ms/step", "year s", "runs (s)", "CPU s",
                   "peak RSS MB"], rows)
            say("  CPU s: user+system of the timed part (peers) or of the whole vgrid process; peak RSS: of the"
                " whole process (peers: the Python worker with all its runs and data; vgrid: GNU time)")
            say(f"  vgrid: {vy['steps_not_converged']} steps not converged; source {vy['source_mwh']:.3f} MWh, "
                f"losses {vy['losses_mwh']:.3f} MWh over the year; peak RSS {max(vy['peak_rss_mb']):.1f} MB")
            if "pgm" in g:
                say("  PGM last step vs pandapower (max |dV| pu): " + ", ".join(
                    f"{k} {r['maxdV_vs_pandapower_last_pu']:.1e}" for k, r in g["pgm"]["results"].items()))
            # ratios per step
            vw = med(vy["wall_s"]) / vy["steps"]
            vl = med(vy["run_time_s"]) / vy["steps"]
            vc = med(vy["cpu_s"]) / vy["steps"]
            say("  per-step ratios, vgrid full year (whole process wall | run loop) against each peer;"
                " vgrid/peer < 1 means vgrid is faster:")
            peers = []
            for variant in o["pp_variants"]:
                if f"pandapower_{variant}" in g:
                    d = g[f"pandapower_{variant}"]
                    peers.append((f"pandapower {variant}, step loop ({d['steps']} steps)",
                                  med(d["loop_s"]) / d["steps"], 200, med(d["cpu_s"]) / d["steps"]))
            if "pgm" in g:
                for k, r in g["pgm"]["results"].items():
                    peers.append((f"power-grid-model {k}", med(r["wall_s"]) / g["pgm"]["steps"], 1,
                                  med(r["cpu_s"]) / g["pgm"]["steps"]))
            for name, p, target, pc in peers:
                say(f"    vs {name:52s} vgrid/peer {vw / p:7.4f} | {vl / p:7.4f}   "
                    f"speed-up {p / vw:7.1f}x | {p / vl:7.1f}x   target {target:g}x: "
                    f"{'met' if p / vw >= target else 'NOT met'}   (by CPU time {pc / vc:.1f}x)")
                summary.append((code, f"{name} / vgrid whole process, year", p / vw, target, pc / vc))
            say(f"  pandapower's per-step time is that of the first {o['nsteps']} steps (January, little PV);"
                " vgrid's is the mean over the year")
            if "pgm" in g and max(r["maxdV_vs_pandapower_last_pu"] for r in g["pgm"]["results"].values()) > 1e-3:
                say("  note: PGM and pandapower disagree by more than 1e-3 pu here. On 1-MV-urban this is the"
                    " HV/MV transformers' tap_pos=-1, which pandapower 3.x ignores (SimBench leaves"
                    " tap_changer_type empty) and the PGM converter applies; the grids are the same size,"
                    " so the timing comparison stands")

    # ------------------------------------------------------------------ 3. memory
    if "memory" in o["sections"]:
        say()
        say("== 3. vgrid peak memory against the number of steps (peak RSS of the vgrid process) ==")
        say(f"  {loadavg()}")
        say("  'files': the per-step rows streamed to --per-step, the --elements, --buses and --trip-risk tables"
            " written, the text summary on the terminal (the normal use); '--json': no files, the JSON summary,"
            " which lists every trip-risk episode and out-of-band node")
        say(f"  peak RSS by {'GNU time' if GNU_TIME else 'os.wait4 (includes the spawning Python: a floor of ~20 MB)'};"
            " one run each")
        raw["memory"] = []
        targets = [(code, os.path.join(o["shared"], "simbench", code), [96, 2976, YEAR_STEPS], "15 min")
                   for code in o["grids"]]
        ref = os.path.join(o["shared"], "feeders", "reference", "opendss_timeseries")
        targets.append(("ieee123_yearly", os.path.join(ref, "ieee123_yearly", "run.dss"), [24, 744, 8760], "1 h"))
        rows = []
        for name, target, lengths, step in targets:
            for n in lengths:
                files = vgrid_runs(vgrid, target, ["--number", str(n), "--per-step", "{tmp}/steps.csv",
                                                   "--elements", "{tmp}/el.csv", "--buses", "{tmp}/buses.csv",
                                                   "--trip-risk", "{tmp}/trip.csv"], 1, env, json_summary=False)
                js = vgrid_runs(vgrid, target, ["--number", str(n)], 1, env)
                raw["memory"].append(dict(case=name, steps=n, files=files, json=js))
                rows.append([name, f"{n} x {step}", f"{files['peak_rss_mb'][0]:.1f}", fmt_s(files["wall_s"][0]),
                             f"{js['peak_rss_mb'][0]:.1f}", fmt_s(js["wall_s"][0]),
                             js["trip_risk_episodes"] if js["trip_risk_episodes"] is not None else "-"])
        table(["case", "steps", "peak RSS MB (files)", "wall s", "peak RSS MB (--json)", "wall s",
               "trip-risk episodes"], rows)

    if summary:
        say()
        say("== Summary: how many times faster vgrid is (peer time / vgrid time), against issue 3's targets ==")
        table(["case", "comparison", "speed-up (wall)", "target", "", "speed-up (CPU)"],
              [[c, n, f"{x:.1f}x", f"{t:g}x", "met" if x >= t else "NOT met", f"{xc:.1f}x" if xc else "-"]
               for c, n, x, t, xc in summary], left=2)
    raw["summary"] = summary
    say()
    say(f"  {loadavg()}; total bench time {time.perf_counter() - t_start:.0f} s")
    if o["json"]:
        with open(o["json"], "w") as f:
            json.dump(raw, f, indent=1)
        say(f"  raw figures written to {o['json']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
    else:
        main()
