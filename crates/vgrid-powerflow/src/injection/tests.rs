//! Checks against OpenDSS: `tests/data/injection/currents.json`, written by
//! `tests/data/injection/gen_currents.py` (OpenDSS via opendssdirect). For every element and
//! every source voltage, the recorded conductor voltages are fed to [`Injection::currents`] and
//! the result compared with OpenDSS's terminal currents; YPrim and the conductor count likewise.

use super::*;
use serde_json::Value;
use vgrid_model::{BusRef, LoadModel, LoadStatus};

const DATA: &str = include_str!("../../tests/data/injection/currents.json");
/// Largest accepted error, relative to the larger of the element's largest reference current and
/// its rated current (or to the largest YPrim entry).
const REL_TOL: f64 = 1e-9;

/// Rated phase current, amperes: nominal |S| per phase at the phase voltage.
fn rated_current_a(p: &Value) -> f64 {
    let phases = num(p, "phases", 3.0);
    let s_kva = if p.get("pmpp").is_some() {
        num(p, "kva", 500.0)
    } else {
        num(p, "kw", 0.0).hypot(num(p, "kvar", 0.0))
    };
    let v_kv = if phases > 1.0 {
        num(p, "kv", 12.47) / 3f64.sqrt()
    } else {
        num(p, "kv", 12.47)
    };
    s_kva / phases / v_kv
}

fn num(p: &Value, key: &str, default: f64) -> f64 {
    p.get(key).and_then(Value::as_f64).unwrap_or(default)
}

fn cplx(v: &Value) -> Vec<C64> {
    v.as_array()
        .expect("array of complex")
        .iter()
        .map(|z| C64::new(z[0].as_f64().unwrap(), z[1].as_f64().unwrap()))
        .collect()
}

fn conn(p: &Value) -> Connection {
    match p["conn"].as_str().unwrap() {
        "delta" => Connection::Delta,
        _ => Connection::Wye,
    }
}

