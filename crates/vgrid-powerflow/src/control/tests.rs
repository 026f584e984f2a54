//! Unit tests of the control loop on a small analytic system.
//!
//! Each circuit `k` is an ideal single-phase regulator `reg{k}` (winding 1 at the source,
//! winding 2 regulated, 2.4 kV, ±10 % in 32 steps) feeding a load `z_load` through a line
//! `line{k}` of impedance `z_line`, with an optional shunt capacitor `cap{k}` at the load:
//!
//! ```text
//! v2 = vs · tap2 / tap1,   i = v2 / (z_line + z_load ∥ z_cap),   v_load = v2 − z_line · i
//! ```

use super::*;
use vgrid_model::{
    BusRef, CapControl, CapControlKind, Capacitor, Connection, ElementKind, Line, LineImpedance,
    RegControl, ShuntRating, Transformer, Winding,
};

fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

#[derive(Debug, Clone)]
struct Circuit {
    vs: C64,
    tap1: f64,
    tap2: f64,
    z_line: C64,
    z_load: C64,
    /// Capacitor admittance when in service, S.
    y_cap: C64,
    cap_on: bool,
    // solution
    v2: C64,
    i: C64,
    v_load: C64,
}

#[derive(Debug, Clone, Default)]
struct Fake {
    circuits: Vec<Circuit>,
    solves: u32,
    converge: bool,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            converge: true,
            ..Fake::default()
        }
    }
    fn add(&mut self, vs: f64, z_line: C64, z_load: C64) -> usize {
        self.circuits.push(Circuit {
            vs: c(vs, 0.0),
            tap1: 1.0,
            tap2: 1.0,
            z_line,
            z_load,
            y_cap: c(0.0, 0.0),
            cap_on: false,
            v2: c(0.0, 0.0),
            i: c(0.0, 0.0),
            v_load: c(0.0, 0.0),
        });
        self.circuits.len() - 1
    }
    fn index(name: &str, prefix: &str) -> Option<usize> {
        name.strip_prefix(prefix)?.parse().ok()
    }
}

impl ControlledSystem for Fake {
    fn solve_power_flow(&mut self) -> bool {
        self.solves += 1;
        for k in &mut self.circuits {
            k.v2 = k.vs * k.tap2 / k.tap1;
            let y_par = 1.0 / k.z_load + if k.cap_on { k.y_cap } else { c(0.0, 0.0) };
            let z_par = 1.0 / y_par;
            k.i = k.v2 / (k.z_line + z_par);
            k.v_load = k.i * z_par;
        }
        self.converge
    }
    fn terminal_voltages(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        let zero = c(0.0, 0.0);
        match element.kind {
            ElementKind::Transformer => {
                let k = &self.circuits[Fake::index(&element.name, "reg")?];
                Some(vec![if terminal == 1 { k.vs } else { k.v2 }, zero])
            }
            ElementKind::Line => {
                let k = &self.circuits[Fake::index(&element.name, "line")?];
                Some(vec![if terminal == 1 { k.v2 } else { k.v_load }])
            }
            ElementKind::Capacitor => Some(vec![
                self.circuits[Fake::index(&element.name, "cap")?].v_load,
            ]),
            _ => None,
        }
    }
    fn terminal_currents(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        match element.kind {
            ElementKind::Transformer => {
                let k = &self.circuits[Fake::index(&element.name, "reg")?];
                let i1 = k.i * k.tap2 / k.tap1;
                Some(if terminal == 1 {
                    vec![i1, -i1]
                } else {
                    vec![-k.i, k.i]
                })
            }
            ElementKind::Line => {
                let k = &self.circuits[Fake::index(&element.name, "line")?];
                Some(vec![if terminal == 1 { k.i } else { -k.i }])
            }
            _ => None,
        }
    }
    fn node_voltage(&self, bus: &str, node: u32) -> Option<C64> {
        let k = &self.circuits[Fake::index(bus, "load")?];
        (node == 1).then_some(k.v_load)
    }
    fn set_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64) {
        let k = &mut self.circuits[Fake::index(transformer, "reg").expect("regulator")];
        if winding == 1 {
            k.tap1 = tap_pu;
        } else {
            k.tap2 = tap_pu;
        }
    }
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]) {
        self.circuits[Fake::index(capacitor, "cap").expect("capacitor")].cap_on = states[0];
    }
}

