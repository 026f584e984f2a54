//! A SimBench `TransformerType` as pandapower's T-model, written with vgrid's OpenDSS-style
//! transformers.
//!
//! ## pandapower's model (`trafo_model="t"`)
//! All quantities are referred to the low-voltage side; the tap changer is an ideal ratio at the
//! side it sits on:
//!
//! ```text
//!   HV ──(ideal n_hv : n_lv)──┬── z/2 ──┬── z/2 ──┬── LV
//!                                       y_m
//!                                        ⏚
//!   z   = (vkr + j·√(vk² − vkr²))/100 · vn_lv²/sn        (ohm, on the LV side)
//!   y_m = (pfe − j·√((i0/100·sn)² − pfe²)) / vn_lv²     (siemens; pfe in MW, sn in MVA)
//!   vkr = pCu / sn / 10   (%, pCu in kW, sn in MVA);     n = vn·(1 + (tappos − tapNeutr)·dVm/100)
//! ```
//!
//! With a tap on the LV side, `vn_lv` in `z` and `y_m` is the tapped voltage.
//!
//! ## The same circuit in vgrid
//! An OpenDSS transformer puts its magnetising branch across **winding 2** and its leakage
//! impedance between the windings, on a one-volt base scaled by each winding's `kV·tap`. So the
//! T-model is two transformers in series, meeting at an internal bus `<id>#mid`:
//!
//! | element | windings (kV, tap) | %r per winding | x_sc | magnetising |
//! |---|---|---|---|---|
//! | `<id>` | HV (vmHV, n_hv) → `<id>#mid` (vmLV, n_lv) | vkr/4 | √(vk²−vkr²)/2 | `%noloadloss = pFe/sR/10`, `%imag = √(i0² − %noloadloss²)`, at `#mid` |
//! | `<id>#lv` | `<id>#mid` (vmLV, n_lv) → LV (vmLV, n_lv) | vkr/4 | √(vk²−vkr²)/2 | none |
//!
//! Referred to the LV side both halves are `z/2` (the tap of the HV winding changes only the
//! ideal ratio; a tap on the LV side scales every LV-side ohm by `n_lv²`, as in pandapower), and
//! the magnetising admittance sits between them: the circuit is pandapower's, exactly.
//! `ppm_antifloat` is 0. `tests/it/tmodel.rs` checks it as admittances: the pair's
//! positive-sequence two-port (internal bus eliminated) equals pandapower's to 1e-12, for taps on
//! either side and shifts from 0° to 330°.
//!
//! ## Phase shift (`va0`, pandapower's `shift_degree`)
//! The LV side lags the HV side by `va0` degrees (150° for Dyn5/YNd5). Only the positive
//! sequence matters in a balanced power flow, so the shift is built from three moves
//! (see [`shift_connection`]):
//! * a delta HV winding against a wye LV winding: −30° (OpenDSS's ANSI convention), or wye–wye: 0°;
//! * landing the LV winding's phases on rotated nodes (`mid.3.1.2`): −120° or +120°;
//! * reversing the phase order on both sides (`hv.1.3.2`, `mid.1.3.2`): the transformer then
//!   sees a negative-sequence system, for which the delta shift changes sign (+30°).
//!
//! Together they give every odd multiple of 30° (clock numbers 1, 3, 5, 7, 9, 11: Dyn1, Dyn5,
//! Dyn11, ...) and every multiple of 120° (0, 4, 8); the clock numbers 2, 6 and 10 (60°, 180°,
//! 300°, e.g. Yy6) would need a second delta stage and are refused.
//!
//! The vector group's zero-sequence behaviour (e.g. YNd vs Dyn) plays no part in a balanced
//! flow, so the winding connections are chosen for the shift only; the LV side is always a
//! grounded wye.

use vgrid_model::Connection;

/// How to connect a transformer so that its LV side lags its HV side by a given angle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShiftConnection {
    pub hv_conn: Connection,
    /// Bus nodes of the HV winding's phase conductors 1, 2, 3.
    pub hv_nodes: [u32; 3],
    /// Bus nodes of the LV winding's phase conductors 1, 2, 3.
    pub lv_nodes: [u32; 3],
}

