//! Step-by-step agreement with OpenDSS's quasi-static time series (tight tolerance, 1e-10):
//! `../shared/feeders/reference/opendss_timeseries/<case>/`.

mod support;

use std::path::Path;

use vgrid_timeseries::{Simulation, StepReport};

/// One reference step.
struct RefStep {
    hour: f64,
    p_kw: f64,
    q_kvar: f64,
    losses_kw: f64,
    vpu_min: f64,
    vpu_max: f64,
    taps: Vec<i32>,
}

fn reference_steps(path: &Path) -> (Vec<String>, Vec<RefStep>) {
    let (header, rows) = support::read_csv(path);
    let regs = header
        .iter()
        .filter_map(|h| h.strip_prefix("tap_").map(String::from))
        .collect();
    let num = |r: &[String], k: usize| r[k].parse::<f64>().unwrap();
    let steps = rows
        .iter()
        .map(|r| RefStep {
            hour: num(r, 1),
            p_kw: num(r, 5),
            q_kvar: num(r, 6),
            losses_kw: num(r, 7),
            vpu_min: num(r, 9),
            vpu_max: num(r, 10),
            taps: r[11..].iter().map(|t| t.parse().unwrap()).collect(),
        })
        .collect();
    (regs, steps)
}

#[derive(Default, Debug)]
struct Worst {
    dvpu: (f64, u64),
    dp_rel: (f64, u64),
    dq_rel: (f64, u64),
    dloss_rel: (f64, u64),
    dv_full: f64,
    tap_mismatches: u64,
    not_converged: u64,
}

fn upd(w: &mut (f64, u64), v: f64, step: u64) {
    if v > w.0 || v.is_nan() {
        *w = (v, step);
    }
}

/// Run `case` with `commands` as setup and compare every step and the full voltages at
/// `snap_steps`.
fn compare(case: &str, commands: &[String], snap_steps: &[u64]) -> Option<Worst> {
    let shared = support::shared()?;
    let dir = shared
        .join("feeders/reference/opendss_timeseries")
        .join(case);
    compare_with(
        case,
        &dir.join("per_step_tol1e-10.csv.gz"),
        commands,
        snap_steps,
    )
}

/// Compare every step with the reference `per_step` file `reference`; full voltages at
/// `snap_steps` from the `voltages_stepNNNNN_tol1e-10.csv` beside it.
fn compare_with(
    case: &str,
    reference: &Path,
    commands: &[String],
    snap_steps: &[u64],
) -> Option<Worst> {
    let dir = reference.parent()?;
    let (regs, want) = reference_steps(reference);
    let net = support::run_setup(commands);
    let mut sim = Simulation::new(&net).unwrap();
    assert_eq!(
        u64::from(net.settings.number),
        want.len() as u64,
        "{case}: number of steps"
    );
    let mut w = Worst::default();
    for k in 1..=want.len() as u64 {
        let r: StepReport = sim.step().unwrap().clone();
        let e = &want[(k - 1) as usize];
        assert!(
            (r.hour - e.hour).abs() < 1e-5,
            "{case} step {k}: hour {} vs {}",
            r.hour,
            e.hour
        );
        if k == 1 {
            assert_eq!(sim.regulators(), &regs[..], "{case}: regulators");
        }
        w.not_converged += u64::from(!r.converged);
        upd(
            &mut w.dvpu,
            (r.vpu_min - e.vpu_min)
                .abs()
                .max((r.vpu_max - e.vpu_max).abs()),
            k,
        );
        upd(&mut w.dp_rel, ((r.p_source_kw - e.p_kw) / e.p_kw).abs(), k);
        upd(
            &mut w.dq_rel,
            ((r.q_source_kvar - e.q_kvar) / e.p_kw.hypot(e.q_kvar)).abs(),
            k,
        );
        upd(
            &mut w.dloss_rel,
            ((r.losses_kw - e.losses_kw) / e.losses_kw).abs(),
            k,
        );
        if r.tap_numbers != e.taps {
            if w.tap_mismatches == 0 {
                eprintln!(
                    "{case} step {k}: taps {:?}, OpenDSS {:?}",
                    r.tap_numbers, e.taps
                );
            }
            w.tap_mismatches += 1;
        }
        if snap_steps.contains(&k) {
            let vref =
                support::read_voltages_pu(&dir.join(format!("voltages_step{k:05}_tol1e-10.csv")));
            let mut n = 0;
            for (bus, node, pu) in sim.node_voltages_pu() {
                if let Some(p) = vref.get(&(bus.to_string(), node)) {
                    w.dv_full = w.dv_full.max((pu - p).abs());
                    n += 1;
                }
            }
            assert!(
                n + 10 >= vref.len(),
                "{case} step {k}: only {n} of {} nodes compared",
                vref.len()
            );
        }
    }
    eprintln!("{case}: {w:?}");
    Some(w)
}