fn winding(bus: &str) -> Winding {
    Winding {
        bus: BusRef::parse(bus),
        conn: Connection::Wye,
        kv: 2.4,
        kva: 2000.0,
        pct_r: 0.005,
        r_neutral_ohm: -1.0,
        x_neutral_ohm: 0.0,
        tap_pu: 1.0,
        min_tap_pu: 0.9,
        max_tap_pu: 1.1,
        num_taps: 32,
    }
}

fn regulator_model(k: usize) -> Transformer {
    Transformer {
        name: format!("reg{k}"),
        phases: 1,
        windings: vec![winding(&format!("src{k}.1")), winding(&format!("reg{k}.1"))],
        x_sc_pct: vec![0.01],
        pct_noload_loss: 0.0,
        pct_imag: 0.0,
        ppm_antifloat: 0.0,
        norm_hkva: 2200.0,
        emerg_hkva: 3000.0,
        bank: None,
        is_substation: false,
        enabled: true,
    }
}

/// `vreg=120 band=2 ptratio=20 ctprim=100`, no LDC, delay 15 s, OpenDSS defaults otherwise.
fn regcontrol(k: usize) -> RegControl {
    RegControl {
        winding: 2,
        tap_winding: 2,
        band_v: 2.0,
        pt_ratio: 20.0,
        ct_prim_a: 100.0,
        ..RegControl::new(&format!("creg{k}"), &format!("reg{k}"))
    }
}

fn line_model(k: usize) -> Line {
    Line {
        name: format!("line{k}"),
        bus1: BusRef::parse(&format!("reg{k}.1")),
        bus2: BusRef::parse(&format!("load{k}.1")),
        phases: 1,
        length_m: 1.0,
        impedance: LineImpedance::Sequence {
            r1_ohm_per_m: 1.0,
            x1_ohm_per_m: 1.0,
            r0_ohm_per_m: 1.0,
            x0_ohm_per_m: 1.0,
            c1_nf_per_m: 0.0,
            c0_nf_per_m: 0.0,
        },
        base_frequency_hz: 60.0,
        rho_ohm_m: 100.0,
        earth_model: vgrid_model::EarthModel::Deri,
        is_switch: false,
        line_code: None,
        norm_amps_a: 400.0,
        emerg_amps_a: 600.0,
        enabled: true,
    }
}

fn capacitor_model(k: usize, on: bool) -> Capacitor {
    Capacitor {
        name: format!("cap{k}"),
        bus1: BusRef::parse(&format!("load{k}.1")),
        bus2: None,
        phases: 1,
        kv: 2.4,
        conn: Connection::Wye,
        rating: ShuntRating::Kvar(vec![300.0]),
        r_ohm: vec![0.0],
        xl_ohm: vec![0.0],
        states: vec![on],
        enabled: true,
    }
}

/// Voltage control on the load end of `line{k}`: close below `on` V, open above `off` V.
fn voltage_capcontrol(k: usize, on: f64, off: f64) -> CapControl {
    CapControl {
        name: format!("cc{k}"),
        element: ElementId {
            kind: ElementKind::Line,
            name: format!("line{k}"),
        },
        terminal: 2,
        capacitor: format!("cap{k}"),
        kind: CapControlKind::Voltage,
        on_setting: on,
        off_setting: off,
        delay_s: 15.0,
        delay_off_s: 15.0,
        dead_time_s: 300.0,
        pt_ratio: 20.0,
        ct_ratio: 60.0,
        pt_phase: 1,
        ct_phase: 1,
        volt_override: false,
        vmin_v: 115.0,
        vmax_v: 126.0,
        enabled: true,
    }
}

/// A network of `n` regulated circuits (transformer, regcontrol, line each).
fn network(n: usize) -> Network {
    let mut net = Network {
        name: "fake".into(),
        base_frequency_hz: 60.0,
        ..Network::default()
    };
    for k in 0..n {
        net.transformers.push(regulator_model(k));
        net.reg_controls.push(regcontrol(k));
        net.lines.push(line_model(k));
    }
    net
}

const NO_LOAD: C64 = C64::new(1e12, 0.0);

fn tap_numbers(r: &ControlReport) -> Vec<i32> {
    r.taps.iter().map(|t| t.tap_number).collect()
}

