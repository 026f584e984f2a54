//! Language features on small scripts.

use std::path::Path;
use vgrid_dss::{Directive, DssError, ReadOptions, Reader};
use vgrid_model::{
    CableScreen, ControlMode, LineImpedance, LoadModel, Network, ShuntRating, SolveMode,
    SourceImpedance, WireKind,
};

pub fn run(script: &str) -> Reader {
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(script, "test.dss", Path::new("."), &mut |_, _| Ok(()))
        .unwrap_or_else(|e| panic!("{e}"));
    r
}

pub fn run_err(script: &str) -> DssError {
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(script, "test.dss", Path::new("."), &mut |_, _| Ok(()))
        .expect_err("script should fail")
}

fn net(script: &str) -> Network {
    run(script).into_network()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-12)
}

pub const HEAD: &str = "new circuit.t basekv=12.47\n";

/// A scratch directory unique to a test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vgrid-dss-it-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn open_and_close_terminals() {
    let n = net(&format!(
        "{HEAD}New Line.Sw7 phases=3 Bus1=151 Bus2=300 switch=yes\nopen Line.Sw7 terminal=2\nOpen Line.sw7 1 2\n"
    ));
    assert_eq!(n.open_terminals.len(), 2);
    assert_eq!(n.open_terminals[0].terminal, 2);
    assert_eq!(n.open_terminals[1].conductor, Some(2));
    let n = net(&format!(
        "{HEAD}New Line.Sw7 Bus1=a Bus2=b\nopen Line.Sw7 2\nclose Line.Sw7 2\n"
    ));
    assert!(n.open_terminals.is_empty());
}

#[test]
fn rpn_arrays_and_matrices() {
    let n = net(&format!(
        "{HEAD}New Transformer.t XHL=(8 1000 /) kvs=\"14.4, 2.4\" kvas={{500 500}} conns='delta wye'\n\
         New Linecode.a nphases=2 rmatrix=[1 | 2 3] xmatrix=(4 9 | 5 6) units=km\n\
         New Line.l linecode=a length=(2 sqr) units=m\n"
    ));
    let t = n.transformer("t").unwrap();
    assert!(close(t.x_sc_pct[0], 0.008));
    assert_eq!(t.windings[0].kv, 14.4);
    assert_eq!(t.windings[1].kva, 500.0);
    assert_eq!(t.windings[0].conn, vgrid_model::Connection::Delta);
    let l = n.line("l").unwrap();
    assert_eq!(l.length_m, 4.0);
    let LineImpedance::Matrix {
        r_ohm_per_m,
        x_ohm_per_m,
        ..
    } = &l.impedance
    else {
        panic!()
    };
    assert_eq!(r_ohm_per_m, &vec![0.001, 0.002, 0.002, 0.003]);
    assert_eq!(x_ohm_per_m, &vec![0.004, 0.005, 0.005, 0.006]);
}

#[test]
fn abbreviations_and_positional_values() {
    let n = net(&format!(
        "{HEAD}New Load.a 1 b.2 0.24 5 0.9 mod=2\nNew EnergyMeter.m Load.a 1\nNew Monitor.mon Load.a 1 mode=1\n"
    ));
    let l = &n.loads[0];
    assert_eq!(
        (
            l.phases,
            l.bus1.bus.as_str(),
            l.bus1.nodes.as_slice(),
            l.kv,
            l.p_kw
        ),
        (1, "b", &[2][..], 0.24, 5.0)
    );
    assert!(close(l.q_kvar, 5.0 * (1.0f64 / 0.81 - 1.0).sqrt()));
    assert_eq!(l.model, LoadModel::ConstantZ);
    assert_eq!(n.meters.len(), 2);
    assert_eq!(n.meters[0].element.as_ref().unwrap().name, "a");
    assert_eq!(n.meters[1].mode, 1);
}

#[test]
fn load_power_specifications() {
    let n = net(&format!(
        "{HEAD}New Load.a kW=10 kvar=5\nNew Load.b kVA=10 pf=0.8\nNew Load.c kw=10 pf=-0.8\n\
         New Load.d kvar=3 kW=4\nLoad.d.pf=0.5\n"
    ));
    let q: Vec<(f64, f64)> = n.loads.iter().map(|l| (l.p_kw, l.q_kvar)).collect();
    assert_eq!(q[0], (10.0, 5.0));
    assert!(close(q[1].0, 8.0) && close(q[1].1, 6.0));
    assert!(close(q[2].1, -7.5));
    // kW after kvar selects "kW, PF" with the default PF 0.88; PF alone keeps the choice
    assert!(close(q[3].1, 4.0 * (1.0f64 / 0.25 - 1.0).sqrt()));
}