fn load_of(p: &Value) -> Load {
    Load {
        name: "x".into(),
        bus1: BusRef::parse(p["bus1"].as_str().unwrap()),
        phases: p["phases"].as_u64().unwrap() as usize,
        conn: conn(p),
        kv: num(p, "kv", 12.47),
        p_kw: num(p, "kw", 10.0),
        q_kvar: num(p, "kvar", 5.0),
        model: LoadModel::from_number(p["model"].as_i64().unwrap()).unwrap(),
        zipv: p["zipv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z.as_f64().unwrap())
            .collect(),
        cvr_watts: num(p, "cvrwatts", 1.0),
        cvr_vars: num(p, "cvrvars", 2.0),
        vmin_pu: num(p, "vminpu", 0.95),
        vmax_pu: num(p, "vmaxpu", 1.05),
        status: match p["status"].as_str().unwrap() {
            "fixed" => LoadStatus::Fixed,
            "exempt" => LoadStatus::Exempt,
            _ => LoadStatus::Variable,
        },
        yearly: None,
        daily: None,
        duty: None,
        enabled: true,
    }
}

fn generator_of(p: &Value) -> Generator {
    Generator {
        name: "x".into(),
        bus1: BusRef::parse(p["bus1"].as_str().unwrap()),
        phases: p["phases"].as_u64().unwrap() as usize,
        conn: conn(p),
        kv: num(p, "kv", 12.47),
        p_kw: num(p, "kw", 1000.0),
        q_kvar: num(p, "kvar", 60.0),
        kva: num(p, "kva", 1200.0),
        model: p["model"].as_u64().unwrap() as u32,
        vmin_pu: num(p, "vminpu", 0.9),
        vmax_pu: num(p, "vmaxpu", 1.1),
        yearly: None,
        daily: None,
        duty: None,
        enabled: true,
    }
}

fn pv_of(p: &Value) -> PvSystem {
    let name = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    PvSystem {
        name: "x".into(),
        bus1: BusRef::parse(p["bus1"].as_str().unwrap()),
        phases: p["phases"].as_u64().unwrap() as usize,
        conn: conn(p),
        kv: num(p, "kv", 12.47),
        pmpp_kw: num(p, "pmpp", 500.0),
        kva: num(p, "kva", 500.0),
        irradiance_kw_per_m2: num(p, "irradiance", 1.0),
        temperature_c: num(p, "temperature", 25.0),
        pf: num(p, "pf", 1.0),
        q_kvar: p.get("kvar").and_then(Value::as_f64),
        pct_pmpp: num(p, "%pmpp", 100.0),
        pct_cutin: num(p, "%cutin", 20.0),
        pct_cutout: num(p, "%cutout", 20.0),
        eff_curve: name("effcurve"),
        p_t_curve: name("p-tcurve"),
        kvar_limit: p.get("kvarmax").and_then(Value::as_f64),
        vmin_pu: num(p, "vminpu", 0.9),
        vmax_pu: num(p, "vmaxpu", 1.1),
        yearly: None,
        daily: None,
        duty: None,
        t_yearly: None,
        t_daily: None,
        t_duty: None,
        enabled: true,
    }
}

fn curves(data: &Value) -> Vec<XyCurve> {
    data["xy_curves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| XyCurve {
            name: c["name"].as_str().unwrap().into(),
            x: c["x"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect(),
            y: c["y"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect(),
        })
        .collect()
}

fn injection_of(case: &Value, curves: &[XyCurve]) -> Injection {
    let p = &case["params"];
    match case["kind"].as_str().unwrap() {
        "load" => Injection::load(&load_of(p), case["load_mult"].as_f64().unwrap(), 60.0),
        "generator" => Injection::generator(&generator_of(p), 60.0),
        "pvsystem" => Injection::pv_system(&pv_of(p), curves, 60.0),
        k => panic!("unknown kind {k}"),
    }
}

/// `max |a − b| / max(max |b|, floor)`.
fn rel_err(a: &[C64], b: &[C64], floor: f64) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().map(|z| z.norm()).fold(floor, f64::max);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
        / scale
}

/// Worst relative errors per kind: (currents, yprim, power), and the number of solves checked.
fn check_kind(kind: &str) -> (f64, f64, f64, usize) {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let curves = curves(&data);
    let (mut worst_i, mut worst_y, mut worst_s, mut runs) = (0.0f64, 0.0f64, 0.0f64, 0);
    let mut worst_name = String::new();
    let mut failures = Vec::new();
    for case in data["cases"].as_array().unwrap() {
        if case["kind"] != kind {
            continue;
        }
        let name = case["name"].as_str().unwrap();
        let inj = injection_of(case, &curves);
        let y_ref = cplx(&case["yprim"]);
        let i_rated = rated_current_a(&case["params"]);
        let n = inj.conductors();
        assert_eq!(n * n, y_ref.len(), "{name}: conductors");
        let ey = rel_err(inj.yprim().as_slice(), &y_ref, 1e-12);
        worst_y = worst_y.max(ey);
        if ey > REL_TOL {
            failures.push(format!("{name}: yprim err {ey:.2e}"));
        }
        for run in case["runs"].as_array().unwrap() {
            let v = cplx(&run["voltages"]);
            let i_ref = cplx(&run["currents"]);
            assert_eq!(v.len(), n, "{name}: conductors");
            let mut i = vec![C64::new(0.0, 0.0); n];
            inj.currents(&v, &mut i);
            let e = rel_err(&i, &i_ref, i_rated);
            if e > worst_i {
                worst_i = e;
                worst_name = format!("{name} @ {} pu", run["source_pu"]);
            }
            if e > REL_TOL {
                let pu = run["source_pu"].as_f64().unwrap();
                failures.push(format!(
                    "{name} @ {pu} pu: err {e:.2e}\n  ours {i:?}\n  dss  {i_ref:?}"
                ));
            }
            // Power: Σ V·conj(I_ref) from OpenDSS's currents.
            let s_ref: C64 = v.iter().zip(&i_ref).map(|(v, i)| v * i.conj()).sum::<C64>() / 1000.0;
            let s = inj.power_kva(&v);
            let s_rated = i_rated * v.iter().map(|z| z.norm()).fold(0.0, f64::max) / 1000.0;
            let es = (s - s_ref).norm() / s_ref.norm().max(s_rated);
            worst_s = worst_s.max(es);
            if es > REL_TOL {
                failures.push(format!("{name}: power err {es:.2e}: {s} vs {s_ref}"));
            }
            runs += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(runs > 0);
    eprintln!("{kind}: {runs} solves, max rel err currents {worst_i:.2e} ({worst_name}), yprim {worst_y:.2e}, power {worst_s:.2e}");
    (worst_i, worst_y, worst_s, runs)
}

#[test]
fn loads_match_opendss() {
    check_kind("load");
}

#[test]
fn generators_match_opendss() {
    check_kind("generator");
}

#[test]
fn pv_systems_match_opendss() {
    check_kind("pvsystem");
}

#[test]
fn conductors_follow_opendss() {
    for (conn, phases, n) in [
        (Connection::Wye, 1, 2),
        (Connection::Wye, 3, 4),
        (Connection::Delta, 1, 2),
        (Connection::Delta, 2, 3),
        (Connection::Delta, 3, 3),
    ] {
        assert_eq!(conductors_for(conn, phases), n, "{conn:?} {phases}");
    }
}

#[test]
fn xy_curve_interpolates_and_extrapolates() {
    let c = XyCurve {
        name: "c".into(),
        x: vec![0.0, 1.0, 3.0],
        y: vec![1.0, 2.0, 0.0],
    };
    assert_eq!(pv::xy_value(&c, 0.5), 1.5);
    assert_eq!(pv::xy_value(&c, 2.0), 1.0);
    assert_eq!(pv::xy_value(&c, -1.0), 0.0);
    assert_eq!(pv::xy_value(&c, 4.0), -1.0);
    assert_eq!(pv::xy_value(&c, 1.000001), 2.0);
}

#[test]
fn disabled_element_draws_nothing() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let case = &data["cases"][0];
    let mut l = load_of(&case["params"]);
    l.enabled = false;
    let inj = Injection::load(&l, 1.0, 60.0);
    let v = cplx(&case["runs"][0]["voltages"]);
    let mut i = vec![C64::new(1.0, 1.0); inj.conductors()];
    inj.currents(&v, &mut i);
    assert!(i.iter().all(|z| z.norm() == 0.0));
    assert!(inj.yprim().as_slice().iter().all(|z| z.norm() == 0.0));
}

#[test]
fn pv_output_follows_panel_and_inverter() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let curves = curves(&data);
    let case = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "pvsystem" && c["params"]["phases"] == 3)
        .unwrap();
    let mut p = pv_of(&case["params"]);
    p.pf = 1.0;
    p.q_kvar = None;
    p.irradiance_kw_per_m2 = 0.8;
    let out = pv::pv_output(&p, &curves);
    assert!((out.kw - 0.8 * p.pmpp_kw).abs() < 1e-12 && out.kvar == 0.0);
    let law = pv::PvLaw::new(&p, &curves);
    assert!((law.nominal_per_phase().0 - 1000.0 * out.kw / 3.0).abs() < 1e-9);
    p.irradiance_kw_per_m2 = 0.1; // below 20 % cut-out
    assert_eq!(pv::pv_output(&p, &curves).kw, 0.0);
}