#[test]
fn static_mode_moves_70_percent_then_settles_in_band() {
    // 115 V seen: 7 steps pending, 4 moved; 117.875 V: 3 pending, 2 moved; 119.3125 V: in band.
    let net = network(1);
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let mut controls = Controls::new(&net);
    assert!(controls.problems().is_empty());
    let r = controls.solve_snapshot(&mut sys, &net);
    assert!(r.settled && r.power_flow_iterations_converged);
    assert_eq!(r.control_iterations, 3);
    assert_eq!(sys.solves, 3);
    assert_eq!(tap_numbers(&r), vec![6]);
    assert!((r.taps[0].tap_pu - 1.0375).abs() < 1e-12);
    assert_eq!(sys.circuits[0].tap2, r.taps[0].tap_pu);
    assert_eq!(r.events.len(), 2, "{:?}", r.events);
    assert!(r.events[0].contains("+4 steps") && r.events[1].contains("+2 steps"));
    // A second solve starts settled: one control iteration, nothing moves.
    let again = controls.solve_snapshot(&mut sys, &net);
    assert_eq!((again.control_iterations, again.events.len()), (1, 0));
}

#[test]
fn in_band_does_nothing_and_controls_off_never_samples() {
    let mut net = network(1);
    let mut sys = Fake::new();
    sys.add(2390.0, c(0.0, 0.0), NO_LOAD); // 119.5 V, in band
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert_eq!((r.control_iterations, tap_numbers(&r)), (1, vec![0]));

    net.settings.control_mode = ControlMode::Off;
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    assert_eq!((r.control_iterations, tap_numbers(&r)), (1, vec![0]));
}

#[test]
fn line_drop_compensation_regulates_the_load_end() {
    // R + jX in volts = Z_line · CT / PT: the compensated voltage is the load voltage / PT.
    let z_line = c(1.0, 2.0);
    let mut net = network(1);
    net.reg_controls[0].r_ldc_v = z_line.re * 100.0 / 20.0;
    net.reg_controls[0].x_ldc_v = z_line.im * 100.0 / 20.0;
    let mut sys = Fake::new();
    sys.add(2400.0, z_line, c(20.0, 5.0));
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    let v_load_120 = sys.circuits[0].v_load.norm() / 20.0;
    assert!(
        (v_load_120 - 120.0).abs() <= 1.0,
        "load end at {v_load_120} V"
    );
    assert!(r.taps[0].tap_number > 0);
    // Without LDC the regulator output (120 V) is already in band.
    let net = network(1);
    let mut sys = Fake::new();
    sys.add(2400.0, z_line, c(20.0, 5.0));
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert_eq!(tap_numbers(&r), vec![0]);
}

/// [`Fake`] with places (see [`ControlledSystem::layout_id`]): `reg{k}` is at place `k`;
/// counts the look-ups by name.
struct Placed {
    fake: Fake,
    layout: u64,
    locates: std::cell::Cell<usize>,
}

fn reg_id(k: usize) -> ElementId {
    ElementId {
        kind: ElementKind::Transformer,
        name: format!("reg{k}"),
    }
}

impl ControlledSystem for Placed {
    fn solve_power_flow(&mut self) -> bool {
        self.fake.solve_power_flow()
    }
    fn terminal_voltages(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        self.fake.terminal_voltages(element, terminal)
    }
    fn terminal_currents(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        self.fake.terminal_currents(element, terminal)
    }
    fn node_voltage(&self, bus: &str, node: u32) -> Option<C64> {
        self.fake.node_voltage(bus, node)
    }
    fn set_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64) {
        self.fake.set_tap(transformer, winding, tap_pu);
    }
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]) {
        self.fake.set_capacitor_states(capacitor, states);
    }
    fn layout_id(&self) -> u64 {
        self.layout
    }
    fn locate(&self, element: &ElementId) -> Option<usize> {
        self.locates.set(self.locates.get() + 1);
        match element.kind {
            ElementKind::Transformer => Fake::index(&element.name, "reg"),
            _ => None,
        }
    }
    fn located_terminal_voltages(&self, at: usize, terminal: usize, out: &mut Vec<C64>) -> bool {
        match self.fake.terminal_voltages(&reg_id(at), terminal) {
            Some(v) => {
                *out = v;
                true
            }
            None => false,
        }
    }
    fn located_terminal_current(
        &self,
        at: usize,
        terminal: usize,
        conductor: usize,
    ) -> Option<C64> {
        self.fake
            .terminal_currents(&reg_id(at), terminal)?
            .get(conductor)
            .copied()
    }
}

