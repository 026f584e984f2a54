//! Scenarios (`vgrid::scenario`) on a small daily feeder written here: the file's lines are
//! applied to the base circuit, the shorthands expand as documented, errors name the scenario
//! file's line, and running in parallel gives the serial figures bit for bit.

use std::path::{Path, PathBuf};

use vgrid::scenario::{
    prepare, prepare_all, run_prepared, run_scenarios, ScenarioFile, ScenarioOptions,
};

/// A 12.47 kV feeder, a 1 MVA transformer to 0.48 kV and 1.2 MW of homes on a 24-hour shape:
/// the transformer is overloaded in the evening (about 1.25 MVA at full load).
const BASE: &str = "\
Clear
New Circuit.day basekv=12.47 bus1=src pu=1.0
New Line.feeder bus1=src bus2=b r1=0.5 x1=0.8 r0=1.0 x0=2.4 length=2 units=km normamps=200
New Transformer.t1 phases=3 windings=2 buses=[b lv] conns=[delta wye] kvs=[12.47 0.48] kvas=[1000 1000] %r=0.5 xhl=4
New Line.lv1 bus1=lv bus2=lv1 r1=0.05 x1=0.02 r0=0.1 x0=0.05 length=0.1 units=km normamps=2000
New Loadshape.day npts=24 interval=1 mult=[0.3 0.3 0.3 0.3 0.3 0.4 0.5 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.85 1.0 1.0 1.0 1.0 1.0 0.85]
New Loadshape.sun npts=24 interval=1 mult=[0 0 0 0 0 0 0.1 0.3 0.5 0.7 0.9 1 1 0.9 0.7 0.5 0.3 0.1 0 0 0 0 0 0]
New Load.homes bus1=lv1 kV=0.48 kW=1200 kvar=300 model=1 vminpu=0.8 daily=day
Set voltagebases=[12.47 0.48]
Calcvoltagebases
Solve
Set mode=daily number=24 stepsize=1h
";

/// A fresh folder holding `base.dss` and `s.txt` with `scenarios` (after `base = base.dss`).
fn files(name: &str, scenarios: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vgrid-scn-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("base.dss"), BASE).unwrap();
    let p = dir.join("s.txt");
    std::fs::write(&p, format!("base = base.dss\n{scenarios}")).unwrap();
    p
}

fn options(jobs: usize) -> ScenarioOptions {
    ScenarioOptions {
        jobs,
        ..ScenarioOptions::default()
    }
}

const SCENARIOS: &str = "
[base]

[growth-20]
load_growth_pct = 20

[t1-2MVA]
replace Transformer.t1 kva=2000

[pv]
pv bus=lv kw=300 shape=sun

[battery]
battery bus=lv kw=200 kwh=400

[edits]
Set loadmult=0.5
Load.homes.kW=600
";

#[test]
fn each_scenario_runs_its_lines_after_the_base_script() {
    let path = files("apply", SCENARIOS);
    let file = ScenarioFile::read(&path).unwrap();
    let opts = options(1);
    let prepared = prepare_all(&file, &opts).unwrap();
    let names: Vec<&str> = prepared.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["base", "growth-20", "t1-2MVA", "pv", "battery", "edits"]
    );
    // base: as the script left it
    assert!(prepared[0].commands.is_empty());
    assert_eq!(prepared[0].network.settings.load_mult, 1.0);
    // load growth: the load multiplier in force × 1.2
    assert_eq!(prepared[1].commands, ["Set loadmult=1.2"]);
    assert_eq!(prepared[1].network.settings.load_mult, 1.2);
    // replace: every winding of the transformer
    assert_eq!(
        prepared[2].commands,
        ["Edit Transformer.t1 kVAs=[2000 2000]"]
    );
    let t1 = prepared[2].network.transformer("t1").unwrap();
    assert!(t1.windings.iter().all(|w| w.kva == 2000.0), "{t1:?}");
    // pv: three phases at the bus's base, 1.1 × kW of inverter, the shape given
    let pv = &prepared[3].network.pv_systems;
    assert_eq!(pv.len(), 1);
    assert_eq!(pv[0].name, "pv_lv");
    assert_eq!((pv[0].phases, pv[0].kv), (3, 0.48));
    assert_eq!((pv[0].pmpp_kw, pv[0].kva), (300.0, 330.0));
    assert_eq!(pv[0].daily.as_deref(), Some("sun"));
    // battery
    let b = &prepared[4].network.storages;
    assert_eq!(b.len(), 1);
    assert_eq!(
        (b[0].name.as_str(), b[0].kw_rated, b[0].kwh_rated),
        ("battery_lv", 200.0, 400.0)
    );
    assert_eq!(b[0].kv, 0.48);
    assert_eq!(
        prepared[4].commands,
        ["New Storage.battery_lv bus1=lv phases=3 kv=0.48 kWrated=200 kva=200 kWhrated=400"]
    );
    // plain OpenDSS lines, in order
    assert_eq!(prepared[5].network.settings.load_mult, 0.5);
    assert_eq!(prepared[5].network.loads[0].p_kw, 600.0);
}

