//! Every shared feeder parses, with OpenDSS's element counts and spot values.

use std::path::{Path, PathBuf};
use vgrid_dss::{Directive, ReadOptions, Reader};
use vgrid_model::{LineImpedance, Network};

/// `/work/shared` located from this crate; `None` (with a note) when absent, unless CI is set.
pub fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.join("feeders").is_dir() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("shared reference data not found at {}", p.display());
    }
    eprintln!("note: {} not found; feeder tests skipped", p.display());
    None
}

/// Read a script, counting directives.
pub fn read(path: &Path) -> (Network, usize, Vec<vgrid_dss::Diagnostic>) {
    let mut solves = 0;
    let mut r = Reader::new(ReadOptions::default());
    r.run_file(path, &mut |_, d| {
        if d == Directive::Solve {
            solves += 1;
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let w = r.warnings().to_vec();
    (r.into_network(), solves, w)
}

/// `num_loads`, `num_lines`, `num_transformers` of a reference summary.
fn counts(shared: &Path, case: &str) -> (usize, usize, usize) {
    let text = std::fs::read_to_string(
        shared
            .join("feeders/reference/opendss")
            .join(case)
            .join("summary.json"),
    )
    .expect("summary.json");
    let get = |key: &str| -> usize {
        let at = text
            .find(&format!("\"{key}\""))
            .unwrap_or_else(|| panic!("{key} missing"));
        let rest = &text[at + key.len() + 2..];
        let rest = rest.trim_start_matches([':', ' ']);
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().expect("count")
    };
    (get("num_loads"), get("num_lines"), get("num_transformers"))
}

fn enabled_counts(n: &Network) -> (usize, usize, usize) {
    (
        n.loads.iter().filter(|l| l.enabled).count(),
        n.lines.iter().filter(|l| l.enabled).count(),
        n.transformers.iter().filter(|t| t.enabled).count(),
    )
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn ieee13() {
    let Some(s) = shared() else { return };
    let (n, solves, _) = read(&s.join("feeders/ieee13/IEEE13Nodeckt.dss"));
    assert_eq!(solves, 1);
    assert_eq!(enabled_counts(&n), counts(&s, "ieee13"));
    let l = n.line("650632").expect("line 650632");
    assert!(close(l.length_m, 609.6, 1e-12), "{}", l.length_m);
    let LineImpedance::Matrix {
        r_ohm_per_m,
        x_ohm_per_m,
        c_nf_per_m,
    } = &l.impedance
    else {
        panic!("matrix expected")
    };
    assert!(close(r_ohm_per_m[0], 0.3465 / 1609.344, 1e-12));
    assert!(close(r_ohm_per_m[1], 0.1560 / 1609.344, 1e-12));
    assert!(close(x_ohm_per_m[8], 1.0348 / 1609.344, 1e-12));
    // No cmatrix: OpenDSS keeps the default 3.4/1.6 nF sequence values as per-mile values.
    assert!(close(c_nf_per_m[0], 2.8 / 1609.344, 1e-12));
    assert!(close(c_nf_per_m[1], -0.6 / 1609.344, 1e-12));
    let sub = n.transformer("sub").expect("sub");
    assert!(close(sub.windings[0].pct_r, 0.0005, 1e-12));
    assert!(close(sub.x_sc_pct[0], 0.008, 1e-12));
    assert_eq!(sub.windings[0].conn, vgrid_model::Connection::Delta);
    let reg1 = n.transformer("reg1").expect("reg1");
    assert_eq!(reg1.phases, 1);
    assert!(close(reg1.windings[0].pct_r, 0.005, 1e-12));
    assert_eq!(reg1.windings[1].bus.bus, "rg60");
    let rc = &n.reg_controls[0];
    assert_eq!(
        (
            rc.vreg_v,
            rc.band_v,
            rc.pt_ratio,
            rc.ct_prim_a,
            rc.r_ldc_v,
            rc.x_ldc_v
        ),
        (122.0, 2.0, 20.0, 700.0, 3.0, 9.0)
    );
    assert_eq!((rc.winding, rc.tap_winding), (2, 2));
    let sw = n.line("671692").expect("switch");
    assert!(sw.is_switch);
    assert!(close(sw.length_m, 0.001, 1e-12));
    assert_eq!(n.voltage_bases_kv, vec![115.0, 4.16, 0.48]);
    assert_eq!(n.bus_coords.len(), 16);
    let src = &n.sources[0];
    assert_eq!((src.base_kv, src.pu, src.angle_deg), (115.0, 1.0001, 30.0));
    let cap = n.capacitor("cap1").expect("cap1");
    assert_eq!(cap.rating, vgrid_model::ShuntRating::Kvar(vec![600.0]));
    // 1-phase sequence-less matrix code mtx607 with C in nF/mi.
    let l = n.line("684652").unwrap();
    let LineImpedance::Matrix { c_nf_per_m, .. } = &l.impedance else {
        panic!()
    };
    assert!(close(c_nf_per_m[0], 236.0 / 1609.344, 1e-12));
}

#[test]
fn ieee34_mod1_and_mod2() {
    let Some(s) = shared() else { return };
    for (file, case) in [
        ("ieee34Mod1.dss", "ieee34_mod1"),
        ("ieee34Mod2.dss", "ieee34_mod2"),
    ] {
        let (n, _, _) = read(&s.join("feeders/ieee34").join(file));
        assert_eq!(enabled_counts(&n), counts(&s, case), "{file}");
        let reg = n.transformer("reg1a").unwrap();
        assert_eq!(reg.windings[1].bus.bus, "814r");
        assert_eq!(reg.windings[0].kv, 14.376);
    }
    let (n, _, _) = read(&s.join("feeders/ieee34/ieee34Mod1.dss"));
    let ld = n.loads.iter().find(|l| l.name == "s860").unwrap();
    assert_eq!(ld.vmin_pu, 0.85);
    // no units anywhere: lengths stay as given (kft), treated as metres consistently
    let l = &n.lines[0];
    assert!(l.length_m > 0.0);
}

#[test]
fn ieee37() {
    let Some(s) = shared() else { return };
    let (n, solves, _) = read(&s.join("feeders/ieee37/ieee37.dss"));
    assert_eq!(solves, 1);
    assert_eq!(enabled_counts(&n), counts(&s, "ieee37"));
    assert_eq!(n.settings.max_iterations, 100);
    let r1c = n.reg_controls.iter().find(|r| r.name == "creg1c").unwrap();
    assert_eq!(
        (r1c.r_ldc_v, r1c.x_ldc_v, r1c.vreg_v, r1c.pt_ratio),
        (2.799, 1.848, 122.0, 40.0)
    );
    let t = n.transformer("reg1c").unwrap();
    assert_eq!(t.windings[0].bus.nodes, vec![3, 2]);
    assert_eq!(t.windings[0].conn, vgrid_model::Connection::Delta);
}

#[test]
fn ieee123_with_run_script_edits() {
    let Some(s) = shared() else { return };
    let dir = s.join("feeders/ieee123");
    let (n, _, _) = read(&dir.join("IEEE123Master.dss"));
    assert_eq!(enabled_counts(&n), counts(&s, "ieee123"));
    let r4b = n.reg_controls.iter().find(|r| r.name == "creg4b").unwrap();
    assert_eq!(
        (
            r4b.r_ldc_v,
            r4b.x_ldc_v,
            r4b.vreg_v,
            r4b.band_v,
            r4b.ct_prim_a
        ),
        (1.4, 2.6, 124.0, 2.0, 300.0)
    );
    assert!(n.open_terminals.is_empty(), "the master opens no terminal");
    assert_eq!(n.line("sw7").unwrap().bus2.bus, "300_open");
    assert_eq!(n.voltage_bases_kv, vec![4.16, 0.48]);
    let t = n.transformer("reg3c").unwrap();
    assert_eq!(t.windings[0].bus.nodes, vec![3]);
    assert_eq!(t.windings[0].kv, 2.402);
    assert!(close(t.windings[0].pct_r, 0.000005, 1e-12));
    assert_eq!(t.ppm_antifloat, 0.0);

    // The Run script compiles the master twice and edits taps in between.
    let mut r = Reader::new(ReadOptions::default());
    let mut taps_at_solve = Vec::new();
    r.run_file(&dir.join("Run_IEEE123Bus.DSS"), &mut |net, d| {
        if d == Directive::Solve {
            taps_at_solve.push(net.transformer("reg1a").unwrap().windings[1].tap_pu);
            // the first run sets 30; the second Compile clears back to the default 10
            let expected = if taps_at_solve.len() == 1 { 30 } else { 10 };
            assert_eq!(net.settings.max_control_iterations, expected);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(taps_at_solve.len(), 2);
    assert_eq!(taps_at_solve[0], 1.0);
    assert!(close(taps_at_solve[1], 1.0 + 7.0 * 0.00625, 1e-12));
    let n = r.network();
    let t4a = n.transformer("reg4a").unwrap();
    assert!(close(t4a.windings[1].tap_pu, 1.05, 1e-12));
    assert!(n.reg_controls.iter().all(|r| r.max_tap_change == 0));
    assert!(n.meters.iter().any(|m| m.name == "feeder"));
    assert!(!n.bus_coords.is_empty());
    // R1=0 X1=0.0001 R0=0 X0=0.0001 source
    assert_eq!(
        n.sources[0].impedance,
        vgrid_model::SourceImpedance::Ohm {
            r1_ohm: 0.0,
            x1_ohm: 0.0001,
            r0_ohm: 0.0,
            x0_ohm: 0.0001
        }
    );
    let l = n.line("l115").unwrap();
    assert!(close(l.length_m, 0.4 * 304.8, 1e-12));
}

#[test]
fn eulv() {
    let Some(s) = shared() else { return };
    let started = std::time::Instant::now();
    let (n, solves, _) = read(&s.join("feeders/eulv/Master.dss"));
    let elapsed = started.elapsed();
    eprintln!("eulv read in {elapsed:?}");
    assert_eq!(solves, 1);
    assert_eq!(enabled_counts(&n), counts(&s, "eulv_snapshot"));
    assert_eq!(n.base_frequency_hz, 50.0);
    assert_eq!(n.sources[0].frequency_hz, 50.0);
    assert_eq!(n.loads.len(), 55);
    for l in &n.loads {
        assert_eq!(l.p_kw, 1.0);
        assert!(close(l.q_kvar, (1.0f64 / 0.95 / 0.95 - 1.0).sqrt(), 1e-12));
        assert_eq!(l.kv, 0.23);
    }
    assert_eq!(
        n.load_shapes.len(),
        56,
        "55 shapes and OpenDSS's built-in 'default'"
    );
    let sh = n.load_shape("shape_1").unwrap();
    assert_eq!(sh.p_mult.len(), 1440);
    assert!(!sh.use_actual, "batchedit loadshape..* useactual=no");
    assert!(close(sh.interval_h.unwrap(), 1.0 / 60.0, 1e-12));
    assert_eq!(n.loads[0].yearly.as_deref(), Some("shape_1"));
    let t = n.transformer("tr1").unwrap();
    assert!(t.is_substation);
    assert_eq!(n.bus_coords.len(), 906);
    // Isc-specified source, edited twice (Master, then Generators.txt is not redirected)
    assert!(matches!(
        n.sources[0].impedance,
        vgrid_model::SourceImpedance::Isc { .. }
    ));
    // km line codes with lines in metres
    let l = n.line("line1").unwrap();
    assert!(close(l.length_m, 1.098, 1e-12));
    let LineImpedance::Sequence {
        r1_ohm_per_m,
        c1_nf_per_m,
        ..
    } = l.impedance
    else {
        panic!()
    };
    assert!(close(r1_ohm_per_m, 0.446 / 1000.0, 1e-12), "{r1_ohm_per_m}");
    assert_eq!(c1_nf_per_m, 0.0);
}