#[test]
fn regulators_found_once_by_place_act_as_by_name() {
    // two regulators with line-drop compensation, sampled by name and by place
    let z_line = c(1.0, 2.0);
    let mut net = network(2);
    for rc in &mut net.reg_controls {
        rc.r_ldc_v = z_line.re * 100.0 / 20.0;
        rc.x_ldc_v = z_line.im * 100.0 / 20.0;
    }
    let circuits = |sys: &mut Fake| {
        sys.add(2400.0, z_line, c(20.0, 5.0));
        sys.add(2330.0, z_line, c(30.0, 10.0));
    };
    let mut by_name = Fake::new();
    circuits(&mut by_name);
    let mut placed = Placed {
        fake: Fake::new(),
        layout: 7,
        locates: std::cell::Cell::new(0),
    };
    circuits(&mut placed.fake);
    let (mut a, mut b) = (Controls::new(&net), Controls::new(&net));
    let ra = a.solve_snapshot(&mut by_name, &net);
    let rb = b.solve_snapshot(&mut placed, &net);
    assert!(ra.settled && ra.control_iterations > 2, "{ra:?}");
    assert_eq!(ra, rb);
    // found once each, however many samples
    assert_eq!(placed.locates.get(), 2);
    // a load change, and another layout: found again, same answers again
    by_name.circuits[1].z_load = c(15.0, 8.0);
    placed.fake.circuits[1].z_load = c(15.0, 8.0);
    placed.layout = 8;
    let (ra, rb) = (
        a.solve_snapshot(&mut by_name, &net),
        b.solve_snapshot(&mut placed, &net),
    );
    assert!(ra.control_iterations > 1, "{ra:?}");
    assert_eq!(ra, rb);
    assert_eq!(placed.locates.get(), 4);
    // the summary is the report without taps and capacitor states
    let s = b.run_snapshot(&mut placed, &net);
    let r = b.report(s.clone());
    assert_eq!(
        (r.control_iterations, r.settled, &r.events),
        (s.control_iterations, s.settled, &s.events)
    );
    assert_eq!(r.taps, rb.taps);
}

#[test]
fn max_tap_change_one_and_delays_order_the_regulators() {
    // Each step adds 0.71875 V to 115 V; 6 steps reach 119.3125 V. creg0 (15 s) moves alone
    // until in band, then creg1 (30 s): 6 + 6 moves, plus the final settled iteration.
    let mut net = network(2);
    net.settings.max_control_iterations = 30;
    for (k, rc) in net.reg_controls.iter_mut().enumerate() {
        rc.max_tap_change = 1;
        rc.delay_s = if k == 0 { 15.0 } else { 30.0 };
    }
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    assert_eq!(r.control_iterations, 13);
    assert_eq!(tap_numbers(&r), vec![6, 6]);
    let first_creg1 = r.events.iter().position(|e| e.contains("creg1")).unwrap();
    assert_eq!(first_creg1, 6);
    assert!(r.events[..6]
        .iter()
        .all(|e| e.contains("creg0") && e.contains("+1 steps")));
}

#[test]
fn equal_delays_move_together() {
    let net = network(2);
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    assert_eq!(r.control_iterations, 3);
    assert_eq!(tap_numbers(&r), vec![6, 6]);
    // Same due time: both act in each of the first two iterations, last pushed first.
    assert!(
        r.events[0].contains("creg1") && r.events[1].contains("creg0"),
        "{:?}",
        r.events
    );
}

#[test]
fn tap_stops_at_its_limit() {
    let net = network(1);
    let mut sys = Fake::new();
    sys.add(2000.0, c(0.0, 0.0), NO_LOAD); // 100 V: needs more than +10 %
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    assert_eq!(tap_numbers(&r), vec![16]);
    assert_eq!(r.taps[0].tap_pu, 1.1);
}

#[test]
fn max_control_iterations_stops_without_sampling_the_last_solution() {
    let mut net = network(1);
    net.settings.max_control_iterations = 3;
    net.reg_controls[0].max_tap_change = 1;
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(!r.settled);
    assert_eq!(r.control_iterations, 3);
    assert_eq!(tap_numbers(&r), vec![2]);
    assert!(r
        .events
        .last()
        .unwrap()
        .contains("maximum control iterations"));
}

#[test]
fn non_convergence_stops_the_controls() {
    let net = network(1);
    let mut sys = Fake::new();
    sys.converge = false;
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(!r.settled && !r.power_flow_iterations_converged);
    assert_eq!((r.control_iterations, tap_numbers(&r)), (1, vec![0]));
}

#[test]
fn tap_on_the_other_winding_moves_the_other_way() {
    let mut net = network(1);
    net.reg_controls[0].tap_winding = 1;
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = Controls::new(&net).solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    assert_eq!(r.taps[0].winding, 1);
    assert!(r.taps[0].tap_number < 0);
    let v = sys.circuits[0].v2.norm() / 20.0;
    assert!((v - 120.0).abs() <= 1.0, "{v}");
}

