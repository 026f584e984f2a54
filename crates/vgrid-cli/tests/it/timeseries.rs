//! `vgrid timeseries` as a user runs it: a small daily case written by the test (files,
//! summary, overloads, one value against the engine itself), the overrides, a run with
//! non-converged steps, and the European LV day against OpenDSS.

use std::path::{Path, PathBuf};

use vgrid::model::{ElementId, ElementKind};
use vgrid::{Directive, ReadOptions, Reader, Simulation};

use super::{tmp, vgrid};

/// A 12.47 kV feeder cable rated 36 A feeding a 2 MVA transformer and 1 MW of homes that follow
/// a 24-hour shape. At full load the cable carries about 49 A (137 %); at 0.85 about 116 %;
/// at 0.6 and below at most 82 %. So: 7 h above 100 %, 5 h above 120 %.
const DAY: &str = "\
Clear
New Circuit.day basekv=12.47 bus1=src pu=1.0
New Line.feeder bus1=src bus2=b r1=0.5 x1=0.8 r0=1.0 x0=2.4 length=2 units=km normamps=36
New Transformer.t1 phases=3 windings=2 buses=[b lv] conns=[delta wye] kvs=[12.47 0.48] kvas=[2000 2000] %r=0.5 xhl=4
New Loadshape.day npts=24 interval=1 mult=[0.3 0.3 0.3 0.3 0.3 0.4 0.5 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.6 0.85 1.0 1.0 1.0 1.0 1.0 0.85]
New Load.homes bus1=lv kV=0.48 kW=1000 kvar=300 daily=day
Set voltagebases=[12.47 0.48]
Calcvoltagebases
Solve
Set mode=daily number=24 stepsize=1h
";

fn day_script(name: &str, extra: &str) -> PathBuf {
    let p = tmp(name);
    std::fs::write(&p, format!("{DAY}{extra}")).unwrap();
    p
}

