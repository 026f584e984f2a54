//! Voltage bases of buses, as OpenDSS's `CalcVoltageBases` sets them.
//!
//! From the no-load solution, each bus takes the `Set voltagebases` entry nearest in ratio
//! (`|1 − kV/base|` smallest) to the line-to-line voltage estimated from its first node,
//! `√3·|V|`; `SetkVBase bus=... kvll=...` overrides single buses. The bases only scale what is
//! reported in per unit; no element model uses them.
//!
//! ```
//! use vgrid_powerflow::bases::nearest_base;
//! assert_eq!(nearest_base(&[115.0, 4.16, 0.48], 4.0), Some(4.16));
//! ```

use vgrid_model::Network;

use crate::solve::System;

/// The legal base nearest to `kv` in ratio, as OpenDSS.
pub fn nearest_base(bases: &[f64], kv: f64) -> Option<f64> {
    bases
        .iter()
        .copied()
        .filter(|b| *b > 0.0)
        .min_by(|a, b| (1.0 - kv / a).abs().total_cmp(&(1.0 - kv / b).abs()))
}

impl System {
    /// Set each bus's line-to-neutral base (kV) from the present voltages, which should be the
    /// no-load solution (call after [`System::initialize`]).
    pub fn assign_voltage_bases(&mut self, net: &Network) {
        let sqrt3 = 3f64.sqrt();
        for b in 0..self.net.buses.len() {
            let bus = &self.net.buses[b];
            let explicit = net
                .bus_kv_bases
                .iter()
                .find(|(name, _)| *name == bus.name)
                .map(|(_, kv)| *kv / sqrt3);
            let base = explicit.or_else(|| {
                let &(_, first) = bus.nodes.first()?;
                let kv_ll = self.voltages()[first].norm() * sqrt3 / 1000.0;
                nearest_base(&net.voltage_bases_kv, kv_ll).map(|kv| kv / sqrt3)
            });
            self.net.buses[b].kv_base_ln = base;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::nearest_base;

    #[test]
    fn nearest_base_is_by_ratio() {
        let b = [115.0, 4.16, 0.48];
        assert_eq!(nearest_base(&b, 4.0), Some(4.16));
        assert_eq!(nearest_base(&b, 0.5), Some(0.48));
        assert_eq!(nearest_base(&b, 100.0), Some(115.0));
        assert_eq!(nearest_base(&[], 1.0), None);
    }
}