/// The branch-wise compensation equals the dense `Yprim·V − I(V)` for every recorded element
/// and voltage, with Yprim stamped at the element's own power and at another power.
#[test]
fn branch_compensation_equals_dense_product() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let curves = curves(&data);
    let mut checked = 0;
    for case in data["cases"].as_array().unwrap() {
        let inj = injection_of(case, &curves);
        let n = inj.conductors();
        let own = inj.yprim();
        let other = own.as_slice().iter().map(|y| 1.7 * y).collect::<Vec<_>>();
        for yprim in [own.as_slice(), &other[..]] {
            for run in case["runs"].as_array().unwrap() {
                let v = cplx(&run["voltages"]);
                let mut i = vec![C64::new(0.0, 0.0); n];
                inj.currents(&v, &mut i);
                let dense: Vec<C64> = (0..n)
                    .map(|k| (0..n).map(|j| yprim[k * n + j] * v[j]).sum::<C64>() - i[k])
                    .collect();
                let mut fast = vec![C64::new(0.0, 0.0); n];
                inj.add_compensation(yprim, &v, &mut fast);
                // both round relative to the terms, not to their (possibly tiny) difference
                let scale = (0..n)
                    .map(|k| {
                        (0..n)
                            .map(|j| (yprim[k * n + j] * v[j]).norm())
                            .sum::<f64>()
                            + i[k].norm()
                    })
                    .fold(1e-9, f64::max);
                let e = rel_err(&fast, &dense, scale);
                assert!(e < 1e-12, "{}: {e:e}", case["name"]);
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

/// The inline paths of the solver (grounded wye phases, 1-phase delta) give the very numbers
/// of [`Injection::add_compensation`] and [`Injection::power_kva`], bit for bit, for every
/// recorded element at its recorded voltages scaled through every band of its law.
#[test]
fn inline_compensation_is_bit_identical() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let curves = curves(&data);
    let zero = C64::new(0.0, 0.0);
    let bits = |z: C64| (z.re.to_bits(), z.im.to_bits());
    let (mut wye, mut delta) = (0, 0);
    for case in data["cases"].as_array().unwrap() {
        let inj = injection_of(case, &curves);
        let n = inj.conductors();
        let yprim = inj.stamped_yprim(&vec![None; n]);
        let yprim = yprim.as_slice();
        for run in case["runs"].as_array().unwrap() {
            for scale in [0.3, 0.7, 0.93, 1.0, 1.08] {
                let mut v: Vec<C64> = cplx(&run["voltages"]).iter().map(|x| x * scale).collect();
                let grounded = inj.connection() == Connection::Wye;
                if grounded {
                    v[n - 1] = zero;
                }
                let mut full = vec![zero; n];
                inj.add_compensation(yprim, &v, &mut full);
                let power = inj.power_kva(&v);
                match (grounded, inj.phases()) {
                    (true, 1) => {
                        let c = inj.grounded_wye_compensation::<1>(yprim, &[v[0]]);
                        assert_eq!(bits(zero + c.unwrap()[0]), bits(full[0]));
                        wye += 1;
                    }
                    (true, 3) => {
                        let c = inj.grounded_wye_compensation::<3>(yprim, &[v[0], v[1], v[2]]);
                        for (c, f) in c.unwrap().iter().zip(&full) {
                            assert_eq!(bits(zero + c), bits(*f));
                        }
                        wye += 1;
                    }
                    (false, 1) => {
                        let c = inj.delta1_compensation(yprim, v[0] - v[1]).unwrap();
                        assert_eq!(bits(zero + c), bits(full[0]));
                        assert_eq!(bits(zero - c), bits(full[1]));
                        let s = inj.delta1_power_kva(v[0] - v[1]).unwrap();
                        assert_eq!(bits(s), bits(power));
                        delta += 1;
                    }
                    _ => {
                        assert!(inj.delta1_compensation(yprim, v[0]).is_none());
                    }
                }
            }
        }
    }
    assert!(wye > 0 && delta > 0, "{wye} wye, {delta} delta");
}

/// A load's own injection takes a new power as `set_load_power` does (disabled: stays off).
#[test]
fn own_load_power_is_set_load_power() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let mut checked = 0;
    for case in data["cases"].as_array().unwrap() {
        if case["kind"].as_str() != Some("load") {
            continue;
        }
        let mut l = load_of(&case["params"]);
        for enabled in [true, false] {
            l.enabled = enabled;
            let mut a = Injection::load(&l, 1.0, 60.0);
            let mut b = a.clone();
            a.set_power_of_own_load(&l, 12.5, -3.25);
            b.set_load_power(&l, 12.5, -3.25, 60.0);
            assert_eq!(a, b);
            checked += 1;
        }
    }
    assert!(checked > 0);
}