#[test]
fn the_figures_follow_the_changes() {
    let path = files(
        "figures",
        "[base]\n[growth-20]\nload_growth_pct = 20\n[t1-2MVA]\nreplace Transformer.t1 kva=2000\n\
         [pv]\npv bus=lv kw=300 shape=sun\n\
         [battery]\nbattery bus=lv kw=400 kwh=3000 peak_shave=Transformer.t1 target_kw=900\n",
    );
    let file = ScenarioFile::read(&path).unwrap();
    let runs = run_scenarios(&file, &options(2), &|_, _, _| {}).unwrap();
    let r: Vec<_> = runs.iter().map(|r| r.outcome.as_ref().unwrap()).collect();
    for x in &r {
        assert_eq!((x.totals.steps, x.totals.steps_not_converged), (24, 0));
    }
    let t1 = |k: usize| {
        r[k].elements
            .iter()
            .find(|e| e.element == "Transformer.t1")
            .unwrap()
            .clone()
    };
    let vmin = |k: usize| r[k].totals.v_min.as_ref().unwrap().vmag_pu;
    // the base: t1 (1 MVA) carries about 1.24 MVA at the evening peak, 7 h above its rating
    assert!(t1(0).peak_loading_pct.unwrap() > 120.0, "{:?}", t1(0));
    assert_eq!(t1(0).above_100pct_h, 7.0);
    // constant-power homes: the load energy grows 20 % exactly, the losses more
    let load = |k: usize| r[k].totals.source_kwh - r[k].totals.losses_kwh;
    assert!(
        (load(1) / load(0) - 1.2).abs() < 1e-9,
        "{} vs {}",
        load(1),
        load(0)
    );
    assert!(r[1].totals.losses_kwh > 1.2 * r[0].totals.losses_kwh);
    assert!(vmin(1) < vmin(0));
    assert!(t1(1).peak_loading_pct > t1(0).peak_loading_pct);
    // a transformer of twice the rating: half the loading, no overload, higher evening voltage,
    // the same load
    let (big, small) = (t1(2), t1(0));
    let ratio = big.peak_loading_pct.unwrap() / small.peak_loading_pct.unwrap();
    assert!((ratio - 0.5).abs() < 0.02, "{ratio}");
    assert_eq!(big.above_100pct_h, 0.0);
    assert!(vmin(2) > vmin(0));
    assert!((load(2) - load(0)).abs() < 1e-6);
    // PV: less energy from the source, the same evening peak (no sun then)
    assert!(r[3].totals.source_kwh < r[0].totals.source_kwh - 1000.0);
    let peak = |k: usize| r[k].totals.peak_source_kw.unwrap();
    assert!((peak(3) - peak(0)).abs() < 1e-6);
    // a battery holding t1 at 900 kW: below its rating all evening
    assert!(
        t1(4).peak_loading_pct.unwrap() < t1(0).peak_loading_pct.unwrap() - 10.0,
        "{:?} vs {:?}",
        t1(4),
        t1(0)
    );
    assert_eq!(t1(4).above_100pct_h, 0.0, "{:?}", t1(4));
    // the comparison's rows: t1 first (the most loaded anywhere)
    let worst = vgrid::scenario::worst_elements(&runs, 3);
    assert_eq!(worst[0], "Transformer.t1");
}

