//! The hand-made grid `tests/data/tiny`: what the reader builds, and a solve of it.

use crate::support::tiny;
use vgrid_model::{Connection, LineImpedance, SourceImpedance};
use vgrid_simbench::{read_grid, read_grid_with, ErrorKind, ReadOptions, TapPositions};

#[test]
fn nodes_fuse_through_closed_switches_only() {
    let grid = read_grid(&tiny()).unwrap();
    let bus = |id: &str| grid.node(id).unwrap().bus.as_str();
    assert_eq!(bus("MV Bus 1_1"), "mv bus 1");
    assert_eq!(bus("LV Bus 1_1"), "lv bus 1");
    assert_eq!(bus("LV Bus 1_2"), "lv bus 1");
    assert_eq!(bus("LV Bus 2_1"), "lv bus 2");
    // open switch: its own bus, with nothing connected
    assert_eq!(bus("LV Bus 3"), "lv bus 3");
    assert_eq!(grid.nodes.len(), 8);
    assert_eq!(grid.node("LV Bus 2").unwrap().vn_kv, 0.4);
    let net = &grid.network;
    assert_eq!(net.bus_coords.len(), 4);
    assert_eq!(net.voltage_bases_kv, vec![0.4, 20.0]);
    assert!(net.bus_kv_bases.contains(&("trafo 1#mid".to_string(), 0.4)));
}

#[test]
fn elements_carry_simbench_values_in_model_units() {
    let grid = read_grid(&tiny()).unwrap();
    let net = &grid.network;

    let src = &net.sources[0];
    assert_eq!(
        (src.bus1.bus.as_str(), src.base_kv, src.pu),
        ("mv bus 1", 20.0, 1.02)
    );
    let SourceImpedance::Ohm { r1_ohm, .. } = src.impedance else {
        panic!("{:?}", src.impedance)
    };
    // 1e-9 pu on 20 kV and the grid's rated power (loads 53.85 + 10 kVA, RES 30 kVA)
    let s_grid_mva = (50f64.hypot(20.0) + 10.0 + 30.0) / 1000.0;
    assert!((r1_ohm - 1e-9 * 400.0 / s_grid_mva).abs() < 1e-18);

    let line = &net.lines[0];
    assert_eq!(
        (line.bus1.bus.as_str(), line.bus2.bus.as_str()),
        ("lv bus 1", "lv bus 2")
    );
    assert_eq!(line.length_m, 100.0);
    let LineImpedance::Sequence {
        r1_ohm_per_m,
        c1_nf_per_m,
        ..
    } = line.impedance
    else {
        panic!("{:?}", line.impedance)
    };
    assert!((r1_ohm_per_m - 0.2067e-3).abs() < 1e-15);
    // pandapower's c_nf_per_km for this cable: 829.9993944 nF/km
    assert!((c1_nf_per_m * 1000.0 - 829.999_394_4).abs() < 1e-6);

    // T-model: two halves around the internal bus; Dyn5 as delta HV, LV nodes rotated
    let (t1, t2) = (&net.transformers[0], &net.transformers[1]);
    assert_eq!(
        (t1.name.as_str(), t2.name.as_str()),
        ("trafo 1", "trafo 1#lv")
    );
    assert_eq!(t1.windings[0].conn, Connection::Delta);
    assert_eq!(t1.windings[1].bus.to_string(), "trafo 1#mid.3.1.2");
    assert_eq!(t2.windings[0].bus.to_string(), "trafo 1#mid");
    assert_eq!(t2.windings[1].bus.to_string(), "lv bus 1");
    let vkr = 3.3 / 250.0 * 100.0;
    let xk = (36.0f64 - vkr * vkr).sqrt();
    assert!((t1.windings[0].pct_r - vkr / 4.0).abs() < 1e-12);
    assert!((t1.x_sc_pct[0] - xk / 2.0).abs() < 1e-12);
    assert_eq!(t1.x_sc_pct, t2.x_sc_pct);
    let nll = 0.88 / 250.0 * 100.0;
    assert!((t1.pct_noload_loss - nll).abs() < 1e-12);
    assert!((t1.pct_imag - (0.35201f64.powi(2) - nll * nll).sqrt()).abs() < 1e-12);
    assert_eq!((t2.pct_noload_loss, t2.pct_imag), (0.0, 0.0));
    // tappos 1 on the HV side, 2.5 % per step
    assert_eq!(t1.windings[0].tap_pu, 1.025);
    assert_eq!(t1.windings[1].tap_pu, 1.0);
    let neutral = read_grid_with(
        &tiny(),
        &ReadOptions {
            taps: TapPositions::Neutral,
        },
    )
    .unwrap();
    assert_eq!(neutral.network.transformers[0].windings[0].tap_pu, 1.0);

    let load = &net.loads[0];
    assert_eq!((load.p_kw, load.q_kvar, load.kv), (50.0, 20.0, 0.4));
    assert_eq!(load.yearly.as_deref(), Some("load:h0-a"));
    assert_eq!(net.loads[1].yearly, None);
    let pv = &net.generators[0];
    assert_eq!(
        (pv.p_kw, pv.kva, pv.yearly.as_deref()),
        (30.0, 30.0, Some("res:pv1"))
    );
    // only the profiles in use are read
    assert_eq!(net.load_shapes.len(), 2);
    assert_eq!(grid.steps, 3);
}