#[test]
fn voltage_capcontrol_closes_before_a_slower_regulator() {
    // Load end at ~108 V: the capacitor (15 s) closes first, then the regulator (30 s) acts.
    let mut net = network(1);
    net.capacitors.push(capacitor_model(0, false));
    net.cap_controls.push(voltage_capcontrol(0, 118.0, 126.0));
    net.reg_controls[0].delay_s = 30.0;
    let mut sys = Fake::new();
    sys.add(2300.0, c(1.0, 3.0), c(30.0, 15.0));
    sys.circuits[0].y_cap = c(0.0, 100e3 / 2400f64.powi(2));
    let mut controls = Controls::new(&net);
    let r = controls.solve_snapshot(&mut sys, &net);
    assert!(r.settled, "{:?}", r.events);
    assert_eq!(r.capacitor_states, vec![("cap0".to_string(), vec![true])]);
    assert!(sys.circuits[0].cap_on);
    assert!(r.events[0].contains("CapControl.cc0"), "{:?}", r.events);
    assert!(
        r.events[1..].iter().all(|e| e.contains("RegControl.creg0")),
        "{:?}",
        r.events
    );
    assert_eq!(r.control_iterations, 4, "{:?}", r.events);
    assert_eq!(tap_numbers(&r), vec![6]);
}

#[test]
fn voltage_capcontrol_opens_above_off_and_respects_dead_time() {
    let mut net = network(1);
    net.capacitors.push(capacitor_model(0, true));
    net.cap_controls.push(voltage_capcontrol(0, 118.0, 121.0));
    net.reg_controls[0].enabled = false;
    let mut sys = Fake::new();
    sys.add(2500.0, c(0.0, 0.0), NO_LOAD); // 125 V > 121: open
    sys.circuits[0].cap_on = true;
    let mut controls = Controls::new(&net);
    let r = controls.solve_snapshot(&mut sys, &net);
    assert_eq!(r.capacitor_states[0].1, vec![false]);
    // Now the voltage drops below ON: closing is delayed by the dead time (300 + 15 s), which
    // only orders actions in STATIC mode, so it still closes.
    sys.circuits[0].vs = c(2300.0, 0.0);
    let r = controls.solve_snapshot(&mut sys, &net);
    assert_eq!(r.capacitor_states[0].1, vec![true]);
    assert_eq!(controls.queue().len(), 0);
}

#[test]
fn time_mode_moves_one_step_per_tap_delay_once_the_delay_has_passed() {
    let mut net = network(1);
    net.settings.control_mode = ControlMode::Time;
    net.reg_controls[0].delay_s = 30.0;
    net.reg_controls[0].tap_delay_s = 2.0;
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD); // 7 steps pending at 115 V
    let mut controls = Controls::new(&net);
    let mut taps = Vec::new();
    for t in [
        0.0, 10.0, 20.0, 30.0, 31.0, 32.0, 34.0, 36.0, 38.0, 40.0, 60.0,
    ] {
        let r = controls.solve_time_step(&mut sys, &net, 0.0, t);
        assert!(r.settled);
        taps.push(r.taps[0].tap_number);
    }
    // Queued at 0 s for 30 s; then one step every 2 s while still out of band. The pending
    // change is re-sampled each step: 7 → 6 → ... until in band at 119.3125 V (6 steps).
    assert_eq!(taps, vec![0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 6]);
}

#[test]
fn event_mode_advances_the_clock_to_each_action() {
    let mut net = network(1);
    net.settings.control_mode = ControlMode::Event;
    net.reg_controls[0].delay_s = 30.0;
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let mut controls = Controls::new(&net);
    let r = controls.solve_snapshot(&mut sys, &net);
    assert!(r.settled);
    assert_eq!(tap_numbers(&r), vec![6]);
    // First step at 30 s, the remaining ones 2 s apart (the 6th at 40 s); the follow-up queued
    // at 40 s for 42 s cannot be withdrawn (as in OpenDSS) and executes as a no-op.
    assert_eq!(controls.time_s(), 42.0);
}

#[test]
fn missing_transformer_is_reported_not_fatal() {
    let mut net = network(1);
    net.reg_controls[0].transformer = "nope".into();
    net.cap_controls.push(voltage_capcontrol(0, 118.0, 126.0));
    let controls = Controls::new(&net);
    assert_eq!(controls.problems().len(), 2, "{:?}", controls.problems());
    let mut sys = Fake::new();
    sys.add(2300.0, c(0.0, 0.0), NO_LOAD);
    let r = controls.clone().solve_snapshot(&mut sys, &net);
    assert!(r.settled && r.taps.is_empty());
}