/// The connection that gives an LV lag of `shift_deg` degrees (positive sequence), or `None`
/// when the angle is not a multiple of 30° or is 60°, 180° or 300° (mod 360°).
///
/// ```
/// use vgrid_model::Connection;
/// use vgrid_simbench::transformer::shift_connection;
/// let dyn5 = shift_connection(150.0).unwrap();
/// assert_eq!(dyn5.hv_conn, Connection::Delta);
/// assert_eq!(dyn5.lv_nodes, [3, 1, 2]);
/// assert!(shift_connection(45.0).is_none());
/// ```
pub fn shift_connection(shift_deg: f64) -> Option<ShiftConnection> {
    let steps = shift_deg / 30.0;
    if (steps - steps.round()).abs() > 1e-9 {
        return None;
    }
    // LV angle minus HV angle, in 30° steps, 0..12.
    let lead = (-(steps.round() as i64)).rem_euclid(12);
    const FORWARD: [u32; 3] = [1, 2, 3];
    const REVERSED: [u32; 3] = [1, 3, 2];
    // Winding phases a, b, c land on these nodes; node 1 then carries phase a, b or c.
    // Forward sequence: node 1 = a: +0°, node 1 = b: −120°, node 1 = c: +120°.
    // Reversed sequence (b and c swapped on both sides): node 1 = a: +0°, b: +120°, c: −120°.
    let (hv_conn, base) = match lead % 4 {
        0 => (Connection::Wye, 0i64),
        1 | 3 => (Connection::Delta, -1i64),
        _ => return None,
    };
    // Forward: delta gives −30° (base −1); reversed: +30° (−base).
    for reversed in [false, true] {
        let delta_step = if reversed { -base } else { base };
        for (rotation_steps, forward_nodes, reversed_nodes) in [
            (0, [1, 2, 3], [1, 3, 2]),
            (-4, [3, 1, 2], [2, 1, 3]),
            (4, [2, 3, 1], [3, 2, 1]),
        ] {
            let rotation = if reversed {
                -rotation_steps
            } else {
                rotation_steps
            };
            if (delta_step + rotation).rem_euclid(12) == lead {
                return Some(ShiftConnection {
                    hv_conn,
                    hv_nodes: if reversed { REVERSED } else { FORWARD },
                    lv_nodes: if reversed {
                        reversed_nodes
                    } else {
                        forward_nodes
                    },
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positive-sequence angle at node 1 of the LV side, by following phases through the
    /// connection (degrees, HV node 1 at 0°).
    fn lv_angle(c: &ShiftConnection) -> i64 {
        // HV node k has angle −120°·(k−1); winding phase p sees the node c.hv_nodes[p].
        let node_angle = |k: u32| -120 * (k as i64 - 1);
        let winding_in: Vec<i64> = c.hv_nodes.iter().map(|&k| node_angle(k)).collect();
        // A wye winding copies its phase voltage; the delta HV winding (ANSI) makes LV phase p
        // follow winding_in[p] shifted by −30° for a positive-sequence winding set, +30° for a
        // negative-sequence one.
        let positive = (winding_in[1] - winding_in[0]).rem_euclid(360) == 240;
        let delta = match (c.hv_conn, positive) {
            (Connection::Wye, _) => 0,
            (Connection::Delta, true) => -30,
            (Connection::Delta, false) => 30,
        };
        let p = c.lv_nodes.iter().position(|&k| k == 1).unwrap();
        (winding_in[p] + delta).rem_euclid(360)
    }

    #[test]
    fn every_multiple_of_30_degrees() {
        for k in 0..12i64 {
            let shift = 30.0 * k as f64;
            if k % 4 == 2 {
                assert!(shift_connection(shift).is_none(), "{shift}");
                continue;
            }
            let c = shift_connection(shift).unwrap();
            assert_eq!(
                lv_angle(&c),
                (-(30 * k)).rem_euclid(360),
                "shift {shift}: {c:?}"
            );
            // LV nodes carry a positive sequence: node 2 lags node 1 by 120°.
            let mut sorted = c.lv_nodes;
            sorted.sort();
            assert_eq!(sorted, [1, 2, 3]);
        }
        assert_eq!(shift_connection(-30.0), shift_connection(330.0));
        assert!(shift_connection(10.0).is_none());
    }
}