#[test]
fn profiles_scale_rated_values_per_step() {
    let grid = read_grid(&tiny()).unwrap();
    let net = grid.network_at_step(2).unwrap();
    assert!(net.load_shapes.is_empty());
    assert_eq!((net.loads[0].p_kw, net.loads[0].q_kvar), (100.0, -10.0));
    assert_eq!((net.loads[1].p_kw, net.loads[1].q_kvar), (10.0, 0.0));
    assert_eq!(
        (net.generators[0].p_kw, net.generators[0].q_kvar),
        (30.0, 0.0)
    );
    assert!(net.loads.iter().all(|l| l.yearly.is_none()));
    let e = grid.network_at_step(3).unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::StepOutOfRange { step: 3, steps: 3 }
    ));
}

#[test]
fn tiny_grid_solves_with_power_balance() {
    let grid = read_grid(&tiny()).unwrap();
    for step in 0..grid.steps {
        let mut net = grid.network_at_step(step).unwrap();
        let sol = vgrid::solve_network(&mut net).unwrap();
        assert!(sol.converged, "step {step}: {}", sol.status);
        // the slack holds its set-point
        let v = |bus: &str| {
            sol.voltages
                .iter()
                .find(|n| n.bus == bus && n.node == 1)
                .map(|n| (n.vmag_v, n.vang_deg))
        };
        let (vm, va) = v("mv bus 1").unwrap();
        assert!((vm / (20e3 / 3f64.sqrt()) - 1.02).abs() < 1e-9, "{vm}");
        assert!(va.abs() < 1e-7);
        // Dyn5: the LV side lags by about 150°
        let (_, va_lv) = v("lv bus 1").unwrap();
        assert!((va_lv + 150.0).abs() < 2.0, "{va_lv}");
        // the node behind the open switch is not energised
        assert!(v("lv bus 3").is_none_or(|(vm, _)| vm == 0.0));
        // power balance: source = loads + losses, to the round-off of the stiff source's
        // current (see SLACK_Z_PU): 1e-6 of the grid's rated 94 kVA
        let balance = sol.source_kw - sol.load_kw - sol.losses_kw;
        assert!(balance.abs() < 1e-6 * 94.0, "step {step}: {balance} kW");
        assert!(sol.losses_kw > 0.0);
    }
}

#[test]
fn study_cases_scale_rated_values() {
    let grid = read_grid(&tiny()).unwrap();
    assert_eq!(grid.study_cases.len(), 2);
    assert_eq!(grid.generator_types, vec!["PV".to_string()]);
    let net = grid.network_for_study_case("hPV").unwrap();
    assert!((net.loads[0].p_kw - 5.0).abs() < 1e-12);
    assert!((net.loads[0].q_kvar - 20.0 * 0.122543).abs() < 1e-12);
    assert!((net.generators[0].p_kw - 30.0 * 0.95).abs() < 1e-12);
    assert_eq!(net.sources[0].pu, 1.03);
    assert!(net.load_shapes.is_empty() && net.loads[0].yearly.is_none());
    let mut hl = grid.network_for_study_case("hL").unwrap();
    assert_eq!(hl.generators[0].p_kw, 0.0);
    let sol = vgrid::solve_network(&mut hl).unwrap();
    assert!(sol.converged);
    assert!(matches!(
        grid.network_for_study_case("lW").unwrap_err().kind,
        ErrorKind::UnknownReference { .. }
    ));
}

#[test]
fn the_model_validates_without_problems() {
    let grid = read_grid(&tiny()).unwrap();
    let problems = grid.network.validate();
    assert!(problems.is_empty(), "{problems:#?}");
}