#[test]
fn tap_number_is_counted_from_the_middle_of_the_range() {
    let t = TapChanger {
        transformer: "t".into(),
        winding: 2,
        tap_pu: 1.0 + 9.0 * 0.00625,
        min_tap_pu: 0.9,
        max_tap_pu: 1.1,
        step_pu: 0.2 / 32.0,
    };
    assert_eq!(t.tap_number(), 9);
    let t = TapChanger { tap_pu: 0.9, ..t };
    assert_eq!(t.tap_number(), -16);
}

/// Conductor voltages and currents into one terminal.
type Terminal = (Vec<C64>, Vec<C64>);

/// OpenDSS's own power flows, replayed: the monitored terminals of every control at each control
/// iteration, as recorded by `tests/data/control/gen_control_traces.py`, keyed
/// `"class.name/terminal"` (lower case). Valid as long as the loop takes OpenDSS's decisions (a
/// different decision changes what OpenDSS would have solved, which the tests report).
struct Replay {
    terminals: Vec<std::collections::HashMap<String, Terminal>>,
    solved: usize,
    /// `(control iteration, transformer, new tap)` in call order.
    tap_moves: Vec<(usize, String, f64)>,
    /// `(control iteration, capacitor, effective states)` in call order.
    cap_moves: Vec<(usize, String, Vec<bool>)>,
}

impl Replay {
    fn new(terminals: Vec<std::collections::HashMap<String, Terminal>>) -> Replay {
        Replay {
            terminals,
            solved: 0,
            tap_moves: Vec::new(),
            cap_moves: Vec::new(),
        }
    }
    fn get(&self, element: &ElementId, terminal: usize) -> Option<&Terminal> {
        let key = format!("{element}/{terminal}").to_lowercase();
        self.terminals.get(self.solved - 1)?.get(&key)
    }
}

impl ControlledSystem for Replay {
    fn solve_power_flow(&mut self) -> bool {
        self.solved += 1;
        self.solved <= self.terminals.len()
    }
    fn terminal_voltages(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        Some(self.get(element, terminal)?.0.clone())
    }
    fn terminal_currents(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        Some(self.get(element, terminal)?.1.clone())
    }
    fn node_voltage(&self, _bus: &str, _node: u32) -> Option<C64> {
        None
    }
    fn set_tap(&mut self, transformer: &str, _winding: usize, tap_pu: f64) {
        self.tap_moves
            .push((self.solved, transformer.to_string(), tap_pu));
    }
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]) {
        self.cap_moves
            .push((self.solved, capacitor.to_string(), states.to_vec()));
    }
}

mod replay {
    use super::*;
    use serde_json::Value;

    pub fn traces() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/control/control_traces.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn complex(v: &Value) -> Vec<C64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| c(p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    }

