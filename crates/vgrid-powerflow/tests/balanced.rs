//! The positive-sequence solve (`solve/balanced.rs`) gives the voltages of the three-phase
//! solve on balanced networks, solve after solve (taps, load changes, every load model, wye
//! and delta, generators, a Dy transformer), and refuses unbalanced ones with a reason.

use std::path::PathBuf;

use vgrid_dss::{ReadOptions, Reader};
use vgrid_model::Network;
use vgrid_powerflow::solve::{PfStatus, System};

fn network(lines: &[String]) -> Network {
    let mut r = Reader::new(ReadOptions::default());
    for l in lines {
        r.run_command(l, &mut |_, _| Ok(()))
            .unwrap_or_else(|e| panic!("{l}: {e}"));
    }
    r.into_network()
}

/// An 11 kV feeder of 12 sections through a Dy1 transformer to a 0.4 kV one of 6, with
/// three-phase loads of every kind, a generator and a PV system; `extra` commands added.
fn balanced_feeder(extra: &[&str]) -> Network {
    let mut lines = vec![
        "Clear".to_string(),
        "New Circuit.f basekv=11 pu=1.02 angle=10 phases=3 bus1=b0 MVAsc3=100 MVAsc1=90".into(),
    ];
    for k in 1..=12 {
        lines.push(format!(
            "New Line.l{k} bus1=b{} bus2=b{k} phases=3 r1=0.3 x1=0.35 r0=0.9 x0=1.1 c1=10 c0=4 length=0.4 units=km",
            k - 1
        ));
    }
    lines.push(
        "New Transformer.t phases=3 windings=2 buses=[b12 c0] conns=[delta wye] kvs=[11 0.4] kvas=[800 800] %rs=[0.6 0.6] xhl=5 taps=[1.0 1.0125]".into(),
    );
    for k in 1..=6 {
        lines.push(format!(
            "New Line.c{k} bus1=c{} bus2=c{k} phases=3 r1=0.2 x1=0.08 r0=0.8 x0=0.3 length=0.05 units=km",
            k - 1
        ));
    }
    for (k, model) in (1..=8).enumerate() {
        let bus = 2 + k;
        lines.push(format!(
            "New Load.m{model} bus1=b{bus} phases=3 kv=11 kw={} kvar={} model={model} zipv=[0.3 0.3 0.4 0.2 0.3 0.5 0.6]",
            200 + 40 * k,
            60 + 10 * k
        ));
    }
    lines.push("New Load.d bus1=b11 phases=3 conn=delta kv=11 kw=500 kvar=150".into());
    lines.push("New Load.lv bus1=c6 phases=3 kv=0.4 kw=300 kvar=90 model=1".into());
    lines.push("New Load.lv2 bus1=c3.2.3.1 phases=3 kv=0.4 kw=120 kvar=30 model=5".into());
    lines.push("New Generator.g bus1=b7 phases=3 kv=11 kw=400 kvar=50 model=1".into());
    lines.push("New Generator.gd bus1=b9 phases=3 conn=delta kv=11 kw=250 pf=0.95".into());
    lines.push(
        "New PVSystem.pv bus1=c4 phases=3 kv=0.4 kva=60 pmpp=55 irradiance=0.8 pf=0.98".into(),
    );
    lines.extend(extra.iter().map(|s| s.to_string()));
    lines.push("Set voltagebases=[11 0.4]".into());
    lines.push("CalcVoltageBases".into());
    network(&lines)
}

/// Largest difference between two voltage vectors, relative to each node's magnitude.
fn largest_difference(a: &[vgrid_network::C64], b: &[vgrid_network::C64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm() / y.norm().max(1.0))
        .fold(0.0, f64::max)
}