#[test]
fn continuation_implicit_edit_and_like() {
    let n = net(&format!(
        "{HEAD}New Capacitor.c1 bus1=x\n~ kvar=300\nmore kv=4.16\nM phases=1\n\
         Capacitor.c1.states=[0]\nNew Capacitor.c2 like=c1 bus1=y\n\
         New Transformer.t1 windings=3\nTransformer.t1.wdg=3 kv=0.24\n~ wdg=2 kv=0.12\n"
    ));
    let c = n.capacitor("c1").unwrap();
    assert_eq!((c.kv, c.phases), (4.16, 1));
    assert_eq!(c.rating, ShuntRating::Kvar(vec![300.0]));
    assert_eq!(c.states, vec![false]);
    let c2 = n.capacitor("c2").unwrap();
    assert_eq!(
        (c2.kv, c2.bus1.bus.as_str(), c2.states.as_slice()),
        (4.16, "y", &[false][..])
    );
    let t = n.transformer("t1").unwrap();
    assert_eq!(t.windings.len(), 3);
    assert_eq!((t.windings[2].kv, t.windings[1].kv), (0.24, 0.12));
    assert_eq!(t.x_sc_pct, vec![7.0, 30.0, 30.0]);
}

#[test]
fn transformer_couplings() {
    let n = net(&format!(
        "{HEAD}New Transformer.a kva=500 %loadloss=1 XHL=0\nNew Transformer.b wdg=2 kva=300\n\
         New Transformer.c windings=3 XHL=5\nNew Transformer.d windings=4 Xscarray=[1 2 3 4 5 6] taps=[1 1.05 1 1]\n"
    ));
    let a = n.transformer("a").unwrap();
    assert_eq!(
        a.windings.iter().map(|w| w.kva).collect::<Vec<_>>(),
        vec![500.0, 500.0]
    );
    assert_eq!((a.norm_hkva, a.emerg_hkva), (550.0, 750.0));
    assert_eq!((a.windings[0].pct_r, a.windings[1].pct_r), (0.5, 0.5));
    assert_eq!(a.x_sc_pct, vec![7.0], "XHL=0 is trapped to the default");
    let b = n.transformer("b").unwrap();
    assert_eq!(b.windings[0].kva, 300.0);
    assert_eq!(n.transformer("c").unwrap().x_sc_pct, vec![5.0, 35.0, 30.0]);
    let d = n.transformer("d").unwrap();
    assert_eq!(d.x_sc_pct, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(d.windings[1].tap_pu, 1.05);
}

#[test]
fn line_units_like_opendss() {
    let n = net(&format!(
        "{HEAD}New Linecode.mi nphases=1 r1=1 x1=2 units=mi\n\
         New Linecode.none nphases=3 r1=0.1 x1=0.2 r0=0.3 x0=0.4 c1=3 c0=1\n\
         New Line.a linecode=mi length=1000 units=ft phases=1\n\
         New Line.b linecode=none length=2 units=kft\n\
         New Line.c r1=0.5 x1=1 units=km length=3\n\
         New Line.d units=km r1=0.5 length=3\n\
         New Line.e linecode=mi length=2\n"
    ));
    let seq = |name: &str| match n.line(name).unwrap().impedance {
        LineImpedance::Sequence {
            r1_ohm_per_m,
            x1_ohm_per_m,
            r0_ohm_per_m,
            c1_nf_per_m,
            c0_nf_per_m,
            ..
        } => (
            r1_ohm_per_m,
            x1_ohm_per_m,
            r0_ohm_per_m,
            c1_nf_per_m,
            c0_nf_per_m,
        ),
        _ => panic!("sequence expected"),
    };
    // mi code on a ft line: ohm/mi -> ohm/m; 1-phase lines use z1 for z0
    let a = seq("a");
    assert!(close(a.0, 1.0 / 1609.344) && close(a.2, a.0));
    assert!(close(n.line("a").unwrap().length_m, 304.8));
    // code without units takes the line's units
    let b = seq("b");
    assert!(close(b.0, 0.1 / 304.8) && close(b.3, 3.0 / 304.8));
    assert!(close(n.line("b").unwrap().length_m, 609.6));
    // r1 then units=km: per km; default C (per kft) rescaled to per km
    let c = seq("c");
    assert!(close(c.0, 0.5e-3));
    assert!(close(c.3, 3.4 / 0.3048 / 1000.0), "{}", c.3);
    assert!(close(n.line("c").unwrap().length_m, 3000.0));
    // units before r1: r1 resets the units to none (OpenDSS), so metres
    assert!(close(seq("d").0, 0.5));
    assert!(close(n.line("d").unwrap().length_m, 3.0));
    // line without units takes the code's
    assert!(close(n.line("e").unwrap().length_m, 2.0 * 1609.344));
}

#[test]
fn switch_b1_and_phases() {
    let n = net(&format!(
        "{HEAD}New Line.s bus1=a bus2=b switch=y\nNew Line.b bus1=a bus2=c r1=1 x1=1 b1=2 b0=1 phases=2\n"
    ));
    let s = n.line("s").unwrap();
    assert!(s.is_switch);
    assert_eq!(s.length_m, 0.001);
    let LineImpedance::Sequence {
        r1_ohm_per_m,
        c1_nf_per_m,
        ..
    } = s.impedance
    else {
        panic!()
    };
    assert_eq!((r1_ohm_per_m, c1_nf_per_m), (1.0, 1.1));
    let b = n.line("b").unwrap();
    assert_eq!(b.phases, 2);
    let LineImpedance::Sequence { c1_nf_per_m, .. } = b.impedance else {
        panic!()
    };
    assert!(close(
        c1_nf_per_m,
        2.0 / (2.0 * std::f64::consts::PI * 60.0) * 1e3
    ));
}

#[test]
fn source_specs_last_wins() {
    let n = net("new circuit.a basekv=4.16 R1=0 X1=0.0001\n");
    let SourceImpedance::Ohm { r0_ohm, x0_ohm, .. } = n.sources[0].impedance else {
        panic!()
    };
    // R0/X0 keep OpenDSS's values computed from the default 2000/2100 MVA at 115 kV
    assert!((r0_ohm - 1.79603583012335).abs() < 1e-9);
    assert!((x0_ohm - 5.38810749037006).abs() < 1e-9);
    let n = net("new circuit.a R1=1 X1=2 mvasc3=100\n");
    assert!(
        matches!(n.sources[0].impedance, SourceImpedance::Mva { mva_sc3, .. } if mva_sc3 == 100.0)
    );
    let n = net("new circuit.a isc3=3000 isc1=5 bus1=x.1.2.3\nEdit Vsource.Source puZ1=[0.1 0.2] baseMVA=10\n");
    assert!(
        matches!(n.sources[0].impedance, SourceImpedance::Pu { r1_pu, base_mva, .. } if r1_pu == 0.1 && base_mva == 10.0)
    );
    assert_eq!(n.sources[0].bus1.nodes, vec![1, 2, 3]);
}

#[test]
fn settings_and_solve_directives() {
    let script = format!(
        "{HEAD}Set mode=daily number=1440 stepsize=1m controlmode=time\nset time=(2, 30) loadmult=0.5 tol=1e-6\n\
         Solve mode=yearly number=2\nSet Voltagebases=\"230,4.8,0.48\"\ncalcv\nShow Voltages LN Nodes\n"
    );
    let mut seen = Vec::new();
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(&script, "t.dss", Path::new("."), &mut |net, d| {
        if d == Directive::Solve {
            assert_eq!(net.settings.mode, SolveMode::Yearly);
            assert_eq!(net.settings.number, 2);
        }
        seen.push(d);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            Directive::Solve,
            Directive::CalcVoltageBases,
            Directive::Show("Voltages LN Nodes".into())
        ]
    );
    let s = &r.network().settings;
    assert_eq!(
        (s.control_mode, s.hour, s.sec, s.load_mult, s.tolerance_pu),
        (ControlMode::Time, 0.0, 0.0, 0.5, 1e-6)
    );
    assert_eq!(r.network().voltage_bases_kv, vec![230.0, 4.8, 0.48]);
    let n = net("set mode=daily number=1440 stepsize=1m\n");
    assert_eq!((n.settings.number, n.settings.step_size_s), (1440, 60.0));
}

#[test]
fn edits_between_solves_are_seen() {
    let script = format!(
        "{HEAD}New Transformer.reg1 phases=1 buses=[a.1 b.1] kvs=[2.4 2.4]\nSolve\n\
         Transformer.Reg1.Taps=[1.0 1.0625]\nSet Controlmode=OFF\nSolve\n"
    );
    let mut taps = Vec::new();
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(&script, "t.dss", Path::new("."), &mut |net, d| {
        if d == Directive::Solve {
            let t = net
                .transformers
                .iter_mut()
                .find(|t| t.name == "reg1")
                .unwrap();
            taps.push(t.windings[1].tap_pu);
            t.windings[1].tap_pu = 1.1; // the engine writes back a solved tap
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(taps, vec![1.0, 1.0625]);
    r.run_command("Transformer.reg1.%r=0.3", &mut |_, _| Ok(()))
        .unwrap();
    let t = r.network().transformer("reg1").unwrap();
    assert_eq!(
        t.windings[1].tap_pu, 1.1,
        "an edit of another property keeps the written-back tap"
    );
    assert_eq!(t.windings[0].pct_r, 0.3);
}

#[test]
fn batchedit_enable_disable() {
    let n = net(&format!(
        "{HEAD}New Load.s1 kw=1\nNew Load.s2 kw=1\nNew Load.x kw=1\nBatchEdit Load.^s.* vmaxpu=1.2\n\
         Disable Load.x\nBatchedit load..* kv=0.4\nDisable Capacitor.*\n"
    ));
    let v: Vec<(f64, f64, bool)> = n
        .loads
        .iter()
        .map(|l| (l.vmax_pu, l.kv, l.enabled))
        .collect();
    assert_eq!(
        v,
        vec![(1.2, 0.4, true), (1.2, 0.4, true), (1.05, 0.4, false)]
    );
}

#[test]
fn comments_and_block_comments() {
    let n = net(&format!(
        "{HEAD}/* a block\nNew Load.no kw=1\n*/\nNew Load.yes kw=2 ! trailing\n// New Load.no2\nNew Load.q kw=3 // x\n"
    ));
    assert_eq!(
        n.loads.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        vec!["yes", "q"]
    );
}

#[test]
fn redirect_compile_case_insensitive_and_relative() {
    let d = scratch("redirect");
    std::fs::create_dir_all(d.join("Sub")).unwrap();
    std::fs::write(
        d.join("Sub").join("Codes.DSS"),
        "New Linecode.c1 nphases=1 r1=1 units=km\nRedirect more.dss\n",
    )
    .unwrap();
    std::fs::write(
        d.join("Sub").join("more.dss"),
        "New Loadshape.s npts=3 interval=1 mult=(file=m.txt)\n",
    )
    .unwrap();
    std::fs::write(d.join("Sub").join("m.txt"), "0.5\n0.7\n0.9\n").unwrap();
    std::fs::write(
        d.join("master.dss"),
        format!("{HEAD}redirect sub/codes.dss\nNew Line.l linecode=c1 length=1\n"),
    )
    .unwrap();
    let mut r = Reader::new(ReadOptions::default());
    r.run_file(&d.join("master.dss"), &mut |_, _| Ok(()))
        .unwrap();
    let n = r.network();
    assert_eq!(n.load_shape("s").unwrap().p_mult, vec![0.5, 0.7, 0.9]);
    assert_eq!(n.line("l").unwrap().length_m, 1000.0);
    // Compile moves the base directory: a later relative Redirect resolves from there.
    std::fs::write(d.join("Sub").join("after.dss"), "New Load.after kw=1\n").unwrap();
    std::fs::write(
        d.join("run.dss"),
        format!("{HEAD}compile (Sub/more.dss)\nredirect after.dss\n"),
    )
    .unwrap();
    let mut r = Reader::new(ReadOptions::default());
    r.run_file(&d.join("run.dss"), &mut |_, _| Ok(()))
        .unwrap_or_else(|e| panic!("{e}"));
    // A script run as a file is compiled: commands typed after it resolve from its folder.
    std::fs::write(d.join("extra.dss"), "New Load.extra kw=2\n").unwrap();
    let mut r = Reader::new(ReadOptions::default());
    r.run_file(&d.join("master.dss"), &mut |_, _| Ok(()))
        .unwrap();
    r.run_command("Redirect extra.dss", &mut |_, _| Ok(()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.network().loads.iter().any(|l| l.name == "extra"));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn loadshape_file_forms() {
    let d = scratch("shapes");
    std::fs::write(d.join("a.csv"), "hour,p,q\n0,0.1,0.2\n1,0.3,0.4\n").unwrap();
    std::fs::write(d.join("hm.csv"), "0, 0.5\n2, 0.6\n").unwrap();
    let bytes: Vec<u8> = [1.5f32, 2.5].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(d.join("b.sng"), bytes).unwrap();
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(
        "New Loadshape.a npts=2 sinterval=900 mult=(file=a.csv col=2 header=yes) qmult=(file=a.csv, col=3, header=yes)\n\
         New Loadshape.b npts=2 interval=0.5 mult=(sngfile=b.sng) useactual=yes\n\
         New Loadshape.c npts=2 interval=0 csvfile=hm.csv\n",
        "shapes.dss",
        &d,
        &mut |_, _| Ok(()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let n = r.network();
    let a = n.load_shape("a").unwrap();
    assert_eq!(
        (a.p_mult.clone(), a.q_mult.clone(), a.interval_h),
        (vec![0.1, 0.3], vec![0.2, 0.4], Some(0.25))
    );
    let b = n.load_shape("b").unwrap();
    assert_eq!((b.p_mult.clone(), b.use_actual), (vec![1.5, 2.5], true));
    let c = n.load_shape("c").unwrap();
    assert_eq!(
        (c.interval_h, c.hours.clone(), c.p_mult.clone()),
        (None, vec![0.0, 2.0], vec![0.5, 0.6])
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn bus_coordinates() {
    let d = scratch("coords");
    std::fs::write(
        d.join("xy.csv"),
        "Bus,X,Y\nSourceBus, 200, 400\n650\t1\t2\n",
    )
    .unwrap();
    std::fs::write(d.join("ll.csv"), "650, 45.5, -73.6\n").unwrap();
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(
        "BusCoords xy.csv\nLatLongCoords ll.csv\nSetBusXY bus=z x=1 y=2\n",
        "c.dss",
        &d,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    let c = &r.network().bus_coords;
    assert_eq!(c.len(), 3);
    assert_eq!(
        (c[0].bus.as_str(), c[0].x, c[0].y),
        ("sourcebus", 200.0, 400.0)
    );
    assert_eq!((c[1].x, c[1].y), (-73.6, 45.5));
    assert_eq!(
        r.warnings().len(),
        1,
        "the header line is skipped with a warning"
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn geometry_wires_and_cables() {
    let n = net(&format!(
        "{HEAD}New WireData.acsr Rac=0.306 Runits=mi GMRac=0.0255 GMRunits=ft Radius=0.3705 Radunits=in normamps=530\n\
         New CNDATA.250 k=13 DiaStrand=0.064 Rstrand=2.816666667 epsR=2.3\n\
         ~ InsLayer=0.220 DiaIns=1.06 DiaCable=1.16 Rac=0.076705 GMRac=0.20568 diam=0.573\n\
         ~ Runits=kft Radunits=in GMRunits=in\n\
         New LineGeometry.606 nconds=3 nphases=3 units=ft\n\
         ~ cond=1 cncable=250 x=-0.5 h=-4\n~ cond=2 cncable=250 x=0 h=-4\n~ cond=3 cncable=250 x=0.5 h=-4\n\
         New LineGeometry.oh nconds=4 nphases=3 wires=[acsr acsr acsr acsr] reduce=y\n\
         ~ cond=1 x=-4 h=28 units=ft\n~ cond=2 x=-1.5 h=28\n~ cond=3 x=3 h=28\n~ cond=4 x=0 h=24\n\
         New LineSpacing.sp nconds=3 nphases=3 x=[0 1 2] h=[10 10 10] units=m\n\
         New Line.g geometry=606 length=500 units=ft\nNew Line.s spacing=sp wires=[acsr acsr acsr] length=1 units=km\n"
    ));
    let w = n.wires.iter().find(|w| w.name == "acsr").unwrap();
    assert!(close(w.r_ac_ohm_per_m, 0.306 / 1609.344));
    assert!(close(w.r_dc_ohm_per_m, 0.306 / 1.02 / 1609.344));
    assert!(close(w.gmr_m, 0.0255 * 0.3048));
    assert!(close(w.radius_m, 0.3705 * 0.0254));
    assert_eq!((w.norm_amps_a, w.emerg_amps_a), (530.0, 795.0));
    let cn = n.wires.iter().find(|w| w.name == "250").unwrap();
    assert_eq!(cn.kind, WireKind::ConcentricNeutral);
    assert!(close(cn.radius_m, 0.573 / 2.0 * 0.0254));
    let cab = cn.cable.as_ref().unwrap();
    assert!(close(cab.dia_ins_m, 1.06 * 0.0254));
    let CableScreen::ConcentricNeutral {
        k,
        r_strand_ohm_per_m,
        gmr_strand_m,
        ..
    } = cab.screen
    else {
        panic!()
    };
    assert_eq!(k, 13);
    assert!(close(r_strand_ohm_per_m, 2.816666667 / 304.8));
    assert!(close(gmr_strand_m, 0.7788 * 0.032 * 0.0254));
    let g = n.line_geometries.iter().find(|g| g.name == "606").unwrap();
    assert!(close(g.x_m[0], -0.5 * 0.3048) && close(g.h_m[2], -4.0 * 0.3048));
    assert_eq!(g.wires.len(), 3);
    let oh = n.line_geometries.iter().find(|g| g.name == "oh").unwrap();
    assert!(oh.reduce && oh.phases == 3 && oh.x_m.len() == 4 && close(oh.h_m[3], 24.0 * 0.3048));
    let l = n.line("g").unwrap();
    assert_eq!(
        l.impedance,
        LineImpedance::Geometry {
            geometry: "606".into()
        }
    );
    assert!(close(l.length_m, 152.4));
    let s = n.line("s").unwrap();
    assert!(
        matches!(&s.impedance, LineImpedance::Spacing { spacing, wires } if spacing == "sp" && wires.len() == 3)
    );
    assert_eq!(n.line_spacings[0].x_m, vec![0.0, 1.0, 2.0]);
}

#[test]
fn controls_and_devices() {
    let n = net(&format!(
        "{HEAD}New Transformer.t phases=1 buses=[a.1 b.1]\nNew Capacitor.c bus1=b\nNew Line.l bus1=b bus2=c\n\
         New RegControl.r transformer=t winding=2 ptphase=max tapwinding=1 tapnum=4\n\
         New CapControl.cc element=Line.l capacitor=c type=voltage on=118 off=125 ptphase=avg\n\
         New SwtControl.sw SwitchedObj=Line.l SwitchedTerm=1 Action=o\n\
         New Fuse.f MonitoredObj=Line.l RatedCurrent=65\n\
         New Recloser.rc MonitoredObj=Line.l PhaseTrip=200\nNew Relay.ry MonitoredObj=Line.l\n"
    ));
    let r = &n.reg_controls[0];
    assert_eq!((r.winding, r.tap_winding, r.pt_phase), (2, 1, 0));
    assert!(close(
        n.transformer("t").unwrap().windings[0].tap_pu,
        1.0 + 4.0 * 0.2 / 32.0
    ));
    let cc = &n.cap_controls[0];
    assert_eq!(
        (cc.kind, cc.on_setting, cc.off_setting, cc.pt_phase),
        (vgrid_model::CapControlKind::Voltage, 118.0, 125.0, 0)
    );
    assert_eq!(cc.element.name, "l");
    assert_eq!(n.protective_devices.len(), 4);
    let pickups: Vec<Option<f64>> = n.protective_devices.iter().map(|d| d.pickup_a).collect();
    assert_eq!(pickups, [None, Some(65.0), Some(200.0), None]);
    assert!(!n.protective_devices[0].closed);
    assert_eq!(n.open_terminals.len(), 1);
    let f = &n.protective_devices[1];
    assert_eq!(f.switched.as_ref().unwrap().name, "l");
}

#[test]
fn redefinition_warns() {
    let r = run(&format!("{HEAD}New Load.a kw=5\nNew Load.a kv=1\n"));
    assert_eq!(r.network().loads.len(), 1);
    assert_eq!(r.network().loads[0].p_kw, 10.0, "redefined from defaults");
    assert!(r
        .warnings()
        .iter()
        .any(|w| w.message.contains("defined again")));
}

#[test]
fn clear_resets_everything() {
    let n = net(&format!(
        "{HEAD}New Load.a\nSet DefaultBaseFrequency=50\nClear\nNew circuit.b\n"
    ));
    assert!(n.loads.is_empty());
    assert_eq!(n.name, "b");
    assert_eq!(n.sources[0].frequency_hz, 50.0);
    assert!(n.load_shape("default").is_some());
}

#[test]
fn line_totals_match_opendss() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/line_units");
    let (n, _) = vgrid_dss::read_file(&dir.join("cases.dss"), ReadOptions::default()).unwrap();
    let expected = std::fs::read_to_string(dir.join("opendss_totals.txt")).unwrap();
    let mut checked = 0;
    for row in expected.lines() {
        let mut f = row.split_whitespace();
        let name = f.next().unwrap();
        let want: Vec<f64> = f.map(|v| v.parse().unwrap()).collect();
        let l = n.line(name).unwrap_or_else(|| panic!("line {name}"));
        let len = l.length_m;
        let p = l.phases > 1;
        let got = match &l.impedance {
            LineImpedance::Sequence {
                r1_ohm_per_m,
                x1_ohm_per_m,
                r0_ohm_per_m,
                x0_ohm_per_m,
                c1_nf_per_m,
                c0_nf_per_m,
            } => {
                let s = |a: f64, b: f64| (2.0 * a + b) / 3.0 * len;
                let m = |a: f64, b: f64| if p { (b - a) / 3.0 * len } else { 0.0 };
                vec![
                    s(*r1_ohm_per_m, *r0_ohm_per_m),
                    s(*x1_ohm_per_m, *x0_ohm_per_m),
                    m(*r1_ohm_per_m, *r0_ohm_per_m),
                    s(*c1_nf_per_m, *c0_nf_per_m),
                    m(*c1_nf_per_m, *c0_nf_per_m),
                ]
            }
            LineImpedance::Matrix {
                r_ohm_per_m,
                x_ohm_per_m,
                c_nf_per_m,
            } => {
                let k = l.phases - 1;
                vec![
                    r_ohm_per_m[0] * len,
                    x_ohm_per_m[0] * len,
                    r_ohm_per_m[k] * len,
                    c_nf_per_m[0] * len,
                    c_nf_per_m[k] * len,
                ]
            }
            other => panic!("{name}: {other:?}"),
        };
        for (g, w) in got.iter().zip(&want) {
            // OpenDSS adds a tiny shunt (CAP_EPSILON) to every line: absolute slack 1e-6 nF.
            assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{name}: got {got:?}, OpenDSS {want:?}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn xfmrcode_is_replayed_onto_transformers() {
    let n = net(&format!(
        "{HEAD}New XfmrCode.pole phases=1 windings=3 conns=[wye wye wye] kvs=[7.2 0.12 0.12] kvas=[25 25 25] %rs=[0.6 1.2 1.2] XHL=2.04 XHT=2.04 XLT=1.36\n\
         New Transformer.t1 xfmrcode=pole buses=[a.1 b.1.0 b.0.2]\n"
    ));
    let t = n.transformer("t1").unwrap();
    assert_eq!((t.phases, t.windings.len()), (1, 3));
    assert_eq!(
        t.windings.iter().map(|w| w.kv).collect::<Vec<_>>(),
        vec![7.2, 0.12, 0.12]
    );
    assert_eq!(t.windings[2].pct_r, 1.2);
    assert_eq!(t.x_sc_pct, vec![2.04, 2.04, 1.36]);
    assert_eq!(t.windings[2].bus.nodes, vec![0, 2]);
}

#[test]
fn actual_shapes_set_load_power_and_daily_sets_yearly() {
    let n = net(&format!(
        "{HEAD}New Loadshape.a npts=3 interval=1 mult=[1 4 2] qmult=[0.5 1.5 1] useactual=yes\n\
         New Load.l kw=1 pf=0.9 daily=a\nNew Load.m kw=1 kvar=0.2 yearly=a\n"
    ));
    let l = &n.loads[0];
    assert_eq!(
        (l.daily.as_deref(), l.yearly.as_deref()),
        (Some("a"), Some("a"))
    );
    assert_eq!(l.p_kw, 4.0);
    assert!(
        close(l.q_kvar, 4.0 * (1.0f64 / 0.81 - 1.0).sqrt()),
        "PF given: kvar follows PF"
    );
    assert_eq!((n.loads[1].p_kw, n.loads[1].q_kvar), (4.0, 1.5));
}

#[test]
fn reactors_last_rating_wins() {
    let n = net(&format!(
        "{HEAD}New Reactor.a bus1=x kvar=100 kv=12.47\nNew Reactor.b bus1=x bus2=y R=0.1 X=2\nNew Reactor.c bus1=x phases=1 LmH=10\n"
    ));
    use vgrid_model::ReactorRating;
    assert_eq!(n.reactors[0].rating, ReactorRating::Kvar { kvar: 100.0 });
    assert_eq!(
        n.reactors[1].rating,
        ReactorRating::Impedance {
            r_ohm: 0.1,
            x_ohm: 2.0
        }
    );
    assert!(n.reactors[1].bus2.is_some());
    let ReactorRating::Impedance { x_ohm, .. } = n.reactors[2].rating else {
        panic!()
    };
    assert!(close(x_ohm, 0.01 * 2.0 * std::f64::consts::PI * 60.0));
}

#[test]
fn warnings_carry_element_property_and_column() {
    let r = run(&format!(
        "{HEAD}New Transformer.t\nNew RegControl.r transformer=t revneutral=yes\n"
    ));
    let w = r
        .warnings()
        .iter()
        .find(|w| w.message.contains("revneutral"))
        .unwrap();
    assert_eq!(w.element.as_deref(), Some("RegControl.r"));
    assert_eq!(w.property.as_deref(), Some("revneutral"));
    assert_eq!((w.line, w.column), (3, 43));
}

#[test]
fn disabling_an_open_switch_releases_its_terminal() {
    let n = net(&format!(
        "{HEAD}New Line.l bus1=a bus2=b\nNew SwtControl.s SwitchedObj=Line.l SwitchedTerm=2 State=open\nDisable SwtControl.s\n"
    ));
    assert!(n.open_terminals.is_empty());
    assert!(!n.protective_devices[0].enabled);
}

#[test]
fn objects_the_host_adds_can_be_edited() {
    // a line and a load the host pushes into the model have no reader state yet: editing them
    // starts from OpenDSS's defaults
    let mut r = run(&format!(
        "{HEAD}new line.a bus1=s bus2=b r1=0.1 x1=0.2 length=1 units=km\nnew load.l bus1=b kw=10\n"
    ));
    let mut line = r.network().lines[0].clone();
    line.name = "hostline".into();
    line.phases = 1;
    let mut load = r.network().loads[0].clone();
    load.name = "hostload".into();
    r.network_mut().lines.push(line);
    r.network_mut().loads.push(load);
    r.run_command("Line.hostline.length=2 units=km", &mut |_, _| Ok(()))
        .unwrap();
    r.run_command("Load.hostload.kw=20 pf=0.8", &mut |_, _| Ok(()))
        .unwrap();
    let n = r.network();
    let l = &n.lines[1];
    assert_eq!(l.length_m, 2000.0);
    assert_eq!(l.phases, 1);
    match &l.impedance {
        LineImpedance::Sequence {
            r1_ohm_per_m,
            c1_nf_per_m,
            ..
        } => {
            assert!(close(*r1_ohm_per_m, 0.058 / 1000.0));
            assert!(close(*c1_nf_per_m, 3.4 / 1000.0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(n.loads[1].p_kw, 20.0);
    assert!(close(n.loads[1].q_kvar, 15.0));
}

#[test]
fn earth_model_is_taken_by_lines_created_after_it_and_per_line() {
    use vgrid_model::EarthModel;
    let n = net(&format!(
        "{HEAD}new line.before bus1=a bus2=b\nset earthmodel=carson\nnew line.after bus1=a bus2=c\n\
         new line.own bus1=a bus2=d earthmodel=fullcarson\nset earthmodel=Deri\nnew line.last bus1=a bus2=e\n"
    ));
    let model = |name: &str| n.lines.iter().find(|l| l.name == name).unwrap().earth_model;
    assert_eq!(model("before"), EarthModel::Deri);
    assert_eq!(model("after"), EarthModel::Carson);
    assert_eq!(model("own"), EarthModel::FullCarson);
    assert_eq!(model("last"), EarthModel::Deri);
    assert_eq!(n.settings.earth_model, EarthModel::Deri);
    // as OpenDSS: the first letter decides, anything unknown is Carson
    let n = net(&format!("{HEAD}set earthmodel=flat\n"));
    assert_eq!(n.settings.earth_model, EarthModel::FullCarson);
    let n = net(&format!("{HEAD}set earthmodel=xyz\n"));
    assert_eq!(n.settings.earth_model, EarthModel::Carson);
}