#[test]
fn parallel_runs_equal_the_serial_ones_exactly() {
    let path = files("parallel", SCENARIOS);
    let file = ScenarioFile::read(&path).unwrap();
    let serial = run_scenarios(&file, &options(1), &|_, _, _| {}).unwrap();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let parallel = run_scenarios(&file, &options(3), &|_, n, total| {
        assert_eq!(total, 6);
        assert!(n >= 1 && n <= total);
        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(done.into_inner(), 6, "one report per scenario");
    assert_eq!(serial.len(), parallel.len());
    for (s, p) in serial.iter().zip(&parallel) {
        assert_eq!((s.index, &s.name), (p.index, &p.name));
        let (s, p) = (s.outcome.as_ref().unwrap(), p.outcome.as_ref().unwrap());
        assert_eq!(s, p, "bit for bit");
    }
    // the same again straight from prepared circuits, more jobs than scenarios
    let again = run_prepared(
        prepare_all(&file, &options(1)).unwrap(),
        &options(16),
        &|_, _, _| {},
    );
    for (s, a) in serial.iter().zip(&again) {
        assert_eq!(s.outcome.as_ref().unwrap(), a.outcome.as_ref().unwrap());
    }
}

fn error_of(name: &str, scenarios: &str) -> String {
    let path = files(name, scenarios);
    let file = match ScenarioFile::read(&path) {
        Ok(f) => f,
        Err(e) => return e.to_string(),
    };
    match prepare_all(&file, &options(2)) {
        Ok(_) => panic!("{name}: no error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_the_scenario_file_and_line_with_a_hint() {
    // an OpenDSS error in a scenario's command: the reader's diagnostic, at the file's line
    let e = error_of(
        "dss",
        "[base]\n[typo]\n# a comment\nEdit Transformer.t1 kvass=[2 2]\n",
    );
    assert!(e.contains("s.txt:5:"), "{e}");
    assert!(e.contains("[typo]"), "{e}");
    assert!(e.contains("did you mean"), "{e}");
    // a shorthand naming a bus that is not there
    let e = error_of("bus", "[a]\npv bus=lx kw=3 shape=sun\n");
    assert!(
        e.contains("s.txt:3: [a]: bus 'lx' is not in the circuit"),
        "{e}"
    );
    assert!(e.contains("did you mean 'lv'"), "{e}");
    // replace of a transformer that is not there
    let e = error_of("replace", "[a]\nreplace Transformer.t2 kva=5\n");
    assert!(
        e.contains("s.txt:3: [a]: replace: there is no Transformer.t2"),
        "{e}"
    );
    assert!(e.contains("did you mean 'Transformer.t1'"), "{e}");
    // pv without a shape and no PV system to take one from
    let e = error_of("shape", "[a]\npv bus=lv kw=3\n");
    assert!(e.contains("s.txt:3: [a]: pv: no shape="), "{e}");
    assert!(e.contains("shape=<LoadShape name>"), "{e}");
    // every broken scenario is reported, not only the first
    let e = error_of(
        "two",
        "[a]\nreplace Transformer.t2 kva=5\n[b]\nSet lodmult=2\n",
    );
    assert!(e.contains("s.txt:3:") && e.contains("s.txt:5:"), "{e}");
    // a missing base script
    let path = files("nobase", "[a]\n");
    std::fs::write(&path, "base = nowhere.dss\n[a]\n").unwrap();
    let file = ScenarioFile::read(&path).unwrap();
    let e = prepare(&file, 0, &options(1)).unwrap_err().to_string();
    assert!(e.contains("nowhere.dss"), "{e}");
    // a base left in snapshot mode
    let e = error_of("snap", "[a]\nSet mode=snapshot\n");
    assert!(e.contains("s.txt:1:"), "{e}");
    assert!(e.contains("Set mode=yearly"), "{e}");
}

#[test]
fn a_shorthand_sees_the_buses_the_lines_before_it_added() {
    let path = files(
        "newbus",
        "[ext]\nNew Line.ext bus1=lv1 bus2=far r1=0.05 x1=0.02 length=0.1 units=km\n\
         pv bus=far kw=20 shape=sun\n",
    );
    let file = ScenarioFile::read(&path).unwrap();
    let p = prepare(&file, 0, &options(1)).unwrap();
    let pv = &p.network.pv_systems[0];
    assert_eq!((pv.name.as_str(), pv.phases, pv.kv), ("pv_far", 3, 0.48));
    assert!(prepare(&file, 7, &options(1)).is_err(), "no such scenario");
}

#[test]
fn paths_in_a_scenario_are_relative_to_the_scenario_file() {
    let path = files("redirect", "[more]\nRedirect extra/more.dss\n");
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir.join("extra")).unwrap();
    std::fs::write(
        dir.join("extra/more.dss"),
        "New Load.shop bus1=lv1 kV=0.48 kW=50 pf=0.9 daily=day\n",
    )
    .unwrap();
    let file = ScenarioFile::read(&path).unwrap();
    assert_eq!(file.base, dir.join("base.dss"));
    let p = prepare(&file, 0, &options(1)).unwrap();
    assert_eq!(p.network.loads.len(), 2);
    assert!(Path::new(&dir.join("extra/more.dss")).is_file());
}
