//! The two-transformer T-model against pandapower's formulas, as admittances: for several tap
//! sides, tap positions and phase shifts, the positive-sequence two-port (HV node 1, LV node 1)
//! of the pair `<id>`, `<id>#lv` (internal bus eliminated) equals the one pandapower builds
//! (`_calc_r_x_y_from_dataframe`, `_wye_delta`, `_calc_tap_from_dataframe`; ideal ratio at the
//! HV end, T-network on the LV side), to round-off. This covers what the SimBench references do
//! not: taps on the LV side, and shifts other than 150°.

use std::f64::consts::PI;

use crate::support::Scratch;
use vgrid::network::prim::transformer::transformer;
use vgrid::network::C64;
use vgrid_model::Transformer;
use vgrid_simbench::read_grid;

/// The tiny grid's transformer type: 0.25 MVA 20/0.4 kV, vk 6 %, pCu 3.3 kW, pFe 0.88 kW,
/// i0 0.35201 %, 2.5 % per tap step.
const SN_MVA: f64 = 0.25;
const VN_HV_KV: f64 = 20.0;
const VN_LV_KV: f64 = 0.4;
const VK_PCT: f64 = 6.0;
const PCU_KW: f64 = 3.3;
const PFE_KW: f64 = 0.88;
const I0_PCT: f64 = 0.35201;
const STEP_PCT: f64 = 2.5;

type TwoPort = [[C64; 2]; 2];

/// Positive-sequence voltage of a bus node, 1 V at node 1 (ground: 0).
fn positive_sequence(node: u32) -> C64 {
    if node == 0 {
        C64::new(0.0, 0.0)
    } else {
        C64::from_polar(1.0, -2.0 * PI / 3.0 * (node as f64 - 1.0))
    }
}

/// Positive-sequence admittance between node 1 of terminal 1 and node 1 of terminal 2.
fn two_port(t: &Transformer) -> TwoPort {
    let prim = transformer(t, 50.0).unwrap();
    let per = prim.conductors_per_terminal;
    let node = |c: usize| t.windings[c / per].bus.node_of_conductor(c % per, t.phases);
    let n = prim.terminals * per;
    let mut y = [[C64::new(0.0, 0.0); 2]; 2];
    for j in 0..2 {
        let v: Vec<C64> = (0..n)
            .map(|c| {
                if c / per == j {
                    positive_sequence(node(c))
                } else {
                    C64::new(0.0, 0.0)
                }
            })
            .collect();
        let i = prim.y.mul_vec(&v);
        for (term, row) in y.iter_mut().enumerate() {
            row[j] = (0..n)
                .filter(|&c| c / per == term && node(c) == 1)
                .map(|c| i[c])
                .sum();
        }
    }
    y
}

/// Eliminate the internal node between `a` (x–m) and `b` (m–y).
fn chain(a: &TwoPort, b: &TwoPort) -> TwoPort {
    let ymm = a[1][1] + b[0][0];
    [
        [a[0][0] - a[0][1] * a[1][0] / ymm, -a[0][1] * b[0][1] / ymm],
        [-b[1][0] * a[1][0] / ymm, b[1][1] - b[1][0] * b[0][1] / ymm],
    ]
}

/// pandapower's two-port for a tap position `tap_steps` on side `hv_side`, shift `shift_deg`.
fn pandapower_two_port(tap_steps: f64, hv_side: bool, shift_deg: f64) -> TwoPort {
    let ratio = 1.0 + tap_steps * STEP_PCT / 100.0;
    let (vn_hv, vn_lv) = if hv_side {
        (VN_HV_KV * ratio, VN_LV_KV)
    } else {
        (VN_HV_KV, VN_LV_KV * ratio)
    };
    // series impedance and magnetising admittance, ohm and siemens on the LV side
    let vkr = PCU_KW / (SN_MVA * 1000.0) * 100.0;
    let xk = (VK_PCT * VK_PCT - vkr * vkr).sqrt();
    let z = C64::new(vkr, xk) / 100.0 * vn_lv * vn_lv / SN_MVA;
    let pfe_mw = PFE_KW / 1000.0;
    let b_mva = ((I0_PCT / 100.0 * SN_MVA).powi(2) - pfe_mw * pfe_mw).sqrt();
    let ym = C64::new(pfe_mw, -b_mva) / (vn_lv * vn_lv);
    // T network: z/2 – ym – z/2, middle node eliminated
    let (ya, yb) = (
        C64::new(1.0, 0.0) / (z / 2.0),
        C64::new(1.0, 0.0) / (z / 2.0),
    );
    let ymm = ya + yb + ym;
    let t = [
        [ya - ya * ya / ymm, -ya * yb / ymm],
        [-yb * ya / ymm, yb - yb * yb / ymm],
    ];
    // ideal transformer at the HV end: V_hv = tap · V_a, tap = (vn_hv/vn_lv)·e^{j·shift}
    let tap = C64::from_polar(vn_hv / vn_lv, shift_deg.to_radians());
    [
        [t[0][0] / tap.norm_sqr(), t[0][1] / tap.conj()],
        [t[1][0] / tap, t[1][1]],
    ]
}

fn max_rel_diff(a: &TwoPort, b: &TwoPort) -> f64 {
    let scale = b.iter().flatten().map(|x| x.norm()).fold(0.0, f64::max);
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).norm() / scale)
        .fold(0.0, f64::max)
}

#[test]
fn t_model_pair_equals_pandapower_two_port() {
    for (tap_side, tappos, shift) in [
        ("HV", "1", "150.0"),
        ("HV", "-2", "150.0"),
        ("LV", "2", "150.0"),
        ("LV", "-1", "150.0"),
        ("HV", "0", "330.0"),
        ("HV", "1", "30.0"),
        ("HV", "1", "0.0"),
        ("LV", "1", "120.0"),
        ("HV", "-1", "270.0"),
        ("HV", "2", "210.0"),
    ] {
        let s = Scratch::new(&format!("tmodel-{tap_side}{tappos}-{shift}"));
        s.edit("TransformerType.csv", ";150.0;", &format!(";{shift};"));
        s.edit("TransformerType.csv", ";1;HV;", &format!(";1;{tap_side};"));
        s.edit("Transformer.csv", " Dyn5;1;", &format!(" Dyn5;{tappos};"));
        let grid = read_grid(s.path()).unwrap();
        let (t1, t2) = (&grid.network.transformers[0], &grid.network.transformers[1]);
        let vgrid = chain(&two_port(t1), &two_port(t2));
        let shift_deg: f64 = shift.parse().unwrap();
        let expected = pandapower_two_port(tappos.parse().unwrap(), tap_side == "HV", shift_deg);
        let d = max_rel_diff(&vgrid, &expected);
        assert!(
            d < 1e-12,
            "tap {tap_side} {tappos}, shift {shift}: relative difference {d:e}\nvgrid {vgrid:?}\npandapower {expected:?}"
        );
    }
}