    /// The recorded terminals of each control iteration; `rename` maps a recorded key to
    /// `"class.name/terminal"`.
    pub fn terminals(
        v: &Value,
        rename: impl Fn(&str) -> String,
    ) -> Vec<std::collections::HashMap<String, Terminal>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|it| {
                it.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, vi)| (rename(k), (complex(&vi["v"]), complex(&vi["i"]))))
                    .collect()
            })
            .collect()
    }

    /// Regulated transformers and their regcontrols, from the recorded settings.
    pub fn add_regulators(net: &mut Network, regs: &Value) {
        for r in regs.as_array().unwrap() {
            let f = |k: &str| r[k].as_f64().unwrap();
            let mut t = regulator_model(0);
            t.name = r["transformer"].as_str().unwrap().to_string();
            t.phases = r["phases"].as_u64().unwrap() as usize;
            for (w, wd) in t.windings.iter_mut().zip(r["windings"].as_array().unwrap()) {
                w.kv = wd["kv"].as_f64().unwrap();
                w.tap_pu = wd["tap"].as_f64().unwrap();
                w.conn = if wd["conn"] == "delta" {
                    Connection::Delta
                } else {
                    Connection::Wye
                };
                w.min_tap_pu = f("mintap");
                w.max_tap_pu = f("maxtap");
                w.num_taps = r["numtaps"].as_u64().unwrap() as u32;
            }
            let mut rc = regcontrol(0);
            rc.name = r["name"].as_str().unwrap().to_string();
            rc.transformer = t.name.clone();
            rc.winding = r["winding"].as_u64().unwrap() as usize;
            rc.tap_winding = r["tap_winding"].as_u64().unwrap() as usize;
            rc.vreg_v = f("vreg");
            rc.band_v = f("band");
            rc.pt_ratio = f("ptratio");
            rc.ct_prim_a = f("ctprim");
            rc.r_ldc_v = f("r");
            rc.x_ldc_v = f("x");
            rc.delay_s = f("delay");
            rc.max_tap_change = r["maxtapchange"].as_u64().unwrap() as u32;
            net.transformers.push(t);
            net.reg_controls.push(rc);
        }
    }

    /// Capacitors, capcontrols and the monitored lines, from the recorded settings.
    pub fn add_capacitors(net: &mut Network, case: &Value) {
        for cap in case["capacitors"].as_array().unwrap() {
            let mut m = capacitor_model(0, true);
            m.name = cap["name"].as_str().unwrap().to_string();
            m.phases = cap["phases"].as_u64().unwrap() as usize;
            m.kv = cap["kv"].as_f64().unwrap();
            m.conn = if cap["conn"] == "delta" {
                Connection::Delta
            } else {
                Connection::Wye
            };
            let steps = cap["numsteps"].as_u64().unwrap() as usize;
            m.rating = ShuntRating::Kvar(vec![cap["kvar"].as_f64().unwrap() / steps as f64; steps]);
            m.states = cap["states"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_i64() == Some(1))
                .collect();
            net.capacitors.push(m);
        }
        for (element, phases) in case["monitored_element_phases"].as_object().unwrap() {
            let mut l = line_model(0);
            l.name = element.strip_prefix("line.").expect("a line").to_string();
            l.phases = phases.as_u64().unwrap() as usize;
            net.lines.push(l);
        }
        for cc in case["capcontrols"].as_array().unwrap() {
            let f = |k: &str| cc[k].as_f64().unwrap();
            let element = cc["element"].as_str().unwrap();
            net.cap_controls.push(CapControl {
                name: cc["name"].as_str().unwrap().to_string(),
                element: ElementId {
                    kind: ElementKind::Line,
                    name: element.strip_prefix("line.").unwrap().to_string(),
                },
                terminal: cc["terminal"].as_u64().unwrap() as usize,
                capacitor: cc["capacitor"].as_str().unwrap().to_string(),
                kind: match cc["type"].as_str().unwrap() {
                    "current" => CapControlKind::Current,
                    "voltage" => CapControlKind::Voltage,
                    "kvar" => CapControlKind::Kvar,
                    "pf" => CapControlKind::PowerFactor,
                    _ => CapControlKind::Time,
                },
                on_setting: f("on"),
                off_setting: f("off"),
                delay_s: f("delay"),
                delay_off_s: f("delayoff"),
                dead_time_s: f("deadtime"),
                pt_ratio: f("ptratio"),
                ct_ratio: f("ctratio"),
                pt_phase: cc["ptphase"].as_i64().unwrap() as i32,
                ct_phase: cc["ctphase"].as_i64().unwrap() as i32,
                volt_override: cc["voltoverride"].as_bool().unwrap(),
                vmin_v: f("vmin"),
                vmax_v: f("vmax"),
                enabled: true,
            });
        }
    }

    /// `(iteration, "regulator"|"capacitor", name, detail)` from our event log, detail = steps
    /// for a regulator and OpenDSS's word for a capacitor.
    pub fn our_moves(events: &[String]) -> Vec<(u64, String, String, String)> {
        let mut out = Vec::new();
        for e in events {
            let Some(rest) = e.strip_prefix("control iteration ") else {
                continue;
            };
            let (it, rest) = rest.split_once(": ").unwrap();
            let it: u64 = it.parse().unwrap();
            if let Some(r) = rest.strip_prefix("RegControl.") {
                let name = r.split(':').next().unwrap();
                let steps = r
                    .split('(')
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .trim_start_matches('+');
                out.push((it, "regulator".into(), name.to_string(), steps.to_string()));
            } else if let Some((_, r)) = rest.split_once(": capacitor ") {
                // "CapControl.cc1: capacitor cap1 step up (was ..."
                let (cap, what) = r.split_once(' ').unwrap();
                out.push((
                    it,
                    "capacitor".into(),
                    cap.to_string(),
                    what.split(" (").next().unwrap().to_string(),
                ));
            }
        }
        out
    }

    pub fn their_moves(
        moves: &Value,
        reg_name_of: impl Fn(&str) -> String,
    ) -> Vec<(u64, String, String, String)> {
        moves
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let kind = m[1].as_str().unwrap();
                let detail = if kind == "regulator" {
                    m[3].as_i64().unwrap().to_string()
                } else {
                    m[3].as_str().unwrap().to_string()
                };
                (
                    m[0].as_u64().unwrap(),
                    kind.to_string(),
                    reg_name_of(m[2].as_str().unwrap()),
                    detail,
                )
            })
            .collect()
    }
}