#[test]
fn balanced_solve_gives_the_three_phase_voltages() {
    let net = balanced_feeder(&[]);
    let mut fast = System::new(&net).unwrap();
    let mut full = System::new(&net).unwrap();
    full.set_balanced_mode(false);
    assert_eq!(fast.balanced_qualifies(), Ok(()));
    let base: Vec<(f64, f64)> = net.loads.iter().map(|l| (l.p_kw, l.q_kvar)).collect();
    let mut worst = 0.0f64;
    for k in 0..40 {
        for (i, &(p, q)) in base.iter().enumerate() {
            let m = 1.0 + 0.5 * ((k as f64) * 0.41 + i as f64).sin();
            fast.set_load_kw_kvar(i, p * m, q * m);
            full.set_load_kw_kvar(i, p * m, q * m);
        }
        if k == 20 {
            // a balanced tap change keeps Y circulant: Y1 is rebuilt
            fast.set_tap("t", 2, 0.975).unwrap();
            full.set_tap("t", 2, 0.975).unwrap();
        }
        let a = fast.solve().unwrap();
        let b = full.solve().unwrap();
        assert_eq!(a.status, PfStatus::Converged, "step {k}: {a:?}");
        assert_eq!(b.status, PfStatus::Converged, "step {k}: {b:?}");
        // the same iterates, hence (up to the last bits near the tolerance) the same count
        assert!(
            a.iterations.abs_diff(b.iterations) <= 1,
            "step {k}: {} vs {} iterations",
            a.iterations,
            b.iterations
        );
        worst = worst.max(largest_difference(fast.voltages(), full.voltages()));
    }
    assert_eq!(fast.balanced_solves(), 40);
    assert_eq!(full.balanced_solves(), 0);
    eprintln!("balanced vs three-phase: largest relative difference {worst:.1e}");
    // both stop at 1e-9 relative change; they agree far below it
    assert!(worst < 1e-10, "largest relative difference {worst:e}");
    // everything read from the full voltages is the same
    let (pa, pb) = (fast.total_source_power_kva(), full.total_source_power_kva());
    assert!((pa - pb).norm() < 1e-6 * pb.norm(), "{pa} vs {pb}");
    // the elements' power from their first phase (balanced) and from all three
    let (sa, sb) = (fast.total_pc_power_kva(), full.total_pc_power_kva());
    assert!((sa - sb).norm() < 1e-9 * sb.norm(), "{sa} vs {sb}");
    let each: vgrid_network::C64 = fast.pc_powers_kva().iter().map(|(_, s)| s).sum();
    assert!((sa - each).norm() < 1e-9 * sb.norm(), "{sa} vs {each}");
    // every branch's flows from the positive-sequence view, against Yprim·V
    let mut viewed = 0;
    for b in 0..fast.net.branches.len() {
        let Some(f) = fast.balanced_branch_flows(b) else {
            continue;
        };
        viewed += 1;
        let i = full.branch_currents(b);
        let c = full.net.branches[b].prim.conductors_per_terminal;
        for t in 0..f.terminals {
            let (i_ref, v_ref) = (
                i[t * c],
                full.voltages()[full.net.branches[b].nodes[t * c].unwrap()],
            );
            assert!(
                (f.i[t] - i_ref).norm() <= 1e-9 * i_ref.norm().max(1e-3),
                "branch {b} terminal {t}: {} vs {i_ref}",
                f.i[t]
            );
            assert!(
                (f.v[t] - v_ref).norm() <= 1e-10 * v_ref.norm(),
                "branch {b}"
            );
            // every phase carries the same magnitude
            for k in 0..3 {
                let ik = i[t * c + k].norm();
                assert!(
                    (ik - f.i[t].norm()).abs() <= 1e-9 * ik.max(1e-3),
                    "branch {b} conductor {k}"
                );
            }
        }
    }
    // the 18 lines and the transformer (its wye neutral grounded)
    assert_eq!(viewed, 19);
    assert!(full.balanced_branch_flows(0).is_none());
}

#[test]
fn unbalanced_networks_are_refused_with_a_reason() {
    let cases = [
        (
            "New Load.x bus1=b4.2 phases=1 kv=6.35 kw=10",
            "Load.x: 1 phase(s)",
        ),
        (
            "New Load.n bus1=c2.1.2.3.4 phases=3 kv=0.4 kw=10",
            "bus 'c2' has nodes [1, 2, 3, 4]",
        ),
        (
            "New Line.u bus1=b3 bus2=b4 phases=3 rmatrix=[0.3 | 0.1 0.3 | 0.05 0.1 0.3] xmatrix=[0.6 | 0.3 0.6 | 0.2 0.3 0.6] length=1",
            "Line.u",
        ),
        (
            "New Capacitor.cap bus1=b6 phases=3 kvar=[300 300] states=[1 0]",
            "",
        ),
    ];
    for (extra, why) in cases {
        let net = balanced_feeder(&[extra]);
        let mut sys = System::new(&net).unwrap();
        let reason = sys.balanced_qualifies().err().map(str::to_string);
        if why.is_empty() {
            // a three-phase capacitor bank switches all phases: still balanced
            assert_eq!(reason, None, "{extra}");
            continue;
        }
        let reason = reason.unwrap_or_else(|| panic!("{extra}: qualifies"));
        assert!(reason.contains(why), "{extra}: {reason}");
        let o = sys.solve().unwrap();
        assert_eq!(o.status, PfStatus::Converged);
        assert_eq!(sys.balanced_solves(), 0);
    }
}

#[test]
fn ieee13_does_not_qualify() {
    let dss = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/feeders/ieee13/IEEE13Nodeckt.dss");
    if !dss.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing; CI needs ../shared",
            dss.display()
        );
        eprintln!("note: ../shared not found; skipping");
        return;
    }
    let mut r = Reader::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    r.run_file(&dss, &mut |_, _| Ok(())).unwrap();
    let net = r.into_network();
    let mut sys = System::new(&net).unwrap();
    let why = sys.balanced_qualifies().unwrap_err().to_string();
    eprintln!("IEEE 13: {why}");
    sys.solve().unwrap();
    assert_eq!(sys.balanced_solves(), 0);
}

#[test]
fn a_flow_that_stops_early_reports_the_same_outcome() {
    let net = balanced_feeder(&[]);
    let mut fast = System::new(&net).unwrap();
    let mut full = System::new(&net).unwrap();
    full.set_balanced_mode(false);
    for sys in [&mut fast, &mut full] {
        // the script's limit: 2 iterations to reach 1e-12
        sys.settings.accept_tolerance = 1e-12;
        sys.settings.accept_iterations = 2;
    }
    let a = fast.solve().unwrap();
    let b = full.solve().unwrap();
    assert_eq!(fast.balanced_solves(), 1);
    assert_eq!(a.status, PfStatus::MaxIterations);
    assert_eq!((a.status, a.iterations), (b.status, b.iterations));
    assert!((a.max_change - b.max_change).abs() <= 1e-9 * b.max_change);
    // the worst nodes: the same buses (the three phases of a bus move alike)
    assert_eq!(a.worst.len(), 5);
    let buses = |o: &vgrid_powerflow::PfOutcome| {
        let mut v: Vec<String> = o.worst.iter().map(|w| w.0.clone()).collect();
        v.dedup();
        v
    };
    assert_eq!(buses(&a)[0], buses(&b)[0], "{:?} vs {:?}", a.worst, b.worst);
}