/// A CSV file as header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {header:?}"))
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_daily_run_writes_the_three_files_and_reports_the_overload() {
    let script = day_script("day.dss", "");
    let (ps, el, bu) = (tmp("day_ps.csv"), tmp("day_el.csv"), tmp("day_bu.csv"));
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["--per-step", ps.to_str().unwrap()])
        .args(["--elements", el.to_str().unwrap()])
        .args(["--buses", bu.to_str().unwrap()])
        .args(["--band", "0.985,1.05", "--trip-pct", "120"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    // per step: the engine's CsvSink columns, one row per step
    let (h, steps) = read_csv(&ps);
    assert_eq!(
        h.join(","),
        "step,hour,converged,iterations,control_iterations,p_source_kw,q_source_kvar,losses_kw,losses_kvar,vpu_min,vpu_max"
    );
    assert_eq!(steps.len(), 24);
    assert_eq!(num(&steps[23][col(&h, "hour")]), 24.0);
    let source_kwh: f64 = steps.iter().map(|r| num(&r[col(&h, "p_source_kw")])).sum();
    let losses_kwh: f64 = steps.iter().map(|r| num(&r[col(&h, "losses_kw")])).sum();
    let vmin = steps
        .iter()
        .map(|r| num(&r[col(&h, "vpu_min")]))
        .fold(f64::INFINITY, f64::min);

    // per element: units in every column, the cable's hours above 100 % and above 120 %
    let (h, rows) = read_csv(&el);
    assert_eq!(
        h.join(","),
        "element,i_rated_a,peak_i_a,peak_loading_pct,peak_hour_h,above_100pct_h,above_120pct_h,\
         longest_above_120pct_h,longest_above_120pct_from_hour_h,energy_through_kwh,losses_kwh,\
         trip_reference,trip_reference_a,trip_risk_episodes,trip_risk_h"
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let feeder = rows.iter().find(|r| r[0] == "Line.feeder").unwrap();
    let t1 = rows.iter().find(|r| r[0] == "Transformer.t1").unwrap();
    assert_eq!(num(&feeder[col(&h, "i_rated_a")]), 36.0);
    let peak_pct = num(&feeder[col(&h, "peak_loading_pct")]);
    assert!((130.0..140.0).contains(&peak_pct), "{feeder:?}");
    assert_eq!(num(&feeder[col(&h, "above_100pct_h")]), 7.0);
    assert_eq!(num(&feeder[col(&h, "above_120pct_h")]), 5.0);
    // full load from hour 19 to 23: one unbroken stretch
    assert_eq!(num(&feeder[col(&h, "longest_above_120pct_h")]), 5.0);
    assert_eq!(
        num(&feeder[col(&h, "longest_above_120pct_from_hour_h")]),
        19.0
    );
    assert_eq!(num(&t1[col(&h, "above_100pct_h")]), 0.0);
    // the cable carries everything the source delivers; the elements' losses are the run's
    let through = num(&feeder[col(&h, "energy_through_kwh")]);
    assert!(
        (through - source_kwh).abs() < 1e-4 * source_kwh,
        "{through} vs {source_kwh}"
    );
    let el_losses: f64 = rows.iter().map(|r| num(&r[col(&h, "losses_kwh")])).sum();
    assert!(
        (el_losses - losses_kwh).abs() < 1e-5,
        "{el_losses} vs {losses_kwh}"
    );

    // per node: the LV nodes are below 0.985 pu at 0.85 and full load: 7 h
    let (h, rows) = read_csv(&bu);
    assert_eq!(
        h.join(","),
        "bus,node,vbase_ln_kv,vmin_pu,vmin_hour_h,vmax_pu,vmax_hour_h,below_band_h,above_band_h,\
         voltage_class,band_low_pu,band_high_pu,bus_vuf_max_pct,bus_vuf_max_hour_h,bus_above_vuf_limit_h"
    );
    assert_eq!(rows.len(), 9, "three buses of three nodes");
    for r in &rows {
        let below = num(&r[col(&h, "below_band_h")]);
        assert_eq!(below, if r[0] == "lv" { 7.0 } else { 0.0 }, "{r:?}");
    }
    let node_min = rows
        .iter()
        .map(|r| num(&r[col(&h, "vmin_pu")]))
        .fold(f64::INFINITY, f64::min);
    assert!((node_min - vmin).abs() < 1e-8, "{node_min} vs {vmin}");

    // the summary in plain words
    for needle in [
        "daily, 24 steps of 1 h",
        "converged            every step",
        "power flow           positive sequence",
        "steps/s",
        &format!("source energy        {:.6} MWh", source_kwh / 1000.0),
        &format!("losses               {:.6} MWh", losses_kwh / 1000.0),
        "min voltage",
        "at lv.",
        "3 of 9 nodes outside",
        "7 h below",
        "1 of 2 rated lines and transformers above 100 % at some step (7 h with at least one)",
        "Line.feeder",
        "7 h above 100 %, 5 h above 120 %; longest stretch 5 h from day 1 19:00 (hour 19)",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks {needle:?}:\n{stdout}"
        );
    }
    // not a terminal: no progress bar
    assert!(!stderr.contains('\r'), "{stderr:?}");
}

/// The cable's peak current in `--elements` is the engine's own terminal current at that hour,
/// and the per-step rows are the engine's own steps.
#[test]
fn the_peak_current_is_the_engines_terminal_current() {
    let script = day_script("day_engine.dss", "");
    let el = tmp("day_engine_el.csv");
    let ps = tmp("day_engine_ps.csv");
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["--elements", el.to_str().unwrap()])
        .args(["--per-step", ps.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let (h, rows) = read_csv(&el);
    let feeder = rows.iter().find(|r| r[0] == "Line.feeder").unwrap();
    let peak_a = num(&feeder[col(&h, "peak_i_a")]);
    let peak_hour = num(&feeder[col(&h, "peak_hour_h")]);
    let (hs, steps) = read_csv(&ps);

    // the engine, driven directly, step by step
    let mut reader = Reader::new(ReadOptions::default());
    reader
        .run_file(&script, &mut |net, d| {
            if matches!(d, Directive::Solve)
                && net.settings.mode == vgrid::model::SolveMode::Snapshot
            {
                vgrid::solve_network(net).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .unwrap();
    let net = reader.into_network();
    let mut sim = Simulation::new(&net).unwrap();
    let id = ElementId {
        kind: ElementKind::Line,
        name: "feeder".into(),
    };
    let mut engine_peak = (0.0f64, 0.0);
    for row in &steps {
        let r = sim.step().unwrap().clone();
        assert_eq!(r.step, num(&row[col(&hs, "step")]) as u64);
        let p = num(&row[col(&hs, "p_source_kw")]);
        assert!(
            (r.p_source_kw - p).abs() < 1e-8,
            "step {}: {} vs {p}",
            r.step,
            r.p_source_kw
        );
        // largest phase current at either end, as `vgrid solve --loadings`
        let i = [1, 2]
            .iter()
            .flat_map(|t| sim.system().terminal_currents(&id, *t).unwrap())
            .map(|c| c.norm())
            .fold(0.0, f64::max);
        if i > engine_peak.0 {
            engine_peak = (i, r.hour);
        }
    }
    assert!(
        (peak_a - engine_peak.0).abs() < 1e-3,
        "{peak_a} vs {engine_peak:?}"
    );
    assert!((19.0..=23.0).contains(&peak_hour), "{peak_hour}");
}

#[test]
fn mode_number_and_stepsize_override_the_script() {
    let script = day_script("day_override.dss", "");
    let ps = tmp("day_override_ps.csv");
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["--mode", "yearly", "--number", "48", "--stepsize", "30m"])
        .args(["--per-step", ps.to_str().unwrap()])
        .arg("--no-elements")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let (h, steps) = read_csv(&ps);
    assert_eq!(steps.len(), 48);
    assert_eq!(num(&steps[0][col(&h, "hour")]), 0.5);
    assert_eq!(num(&steps[47][col(&h, "hour")]), 24.0);
    assert!(stdout.contains("yearly, 48 steps of 30 min"), "{stdout}");
    assert!(stdout.contains("not computed (--no-elements)"), "{stdout}");

    // another mode alone: OpenDSS's defaults for it, as `Set mode=yearly` (8760 × 1 h)
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["--mode", "yearly", "--no-elements"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("yearly, 8760 steps of 1 h"), "{stdout}");
}

#[test]
fn steps_that_do_not_converge_are_reported_and_the_run_goes_on() {
    let script = day_script("day_noconv.dss", "");
    let ps = tmp("day_noconv_ps.csv");
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["-c", "Set maxiterations=1 tolerance=1e-12"])
        .args(["--per-step", ps.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("converged            NO at "), "{stdout}");
    assert!(stdout.contains("the run went on"), "{stdout}");
    let (h, steps) = read_csv(&ps);
    assert_eq!(steps.len(), 24, "every step written");
    assert!(steps.iter().any(|r| r[col(&h, "converged")] == "0"));
}

#[test]
fn a_snapshot_script_asks_for_a_mode() {
    let p = tmp("snap.dss");
    std::fs::write(
        &p,
        "Clear\nNew Circuit.c basekv=12.47\nNew Load.l bus1=sourcebus kw=10\nSolve\n",
    )
    .unwrap();
    let out = vgrid().arg("timeseries").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = text(&out);
    assert!(stderr.contains("--mode yearly"), "{stderr}");
    let out = vgrid()
        .args(["timeseries", "x.dss", "--stepsize", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("15m"), "{:?}", text(&out));
}

/// The European LV feeder's day (1,440 one-minute steps) against OpenDSS at 1e-10: the
/// per-step min/max voltage at the steps whose full voltages OpenDSS wrote, the energy through
/// the first cable against OpenDSS's energy meter on it, and the cables' losses against the
/// meter's line losses.
#[test]
fn european_lv_day_matches_opendss() {
    let Some(shared) = super::shared() else {
        return;
    };
    let reference = shared.join("feeders/reference/opendss_timeseries/eulv_daily");
    let (ps, el) = (tmp("eulv_ps.csv"), tmp("eulv_el.csv"));
    let out = vgrid()
        .arg("timeseries")
        .arg(shared.join("feeders/eulv/Master.dss"))
        .args(["-c", "set tolerance=1e-10 maxiterations=1000"])
        .args(["-c", "set mode=yearly number=1440 stepsize=1m"])
        .args(["--per-step", ps.to_str().unwrap()])
        .args(["--elements", el.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1440 steps of 1 min"), "{stdout}");
    let (h, steps) = read_csv(&ps);
    assert_eq!(steps.len(), 1440);
    let mut worst = 0.0f64;
    for step in [1usize, 566, 1440] {
        // min/max over OpenDSS's node voltages (nodes above 0.05 pu)
        let (vh, vrows) = read_csv(&reference.join(format!("voltages_step{step:05}_tol1e-10.csv")));
        let pu: Vec<f64> = vrows
            .iter()
            .filter_map(|r| r[col(&vh, "vmag_pu")].parse::<f64>().ok())
            .filter(|p| p.is_finite() && *p > 0.05)
            .collect();
        let want = (
            pu.iter().copied().fold(f64::INFINITY, f64::min),
            pu.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let row = &steps[step - 1];
        assert_eq!(num(&row[col(&h, "step")]) as usize, step);
        let got = (num(&row[col(&h, "vpu_min")]), num(&row[col(&h, "vpu_max")]));
        worst = worst
            .max((got.0 - want.0).abs())
            .max((got.1 - want.1).abs());
    }
    eprintln!("eulv_daily: vpu_min/vpu_max within {worst:.1e} pu of OpenDSS");
    assert!(worst <= 1e-6, "{worst}");

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference.join("summary_tol1e-10.json")).unwrap(),
    )
    .unwrap();
    let m1 = &summary["meter_registers_stepping"]["m1"];
    let (meter_kwh, meter_line_losses) = (
        m1["kWh"].as_f64().unwrap(),
        m1["Line Losses"].as_f64().unwrap(),
    );
    let (h, rows) = read_csv(&el);
    let line1 = rows.iter().find(|r| r[0] == "Line.line1").unwrap();
    let through = num(&line1[col(&h, "energy_through_kwh")]);
    let line_losses: f64 = rows
        .iter()
        .filter(|r| r[0].starts_with("Line."))
        .map(|r| num(&r[col(&h, "losses_kwh")]))
        .sum();
    eprintln!(
        "eulv_daily: Line.line1 {through:.6} kWh (meter {meter_kwh:.6}), line losses {line_losses:.6} kWh (meter {meter_line_losses:.6})"
    );
    assert!((through - meter_kwh).abs() <= 1e-6 * meter_kwh);
    assert!((line_losses - meter_line_losses).abs() <= 1e-6 * meter_line_losses);
}

#[test]
fn help_explains_the_timeseries_options() {
    let out = vgrid().args(["timeseries", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--mode",
        "--number",
        "--stepsize",
        "--per-step",
        "--elements",
        "--buses",
        "--band",
        "--trip-pct",
        "--trip-after",
        "--trip-risk",
        "--vuf-limit",
        "GBT12325",
        "--no-elements",
        "--json",
        ".parquet",
        "Examples:",
    ] {
        assert!(text.contains(flag), "help lacks {flag}:\n{text}");
    }
}

/// IEEE 123 with `controlmode=time` (regulator delays on the simulation clock, quarter-hour
/// steps from hour 4000): the per-step file names the seven regulators and every step's taps,
/// identical to OpenDSS's (reference generated by
/// `crates/vgrid-timeseries/tests/data/gen_controlmode_time.py`); min/max voltage to 1e-6 pu.
#[test]
fn ieee123_regulator_taps_follow_opendss_step_by_step() {
    let Some(shared) = super::shared() else {
        return;
    };
    let script = tmp("ieee123_time.dss");
    std::fs::write(
        &script,
        format!(
            "compile \"{}\"
set tolerance=1e-10 maxiterations=1000
solve
Redirect LoadShape1.DSS
batchedit load..* yearly=loadshape1
solve
set mode=yearly
set controlmode=time
set stepsize=15m number=192
set hour=4000
solve
",
            shared.join("feeders/ieee123/IEEE123Master.dss").display()
        ),
    )
    .unwrap();
    let ps = tmp("ieee123_time_ps.csv");
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["--per-step", ps.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("192 steps of 15 min"), "{stdout}");
    let (h, steps) = read_csv(&ps);
    let (want_h, want) = read_csv(
        &super::repo().join("crates/vgrid-timeseries/tests/data/controlmode_time_ieee123.csv"),
    );
    assert_eq!(h, want_h);
    assert_eq!(steps.len(), want.len());
    let first_tap = col(&h, "tap_creg1a");
    let mut worst = 0.0f64;
    for (got, want) in steps.iter().zip(&want) {
        assert_eq!(
            got[first_tap..],
            want[first_tap..],
            "taps at step {}",
            got[0]
        );
        for c in ["vpu_min", "vpu_max"] {
            worst = worst.max((num(&got[col(&h, c)]) - num(&want[col(&h, c)])).abs());
        }
    }
    assert!(worst <= 1e-6, "{worst}");
}

#[test]
fn json_summary_has_the_figures_and_every_overload() {
    let script = day_script("day_json.dss", "");
    let out = vgrid()
        .arg("timeseries")
        .arg(&script)
        .args(["--json", "--band", "0.985,1.05", "--trip-pct", "120"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["mode"], "daily");
    assert_eq!(j["steps"], 24);
    assert_eq!(j["steps_not_converged"], 0);
    assert!(j["source_mwh"].as_f64().unwrap() > 15.0);
    assert!(j["v_min"]["node"].as_str().unwrap().starts_with("lv."));
    assert_eq!(j["nodes_outside_band"].as_array().unwrap().len(), 3);
    let over = j["overloaded"].as_array().unwrap();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0]["element"], "Line.feeder");
    assert_eq!(over[0]["above_100pct_h"], 7.0);
    assert_eq!(over[0]["above_trip_h"], 5.0);
    assert_eq!(over[0]["longest_above_trip_from_hour_h"], 19.0);
}

/// The bundled village around its evening peak (day 208, 96 quarter-hours from hour 4968).
fn village_peak_day(extra: &[&str]) -> (std::process::Output, String) {
    let out = vgrid()
        .arg("timeseries")
        .arg(super::repo().join("examples/village/Run_year.dss"))
        .args(["--number", "96", "-c", "set hour=4968"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

/// GB/T 12325 by voltage class: the homes' single-phase service buses are judged against
/// 0.90–1.07 pu, the three-phase cable boxes against 0.93–1.07; EN 50160 (±10 %) and a fixed
/// band apply one band to every node.
#[test]
fn the_band_follows_the_voltage_class() {
    let bu = tmp("village_band_gb.csv");
    let (out, stdout) = village_peak_day(&["--buses", bu.to_str().unwrap()]);
    assert!(out.status.success(), "{stdout}\n{:?}", text(&out));
    assert!(
        stdout.contains("GB/T 12325 (three-phase 20 kV and below 0.93–1.07 pu, single-phase 220 V 0.90–1.07 pu)"),
        "{stdout}"
    );
    let (h, rows) = read_csv(&bu);
    let (class, lo, hi) = (
        col(&h, "voltage_class"),
        col(&h, "band_low_pu"),
        col(&h, "band_high_pu"),
    );
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        let bus = r[0].as_str();
        let want = if bus.starts_with("ah") || bus.starts_with("bh") || bus.starts_with("eh") {
            ("1ph_220v", 0.90)
        } else if bus.starts_with('m') || bus == "sub" || bus == "reg" {
            ("3ph_20kv_and_below", 0.93)
        } else {
            continue;
        };
        assert_eq!((r[class].as_str(), num(&r[lo])), want, "{r:?}");
        assert_eq!(num(&r[hi]), 1.07);
        seen.insert(want.0);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    // somewhere below its band: only three-phase nodes (the homes stay above 0.90)
    let below: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| num(&r[col(&h, "below_band_h")]) > 0.0)
        .collect();
    assert!(!below.is_empty());
    assert!(below.iter().all(|r| r[class] == "3ph_20kv_and_below"));
    let vmin_1ph = rows
        .iter()
        .filter(|r| r[class] == "1ph_220v")
        .map(|r| num(&r[col(&h, "vmin_pu")]))
        .fold(f64::INFINITY, f64::min);
    assert!((0.90..0.93).contains(&vmin_1ph), "{vmin_1ph}");

    // EN 50160: ±10 % everywhere, nobody outside on this day
    let bu = tmp("village_band_en.csv");
    let (out, stdout) = village_peak_day(&["--band", "EN50160", "--buses", bu.to_str().unwrap()]);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("EN 50160 ("), "{stdout}");
    assert!(stdout.contains(": 0 of "), "{stdout}");
    let (h, rows) = read_csv(&bu);
    assert!(
        rows.iter()
            .all(|r| num(&r[col(&h, "band_low_pu")]) == 0.9
                && num(&r[col(&h, "band_high_pu")]) == 1.1)
    );

    // a fixed band: as before, for every node
    let (out, stdout) = village_peak_day(&["--band", "0.95,1.05", "--json"]);
    assert!(out.status.success(), "{stdout}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["band_pu"], serde_json::json!([0.95, 1.05]));
    assert!(!j["nodes_outside_band"].as_array().unwrap().is_empty());
    let (out, _) = village_peak_day(&["--band", "GBT"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("GBT12325, EN50160, or LOW,HIGH"),
        "{:?}",
        text(&out)
    );
}

/// Voltage unbalance of every three-phase bus: single-phase homes spread unevenly over the
/// phases unbalance the village's LV cable boxes; one-phase service buses have none.
#[test]
fn three_phase_buses_report_their_voltage_unbalance() {
    let bu = tmp("village_vuf.csv");
    let (out, stdout) = village_peak_day(&["--buses", bu.to_str().unwrap(), "--vuf-limit", "1"]);
    assert!(out.status.success(), "{stdout}\n{:?}", text(&out));
    let (h, rows) = read_csv(&bu);
    let (vuf, at, above) = (
        col(&h, "bus_vuf_max_pct"),
        col(&h, "bus_vuf_max_hour_h"),
        col(&h, "bus_above_vuf_limit_h"),
    );
    let mut worst = (0.0f64, String::new());
    for r in &rows {
        let bus = r[0].as_str();
        if bus.starts_with("bh") || bus.starts_with("ah") {
            assert_eq!(r[vuf], "nan", "{r:?}");
        } else if bus == "sub" || bus.starts_with("b1_") {
            let v = num(&r[vuf]);
            assert!((0.0..20.0).contains(&v), "{r:?}");
            assert!((4968.25..=4992.0).contains(&num(&r[at])), "{r:?}");
            assert!((0.0..=24.0).contains(&num(&r[above])), "{r:?}");
            if v > worst.0 {
                worst = (v, bus.to_string());
            }
        }
    }
    // the 10 kV source bus is nearly balanced; the LV end of block B is not
    let sub = rows.iter().find(|r| r[0] == "sub").unwrap();
    assert!(num(&sub[vuf]) < 1.0, "{sub:?}");
    assert!(worst.0 > 1.0, "{worst:?}");
    assert!(
        stdout.contains("  voltage unbalance    limit 1 %: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("three-phase buses above at some step; highest"),
        "{stdout}"
    );

    let (out, stdout) = village_peak_day(&["--json", "--vuf-limit", "1"]);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["vuf_limit_pct"], 1.0);
    assert!((j["vuf_max"]["vuf_pct"].as_f64().unwrap() - worst.0).abs() < 1e-5);
    assert!(!j["buses_above_vuf_limit"].as_array().unwrap().is_empty());
}

/// Trip risk: the village's transformer tb stays above its rating through the evening peak;
/// the episode is listed with its start, length and peak, and --trip-after decides how long
/// counts. A fuse's pickup replaces the rating as the reference.
#[test]
fn trip_risk_lists_each_long_overload() {
    let tr = tmp("village_trip.csv");
    let el = tmp("village_trip_el.csv");
    let (out, stdout) = village_peak_day(&[
        "--trip-risk",
        tr.to_str().unwrap(),
        "--elements",
        el.to_str().unwrap(),
        "--trip-after",
        "1h",
    ]);
    assert!(out.status.success(), "{stdout}\n{:?}", text(&out));
    let (h, rows) = read_csv(&tr);
    assert_eq!(
        h.join(","),
        "element,reference,reference_a,threshold_a,start_hour_h,end_hour_h,duration_h,\
         peak_loading_pct,peak_i_a,peak_hour_h"
    );
    // only tb's evening stays above its rating for an hour or more
    assert_eq!(rows.len(), 1, "{rows:?}");
    let tb = &rows[0];
    assert_eq!(tb[0], "Transformer.tb");
    assert_eq!(tb[col(&h, "reference")], "rating");
    let rated = 400.0 / (3f64.sqrt() * 0.4);
    assert!((num(&tb[col(&h, "reference_a")]) - rated).abs() < 1e-3);
    assert_eq!(
        num(&tb[col(&h, "threshold_a")]),
        num(&tb[col(&h, "reference_a")])
    );
    let (start, end, dur) = (
        num(&tb[col(&h, "start_hour_h")]),
        num(&tb[col(&h, "end_hour_h")]),
        num(&tb[col(&h, "duration_h")]),
    );
    assert!((end - start + 0.25 - dur).abs() < 1e-9, "{tb:?}");
    assert!(dur >= 1.0 && (4968.0..4992.0).contains(&start), "{tb:?}");
    // the element file agrees: hours above 100 % include the episode; one column at 100 %
    let (eh, erows) = read_csv(&el);
    assert_eq!(
        eh.iter().filter(|c| *c == "above_100pct_h").count(),
        1,
        "{eh:?}"
    );
    let e = erows.iter().find(|r| r[0] == "Transformer.tb").unwrap();
    assert_eq!(num(&e[col(&eh, "trip_risk_episodes")]), 1.0);
    assert_eq!(num(&e[col(&eh, "trip_risk_h")]), dur);
    assert!(num(&e[col(&eh, "above_100pct_h")]) >= dur);
    let peak = num(&tb[col(&h, "peak_loading_pct")]);
    assert!((peak - num(&e[col(&eh, "peak_loading_pct")])).abs() < 1e-3);
    // in plain words
    assert!(
        stdout.contains("trip risk            1 episode on 1 line or transformer: above 100 % of rating (or device pickup) for 1 h or more"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "Transformer.tb: 1 episode above 100 % of rating ({rated:.1} A) for 1 h or more, {} h in all; longest {} h starting day 208",
            dur, dur
        )),
        "{stdout}"
    );

    // a longer --trip-after than the episode: none; 0: every stretch
    let (out, stdout) = village_peak_day(&["--json", "--trip-after", &format!("{}h", dur + 0.25)]);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["trip_risks"].as_array().unwrap().len(), 0);
    let (out, stdout) = village_peak_day(&["--json", "--trip-after", "0"]);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let all = j["trip_risks"].as_array().unwrap();
    assert!(all.len() >= 2, "{all:?}");
    assert_eq!(j["trip_after_h"], 0.0);

    // a fuse on tb's LV side picking up at 500 A: the reference is the fuse
    let (out, stdout) = village_peak_day(&[
        "--json",
        "-c",
        "New Fuse.ftb MonitoredObj=Transformer.tb MonitoredTerm=2 RatedCurrent=500",
    ]);
    assert!(out.status.success(), "{stdout}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let tb: Vec<&serde_json::Value> = j["trip_risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["element"] == "Transformer.tb")
        .collect();
    assert!(!tb.is_empty());
    for t in &tb {
        assert_eq!(t["reference"], "Fuse.ftb");
        assert_eq!(t["reference_a"], 500.0);
    }
    assert!(
        tb.iter()
            .map(|t| t["duration_h"].as_f64().unwrap())
            .sum::<f64>()
            > dur
    );
}

/// Every file as Parquet when its path ends in `.parquet`: the same columns and rows as the
/// CSV of the same run. The files start and end with `PAR1`; with `VGRID_PYTHON` set (a Python
/// with pyarrow) they are read back and compared with the CSV files value by value.
#[test]
fn parquet_files_hold_the_csv_tables() {
    let names = ["per_step", "elements", "buses", "trip_risk"];
    let csv: Vec<PathBuf> = names.iter().map(|n| tmp(&format!("pq_{n}.csv"))).collect();
    let pq: Vec<PathBuf> = names
        .iter()
        .map(|n| tmp(&format!("pq_{n}.parquet")))
        .collect();
    for files in [&csv, &pq] {
        let mut args = Vec::new();
        for (n, p) in names.iter().zip(files.iter()) {
            args.push(format!("--{}", n.replace('_', "-")));
            args.push(p.to_str().unwrap().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, stdout) = village_peak_day(&args);
        assert!(out.status.success(), "{stdout}\n{:?}", text(&out));
    }
    for p in &pq {
        let bytes = std::fs::read(p).unwrap();
        assert!(bytes.len() > 12, "{}", p.display());
        assert_eq!(&bytes[..4], b"PAR1", "{}", p.display());
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1", "{}", p.display());
    }
    let Some(python) = std::env::var_os("VGRID_PYTHON") else {
        eprintln!("note: VGRID_PYTHON not set; Parquet files not read back");
        return;
    };
    // column names, row count, and every value against the CSV (within its printed decimals)
    let script = r#"
import csv, math, sys
import pyarrow.parquet as pq
for pq_path, csv_path in zip(sys.argv[1::2], sys.argv[2::2]):
    t = pq.read_table(pq_path)
    rows = list(csv.reader(open(csv_path)))
    assert t.column_names == rows[0], (pq_path, t.column_names, rows[0])
    assert t.num_rows == len(rows) - 1, (pq_path, t.num_rows, len(rows) - 1)
    assert t.num_rows > 0, pq_path
    for r, p in zip(rows[1:], t.to_pylist()):
        for name, c in zip(rows[0], r):
            v = p[name]
            if v is None:
                assert c == "nan", (pq_path, name, c)
            elif isinstance(v, str):
                assert v == c, (pq_path, name, v, c)
            elif isinstance(v, bool):
                assert int(v) == int(c), (pq_path, name, v, c)
            elif isinstance(v, int):
                assert v == int(c), (pq_path, name, v, c)
            elif math.isnan(v):
                assert math.isnan(float(c)), (pq_path, name, c)
            else:
                assert abs(v - float(c)) <= 0.6 * 10 ** -len(c.split(".")[1]) if "." in c else v == float(c), (pq_path, name, v, c)
    print(pq_path, t.num_rows, "rows")
"#;
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c").arg(script);
    for (p, c) in pq.iter().zip(&csv) {
        cmd.arg(p).arg(c);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "pyarrow read-back failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

/// The voltage unbalance of all 147 three-phase buses of the village at its design peak
/// (hour 4989.5) against OpenDSS's sequence voltages (`Bus.SeqVoltages`, |V2|/|V1|), generated
/// by `tests/it/data/gen_village_vuf.py`.
#[test]
fn voltage_unbalance_matches_opendss() {
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            super::repo().join("crates/vgrid-cli/tests/it/data/village_vuf_peak.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let want = want["vuf_pct"].as_object().unwrap();
    // one step ending at the design peak; every bus above a tiny limit is listed with its VUF
    let out = vgrid()
        .arg("timeseries")
        .arg(super::repo().join("examples/village/Run_year.dss"))
        .args(["--number", "1", "-c", "set hour=4989.25"])
        .args(["-c", "set tolerance=1e-10 maxiterations=1000"])
        .args(["--json", "--vuf-limit", "0.000001", "--no-elements"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["last_hour_h"], 4989.5);
    let got = j["buses_above_vuf_limit"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    let mut worst = 0.0f64;
    for g in got {
        let bus = g["bus"].as_str().unwrap();
        let w = want[bus]
            .as_f64()
            .unwrap_or_else(|| panic!("{bus} not in OpenDSS's list"));
        worst = worst.max((g["vuf_max_pct"].as_f64().unwrap() - w).abs());
    }
    eprintln!(
        "village peak: VUF of {} buses within {worst:.1e} % of OpenDSS",
        got.len()
    );
    assert!(worst < 1e-6, "{worst}");
}