#[test]
fn replays_opendss_control_iterations_on_the_ieee_feeders() {
    let traces = replay::traces();
    let mut cases = 0;
    for (case, t) in traces.as_object().unwrap() {
        if case == "capcontrol_cases" {
            continue;
        }
        let re = &t["reenactment"];
        let own = &t["opendss"];
        let mut net = Network::default();
        net.settings.max_control_iterations = re["max_control_iterations"].as_u64().unwrap() as u32;
        replay::add_regulators(&mut net, &re["regulators"]);
        let key_of = |reg: &str| {
            let r = net.reg_controls.iter().find(|r| r.name == reg).unwrap();
            format!("transformer.{}/{}", r.transformer, r.winding)
        };
        let mut sys = Replay::new(replay::terminals(&re["terminals"], key_of));
        let mut controls = Controls::new(&net);
        assert!(
            controls.problems().is_empty(),
            "{case}: {:?}",
            controls.problems()
        );
        let report = controls.solve_snapshot(&mut sys, &net);

        let expected: Vec<(usize, String, f64)> = own["moves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let reg = m[1].as_str().unwrap();
                let xf = net
                    .reg_controls
                    .iter()
                    .find(|r| r.name == reg)
                    .unwrap()
                    .transformer
                    .clone();
                (m[0].as_u64().unwrap() as usize, xf, m[3].as_f64().unwrap())
            })
            .collect();
        assert_eq!(
            sys.tap_moves.len(),
            expected.len(),
            "{case}: {:?}\nvs OpenDSS {expected:?}",
            sys.tap_moves
        );
        for (ours, theirs) in sys.tap_moves.iter().zip(&expected) {
            assert_eq!(
                (ours.0, &ours.1),
                (theirs.0, &theirs.1),
                "{case}: {:?}",
                sys.tap_moves
            );
            assert!(
                (ours.2 - theirs.2).abs() < 1e-9,
                "{case}: {ours:?} vs {theirs:?}"
            );
        }
        assert_eq!(
            report.control_iterations as u64,
            own["control_iterations"].as_u64().unwrap(),
            "{case}"
        );
        assert!(report.settled, "{case}");
        for tap in &report.taps {
            assert_eq!(
                tap.tap_number as i64,
                own["taps"][&tap.regcontrol].as_i64().unwrap(),
                "{case} {}",
                tap.regcontrol
            );
        }
        cases += 1;
    }
    assert_eq!(cases, 5);
}

#[test]
fn replays_opendss_capacitor_controls() {
    let traces = replay::traces();
    let cases = traces["capcontrol_cases"].as_object().unwrap();
    assert_eq!(cases.len(), 2);
    for (case, t) in cases {
        let mut net = Network::default();
        net.settings.max_control_iterations = t["max_control_iterations"].as_u64().unwrap() as u32;
        replay::add_regulators(&mut net, &t["regulators"]);
        replay::add_capacitors(&mut net, t);
        let mut sys = Replay::new(replay::terminals(&t["terminals"], |k| k.to_string()));
        let mut controls = Controls::new(&net);
        assert!(
            controls.problems().is_empty(),
            "{case}: {:?}",
            controls.problems()
        );
        let report = controls.solve_snapshot(&mut sys, &net);

        let ours = replay::our_moves(&report.events);
        let theirs = replay::their_moves(&t["moves"], |n| {
            // OpenDSS logs regulators by transformer name
            net.reg_controls
                .iter()
                .find(|r| r.transformer == n)
                .map_or(n.to_string(), |r| r.name.clone())
        });
        assert_eq!(ours, theirs, "{case}: {:#?}", report.events);
        assert_eq!(
            report.control_iterations as u64,
            t["control_iterations"].as_u64().unwrap(),
            "{case}"
        );
        assert_eq!(report.settled, t["settled"].as_bool().unwrap(), "{case}");
        for (cap, states) in &report.capacitor_states {
            let expected: Vec<bool> = t["capacitor_states"][cap]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_i64() == Some(1))
                .collect();
            assert_eq!(states, &expected, "{case} {cap}");
        }
        for tap in &report.taps {
            assert_eq!(
                tap.tap_number as i64,
                t["taps"][&tap.regcontrol].as_i64().unwrap(),
                "{case} {}",
                tap.regcontrol
            );
        }
    }
}
