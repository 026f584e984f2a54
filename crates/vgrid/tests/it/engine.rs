//! Behaviour of the whole engine on small scripts written here: what a user meets when a
//! network is unusual or wrong.

use std::path::PathBuf;

use vgrid::{ReadOptions, Session};

/// Write `text` to a fresh file in a temporary folder and return its path.
fn script(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vgrid-it-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.dss"));
    std::fs::write(&p, text).unwrap();
    p
}

const FEEDER: &str = "
Clear
New Circuit.t basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Line.l1 bus1=src bus2=a phases=3 r1=0.2 x1=0.4 r0=0.6 x0=1.2 c1=3 c0=1 length=1 units=km
New Line.sw bus1=a bus2=b phases=3 switch=yes
New Line.l2 bus1=b bus2=c phases=3 r1=0.2 x1=0.4 r0=0.6 x0=1.2 c1=3 c0=1 length=1 units=km
New Load.a bus1=a phases=3 kv=12.47 kw=900 kvar=300
New Load.c bus1=c phases=3 kv=12.47 kw=600 kvar=200
Set voltagebases=[12.47]
CalcVoltageBases
";

#[test]
fn a_floating_wye_neutral_is_solved_through_the_load() {
    let p = script(
        "floating",
        &format!("{FEEDER}New Load.f bus1=c.1.2.3.4 phases=3 conn=wye kv=12.47 kw=300 kvar=100\n"),
    );
    let mut s = Session::new(ReadOptions::default());
    s.ignore_script_solves = true;
    s.run_file(&p).unwrap();
    let sol = s.solve().unwrap();
    assert!(sol.converged, "{}", sol.status);
    assert!(
        crate::support::power_balance(&sol) < 1e-8,
        "power balance {}",
        crate::support::power_balance(&sol)
    );
    // a balanced load on a balanced feeder: its floating star point sits near 0 V
    let n4 = sol
        .voltages
        .iter()
        .find(|v| v.bus == "c" && v.node == 4)
        .unwrap();
    assert!(n4.vmag_v < 1.0, "neutral at {} V", n4.vmag_v);
}

#[test]
fn an_open_switch_de_energises_what_lies_behind_it() {
    let p = script("open", &format!("{FEEDER}Open Line.sw 2\n"));
    let mut s = Session::new(ReadOptions::default());
    s.ignore_script_solves = true;
    s.run_file(&p).unwrap();
    let sol = s.solve().unwrap();
    assert!(sol.converged);
    assert_eq!(sol.isolated_buses, vec!["b".to_string(), "c".to_string()]);
    // only load a is served
    assert!(
        (sol.load_kw - 900.0).abs() < 1.0,
        "loads {} kW",
        sol.load_kw
    );
    let vc = sol.voltages.iter().find(|v| v.bus == "c").unwrap();
    assert_eq!(vc.vmag_v, 0.0);
    assert!(crate::support::power_balance(&sol) < 1e-8);
    // OpenDSS (DSS C-API 0.14.5, `set tolerance=1e-10`) on this same script: source
    // 901.1680006 kW + j302.1613135 kvar, bus a at 7167.0674134 V. The switch opened at its
    // far end keeps only its shunt capacitance at bus a (Kron elimination), as in OpenDSS.
    assert!(
        (sol.source_kw - 901.168_000_6).abs() < 1e-5,
        "{}",
        sol.source_kw
    );
    assert!(
        (sol.source_kvar - 302.161_313_5).abs() < 1e-5,
        "{}",
        sol.source_kvar
    );
    let va = sol.voltages.iter().find(|v| v.bus == "a").unwrap();
    assert!((va.vmag_v - 7_167.067_413_4).abs() < 1e-4, "{}", va.vmag_v);
}

#[test]
fn a_power_flow_that_cannot_converge_says_so_and_where() {
    // a heavy load and an iteration limit of 2: the script's tolerance (1e-4) is not reached
    let p = script(
        "limit",
        &format!("{FEEDER}New Load.big bus1=c phases=3 kv=12.47 kw=9000 kvar=6000\nSet maxiterations=2\n"),
    );
    let mut s = Session::new(ReadOptions::default());
    s.ignore_script_solves = true;
    s.run_file(&p).unwrap();
    let sol = s.solve().unwrap();
    assert!(!sol.converged);
    assert_eq!(sol.status, "max_iterations");
    assert_eq!(sol.iterations, 2);
    assert!(
        !sol.worst_nodes.is_empty(),
        "the report names the nodes that still moved"
    );
    // with the default limit the same network converges
    s.run_command("Set maxiterations=15").unwrap();
    let sol = s.solve().unwrap();
    assert!(sol.converged);
    crate::support::assert_power_balance("limit 15", &sol);
}

#[test]
fn a_malformed_script_names_file_line_and_property() {
    let p = script(
        "bad",
        "Clear\nNew Circuit.t basekv=12.47\nNew Line.l1 bus1=sourcebus bus2=a lenght=3\n",
    );
    let mut s = Session::new(ReadOptions::default());
    let e = s.run_file(&p).unwrap_err().to_string();
    assert!(e.contains("bad.dss:3"), "{e}");
    assert!(e.contains("lenght"), "{e}");
    assert!(
        e.contains("length"),
        "the hint suggests the right name: {e}"
    );
}

#[test]
fn lenient_mode_turns_unknown_properties_into_warnings() {
    let p = script(
        "lenient",
        &format!("{FEEDER}New Load.x bus1=a phases=1 kv=7.2 kw=10 colour=red\n"),
    );
    let mut s = Session::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    s.ignore_script_solves = true;
    s.run_file(&p).unwrap();
    assert!(s
        .warnings()
        .iter()
        .any(|w| w.to_string().contains("colour")));
    assert!(s.solve().unwrap().converged);
}

#[test]
fn solves_in_a_script_run_in_order_and_taps_carry_over() {
    let ieee13 = match crate::support::shared() {
        Some(p) => p.join("feeders/ieee13/IEEE13Nodeckt.dss"),
        None => return,
    };
    let mut s = Session::new(ReadOptions::default());
    s.run_file(&ieee13).unwrap();
    assert_eq!(s.solutions().len(), 1, "the master's own Solve ran");
    let first = s.solutions()[0].taps.clone();
    s.run_command("Solve").unwrap();
    let second = &s.solutions()[1];
    for sol in s.solutions() {
        crate::support::assert_power_balance("ieee13 script", sol);
    }
    // the second solve starts from the taps the first one chose, and keeps them
    assert_eq!(
        first.iter().map(|t| t.tap_number).collect::<Vec<_>>(),
        second.taps.iter().map(|t| t.tap_number).collect::<Vec<_>>()
    );
    assert_eq!(second.control_iterations, 1);
}