fn check(w: &Worst, case: &str) {
    assert_eq!(w.not_converged, 0, "{case}");
    assert_eq!(
        w.tap_mismatches, 0,
        "{case}: steps with other taps than OpenDSS"
    );
    assert!(w.dvpu.0 <= 1e-6, "{case}: vpu min/max off by {:?}", w.dvpu);
    assert!(
        w.dp_rel.0 <= 1e-6,
        "{case}: source kW off by {:?} (relative)",
        w.dp_rel
    );
    assert!(
        w.dq_rel.0 <= 1e-6,
        "{case}: source kvar off by {:?} (relative to kVA)",
        w.dq_rel
    );
    assert!(
        w.dv_full <= 1e-6,
        "{case}: node voltages off by {} pu",
        w.dv_full
    );
}

fn feeder(shared_rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/feeders")
        .join(shared_rel);
    format!("compile \"{}\"", p.display())
}

/// The reference run's set-up (`opendss_timeseries/ieee123_yearly/run_tol1e-10.dss`) for
/// `hours` hours.
fn ieee123_yearly_commands(hours: u32) -> Vec<String> {
    [
        feeder("ieee123/IEEE123Master.dss").as_str(),
        "set tolerance=1e-10 maxiterations=1000",
        "solve",
        "Redirect LoadShape1.DSS",
        "batchedit load..* yearly=loadshape1",
        "New Energymeter.Feeder Line.L115 1",
        "solve",
        "New Monitor.taps transformer.reg1a 2 mode=2",
        "New monitor.timesteps vsource.source 1 mode=5",
        "set mode=yearly",
        &format!("set stepsize=1h number={hours}"),
        "Set Year=1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn ieee123_yearly_matches_opendss_every_hour() {
    let cmds = ieee123_yearly_commands(8760);
    if let Some(w) = compare("ieee123_yearly", &cmds, &[1, 4380, 8760]) {
        check(&w, "ieee123_yearly");
    }
}

/// The IEEE 123 year's first 2,000 hours with and without the start cache (solutions
/// remembered by load level and tap positions): the same steps to the tolerance, the same taps,
/// far fewer iterations.
#[test]
fn ieee123_start_cache_changes_iterations_not_answers() {
    if support::shared().is_none() {
        return;
    }
    let net = support::run_setup(&ieee123_yearly_commands(2000));
    let run = |cache: bool| {
        let mut sim = Simulation::new(&net).unwrap();
        sim.set_start_cache(cache);
        let mut rows = Vec::new();
        sim.run(&mut |r: &StepReport| rows.push(r.clone())).unwrap();
        (rows, sim.start_cache_use())
    };
    let (cached, used) = run(true);
    let (plain, unused) = run(false);
    assert_eq!(unused, None);
    let (hits, misses, kept) = used.expect("one shape drives every load: the cache is used");
    assert!(hits > 5 * misses, "{hits} hits, {misses} misses");
    assert!(kept > 100 && kept < 2000, "{kept} solutions kept");
    for (a, b) in cached.iter().zip(&plain) {
        assert!(a.converged && b.converged, "step {}", a.step);
        assert_eq!(a.tap_numbers, b.tap_numbers, "step {}", a.step);
        assert_eq!(
            a.control_iterations, b.control_iterations,
            "step {}",
            a.step
        );
        assert!((a.vpu_min - b.vpu_min).abs() < 1e-8, "{a:?} {b:?}");
        assert!((a.vpu_max - b.vpu_max).abs() < 1e-8, "{a:?} {b:?}");
        assert!((a.p_source_kw - b.p_source_kw).abs() < 1e-7 * b.p_source_kw.abs());
        assert!((a.losses_kw - b.losses_kw).abs() < 1e-6 * b.losses_kw.abs());
    }
    let iterations =
        |rows: &[StepReport]| rows.iter().map(|r| u64::from(r.iterations)).sum::<u64>();
    let (with, without) = (iterations(&cached), iterations(&plain));
    eprintln!("IEEE 123, 2,000 h: {with} iterations with the start cache, {without} without");
    assert!(2 * with < without, "{with} vs {without}");
}

fn eulv_commands(extra: &[&str]) -> Vec<String> {
    let mut c = vec![
        feeder("eulv/Master.dss"),
        "set tolerance=1e-10 maxiterations=1000".to_string(),
    ];
    c.extend(extra.iter().map(|s| s.to_string()));
    c.push("set mode=yearly number=1440 stepsize=1m".to_string());
    c
}

#[test]
fn eulv_daily_matches_opendss_every_minute() {
    if let Some(w) = compare("eulv_daily", &eulv_commands(&[]), &[1, 566, 1440]) {
        check(&w, "eulv_daily");
    }
}

#[test]
fn eulv_daily_constant_pq_matches_opendss_every_minute() {
    let cmds = eulv_commands(&["batchedit load..* vmaxpu=1.2"]);
    if let Some(w) = compare("eulv_daily_pq", &cmds, &[1, 566, 1440]) {
        check(&w, "eulv_daily_pq");
    }
}

/// Every load's voltage every minute against OpenDSS's default-tolerance run (1e-4: OpenDSS's
/// own answer there is off by up to ~1e-5 pu, and the file has 0.1 mV resolution).
fn compare_load_voltages(case: &str, commands: &[String]) -> Option<f64> {
    let shared = support::shared()?;
    let path = shared
        .join("feeders/reference/opendss_timeseries")
        .join(case)
        .join("load_voltages_per_step.csv.gz");
    let (header, rows) = support::read_csv(&path);
    // "load1@34.1_V" -> (column, "34", 1); the "_deg" columns are left out
    let nodes: Vec<(usize, String, u32)> = header
        .iter()
        .enumerate()
        .filter_map(|(c, h)| {
            let at = h.split('@').nth(1)?.strip_suffix("_V")?;
            let (bus, node) = at.rsplit_once('.')?;
            Some((c, bus.to_ascii_lowercase(), node.parse().ok()?))
        })
        .collect();
    assert_eq!(nodes.len(), 55, "{case}: load voltage columns");
    let net = support::run_setup(commands);
    let mut sim = Simulation::new(&net).unwrap();
    let mut worst_v = 0.0f64;
    for (k, row) in rows.iter().enumerate() {
        sim.step().unwrap();
        for (c, bus, node) in &nodes {
            let v = sim.system().node_voltage(bus, *node).unwrap().norm();
            let want: f64 = row[*c].parse().unwrap();
            let d = (v - want).abs();
            assert!(
                d < 0.01,
                "{case} step {}: {bus}.{node} {v} V, OpenDSS {want} V",
                k + 1
            );
            worst_v = worst_v.max(d);
        }
    }
    eprintln!("{case}: load voltages within {worst_v:.2e} V of OpenDSS (tolerance 1e-4)");
    Some(worst_v)
}

#[test]
fn eulv_daily_load_voltages_match_opendss_every_minute() {
    let worst = compare_load_voltages("eulv_daily", &eulv_commands(&[]));
    // 2.3e-3 V = 1e-5 pu of 230 V: OpenDSS's own error at its default tolerance
    assert!(worst.is_none_or(|w| w <= 2.3e-3), "{worst:?}");
}

/// `controlmode=time`: the regulators' delays run on the simulation clock, so with 15-minute
/// steps each regulator moves one tap per step. Reference from OpenDSS by
/// `tests/data/gen_controlmode_time.py` (IEEE 123, LoadShape1, two days from hour 4000).
#[test]
fn ieee123_time_control_mode_matches_opendss_every_step() {
    let cmds: Vec<String> = [
        feeder("ieee123/IEEE123Master.dss").as_str(),
        "set tolerance=1e-10 maxiterations=1000",
        "solve",
        "Redirect LoadShape1.DSS",
        "batchedit load..* yearly=loadshape1",
        "solve",
        "set mode=yearly",
        "set controlmode=time",
        "set stepsize=15m number=192",
        "set hour=4000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if support::shared().is_none() {
        return;
    }
    let reference =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/controlmode_time_ieee123.csv");
    if let Some(w) = compare_with("ieee123_time", &reference, &cmds, &[]) {
        check(&w, "ieee123_time");
    }
}

/// Loads (one `status=fixed`, one given only `daily=`), a generator with P and Q multipliers
/// and a PV system following its irradiance shape, over two days. Reference from OpenDSS by
/// `tests/data/gen_pv_gen.py`.
#[test]
fn generator_and_pv_shapes_match_opendss() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let cmds = vec![
        format!("compile \"{}\"", data.join("pv_gen.dss").display()),
        "set tolerance=1e-10 maxiterations=1000".to_string(),
        "set mode=yearly number=48 stepsize=1h".to_string(),
    ];
    let (header, rows) = support::read_csv(&data.join("pv_gen_yearly.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let net = support::run_setup(&cmds);
    let mut sim = Simulation::new(&net).unwrap();
    let mut worst = [0.0f64; 4];
    for row in &rows {
        let r = sim.step().unwrap().clone();
        let num = |name: &str| row[col(name)].parse::<f64>().unwrap();
        assert!(r.converged);
        assert!((r.hour - num("hour")).abs() < 1e-9);
        let powers = sim.system().pc_powers_kva();
        let power_of = |name: &str| {
            powers
                .iter()
                .find(|(id, _)| id.to_string() == name)
                .map(|(_, s)| *s)
                .unwrap()
        };
        // generation is negative in vgrid's pc powers
        let pv = -power_of("PVSystem.pv1");
        let gen = -power_of("Generator.g1");
        let kva = num("p_source_kw").hypot(num("q_source_kvar"));
        let d = [
            (r.vpu_min - num("vpu_min"))
                .abs()
                .max((r.vpu_max - num("vpu_max")).abs()),
            (r.p_source_kw - num("p_source_kw"))
                .abs()
                .max((r.q_source_kvar - num("q_source_kvar")).abs())
                / kva,
            (pv.re - num("p_pv_kw")).abs() / 800.0,
            (gen.re - num("p_gen_kw"))
                .abs()
                .max((gen.im - num("q_gen_kvar")).abs())
                / 400.0,
        ];
        for (w, d) in worst.iter_mut().zip(d) {
            *w = w.max(d);
        }
    }
    eprintln!(
        "pv_gen: vpu {:.1e}, source {:.1e} (of kVA), PV {:.1e}, generator {:.1e} (of rating)",
        worst[0], worst[1], worst[2], worst[3]
    );
    assert!(worst[0] <= 1e-6, "{worst:?}");
    assert!(worst.iter().skip(1).all(|w| *w <= 1e-6), "{worst:?}");
}

#[test]
fn eulv_daily_constant_pq_load_voltages_match_opendss_every_minute() {
    let cmds = eulv_commands(&["batchedit load..* vmaxpu=1.2"]);
    let worst = compare_load_voltages("eulv_daily_pq", &cmds);
    assert!(worst.is_none_or(|w| w <= 2.3e-3), "{worst:?}");
}
