//! What each load draws at a given hour: OpenDSS's `Load.SetNominalLoad` in the time modes.
//!
//! For a load with base `kW + j kvar` the nominal power of a step is
//!
//! ```text
//! shape multipliers (p, q) = the load's shape sampled at the hour (1, 1 without a shape)
//! factor                   = loadmult          (status=variable)
//!                          = 1                 (status=fixed: no shape either)
//!                          = loadmult (yearly) or 1 (daily, duty)   (status=exempt)
//! P = kW · factor · p,   Q = kvar · factor · q
//! ```
//!
//! with the shape chosen by the mode: `yearly` → the load's `yearly=` (which a `daily=`
//! given alone also sets, as in OpenDSS); `daily` → `daily=`; `duty` → `duty=`, else `daily=`.
//! A shape with actual values (`useactual=yes`) gives `P = p` kW and `Q = q` kvar directly, no
//! factor; without Q multipliers (or where one is 0) `Q` follows the load's own power factor,
//! `Q = P · kvar/kW` (OpenDSS does so when the load was given a power factor; a load given
//! `kvar=` instead draws `Q = 0` there in OpenDSS).
//!
//! The growth factor is 1: years after the first are not modelled.

use vgrid_model::{Load, LoadStatus, Network, SolveMode};

use crate::shape::Shape;
use crate::Error;

/// How one load's power is found at each step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LoadDriver {
    p_kw: f64,
    q_kvar: f64,
    /// Multiplier applied on top of the shape (load multiplier or 1).
    factor: f64,
    /// Index into the shape table, `None`: constant (1, 1).
    shape: Option<usize>,
}

impl LoadDriver {
    /// The load's shape name in `mode`.
    fn shape_name(l: &Load, mode: SolveMode) -> Option<&str> {
        match mode {
            SolveMode::Yearly => l.yearly.as_deref(),
            SolveMode::Daily => l.daily.as_deref(),
            SolveMode::Duty => l.duty.as_deref().or(l.daily.as_deref()),
            SolveMode::Snapshot => None,
        }
    }

    /// Resolve every load of `net` for `mode`; the shapes they use are appended to `shapes`
    /// (once each). A missing or broken shape is an error naming the load and the shape.
    pub(crate) fn for_network(
        net: &Network,
        mode: SolveMode,
        shapes: &mut Vec<Shape>,
    ) -> Result<Vec<LoadDriver>, Error> {
        let load_mult = net.settings.load_mult;
        let mut out = Vec::with_capacity(net.loads.len());
        for l in &net.loads {
            let factor = match (l.status, mode) {
                (LoadStatus::Fixed, _) => 1.0,
                (LoadStatus::Exempt, SolveMode::Daily | SolveMode::Duty) => 1.0,
                (LoadStatus::Exempt, SolveMode::Snapshot) => 1.0,
                _ => load_mult,
            };
            let name = match l.status {
                LoadStatus::Fixed => None,
                _ => Self::shape_name(l, mode),
            };
            let shape = match name {
                None => None,
                Some(name) => Some(match shapes.iter().position(|s| s.name() == name) {
                    Some(i) => i,
                    None => {
                        let m = net.load_shape(name).ok_or_else(|| Error::MissingShape {
                            element: format!("Load.{}", l.name),
                            shape: name.to_string(),
                        })?;
                        shapes.push(Shape::new(m)?);
                        shapes.len() - 1
                    }
                }),
            };
            out.push(LoadDriver {
                p_kw: l.p_kw,
                q_kvar: l.q_kvar,
                factor,
                shape,
            });
        }
        Ok(out)
    }

    /// Nominal `(kW, kvar)` at `hour`.
    #[cfg(test)]
    pub(crate) fn power_at(&self, shapes: &[Shape], hour: f64) -> (f64, f64) {
        let Some(s) = self.shape.map(|i| &shapes[i]) else {
            return (self.p_kw * self.factor, self.q_kvar * self.factor);
        };
        self.power_of(s, s.at_hour(hour))
    }

    /// [`LoadDriver::power_at`] with every shape already sampled at the hour: `sampled[i]` is
    /// `shapes[i].at_hour(hour)` (each shape once per step, however many loads follow it).
    #[inline]
    pub(crate) fn power_sampled(&self, shapes: &[Shape], sampled: &[(f64, f64)]) -> (f64, f64) {
        match self.shape {
            Some(i) => self.power_of(&shapes[i], sampled[i]),
            None => (self.p_kw * self.factor, self.q_kvar * self.factor),
        }
    }

    /// The power at shape multipliers `(p, q)` of shape `s`.
    #[inline]
    fn power_of(&self, s: &Shape, (p, q): (f64, f64)) -> (f64, f64) {
        if s.use_actual() {
            let q = if q != 0.0 {
                q
            } else if self.p_kw != 0.0 {
                p * self.q_kvar / self.p_kw
            } else {
                0.0
            };
            (p, q)
        } else {
            (self.p_kw * self.factor * p, self.q_kvar * self.factor * q)
        }
    }
}

/// Index of the shape named `name` in `shapes`, appending it (checked) on first use.
pub(crate) fn shape_index(
    net: &Network,
    element: &str,
    name: &str,
    shapes: &mut Vec<Shape>,
) -> Result<usize, Error> {
    if let Some(i) = shapes.iter().position(|s| s.name() == name) {
        return Ok(i);
    }
    let m = net.load_shape(name).ok_or_else(|| Error::MissingShape {
        element: element.to_string(),
        shape: name.to_string(),
    })?;
    shapes.push(Shape::new(m)?);
    Ok(shapes.len() - 1)
}

/// How generators and PV systems follow their shapes (OpenDSS `Generator.SetNominalGeneration`,
/// `PVSystem.SetNominalPVSystemOuput`):
///
/// - a generator's kW and kvar are multiplied by its shape's P and Q multipliers (`yearly=` in
///   yearly runs, `daily=` in daily runs, `duty=` else `daily=` in duty runs; no shape: no
///   variation); a shape with actual values gives the kW and kvar directly;
/// - a PV system's irradiance is multiplied by its shape's P multiplier (`yearly=`, else
///   `daily=`, in yearly runs; `daily=` in daily runs; `duty=` else `daily=` in duty runs);
/// - a PV system's panel temperature is its temperature shape's value (`TShape`, sampled like
///   a load shape, OpenDSS `GetTemperatureAtHour`): `Tyearly=`, else `Tdaily=`, in yearly
///   runs; `Tdaily=` in daily runs; `Tduty=` else `Tdaily=` in duty runs; without one it keeps
///   its `temperature=`. The temperature enters through the P-T curve (`P-TCurve`).
///
/// Not modelled: `genmult` (1), generator dispatch by price or by the default shape, the
/// generators' and PV systems' `dutystart`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GenerationDrivers {
    /// (base kW, base kvar, shape) of each generator.
    generators: Vec<(f64, f64, Option<usize>)>,
    /// (base irradiance, shape, temperature shape) of each PV system.
    pv_systems: Vec<(f64, Option<usize>, Option<usize>)>,
    /// The temperature shapes the PV systems follow.
    t_shapes: Vec<Shape>,
}

impl GenerationDrivers {
    pub(crate) fn for_network(
        net: &Network,
        mode: SolveMode,
        shapes: &mut Vec<Shape>,
    ) -> Result<GenerationDrivers, Error> {
        let mut generators = Vec::with_capacity(net.generators.len());
        for g in &net.generators {
            let name = match mode {
                SolveMode::Yearly => g.yearly.as_deref(),
                SolveMode::Daily => g.daily.as_deref(),
                SolveMode::Duty => g.duty.as_deref().or(g.daily.as_deref()),
                SolveMode::Snapshot => None,
            };
            let shape = match name {
                Some(n) => Some(shape_index(
                    net,
                    &format!("Generator.{}", g.name),
                    n,
                    shapes,
                )?),
                None => None,
            };
            generators.push((g.p_kw, g.q_kvar, shape));
        }
        let mut pv_systems = Vec::with_capacity(net.pv_systems.len());
        let mut t_shapes: Vec<Shape> = Vec::new();
        for p in &net.pv_systems {
            let t_name = match mode {
                SolveMode::Yearly => p.t_yearly.as_deref().or(p.t_daily.as_deref()),
                SolveMode::Daily => p.t_daily.as_deref(),
                SolveMode::Duty => p.t_duty.as_deref().or(p.t_daily.as_deref()),
                SolveMode::Snapshot => None,
            };
            let t_shape = match t_name {
                None => None,
                Some(n) => Some(match t_shapes.iter().position(|s| s.name() == n) {
                    Some(i) => i,
                    None => {
                        let m = net.t_shape(n).ok_or_else(|| Error::MissingShape {
                            element: format!("PVSystem.{}", p.name),
                            shape: n.to_string(),
                        })?;
                        t_shapes.push(Shape::new(m)?);
                        t_shapes.len() - 1
                    }
                }),
            };
            let name = match mode {
                SolveMode::Yearly => p.yearly.as_deref().or(p.daily.as_deref()),
                SolveMode::Daily => p.daily.as_deref(),
                SolveMode::Duty => p.duty.as_deref().or(p.daily.as_deref()),
                SolveMode::Snapshot => None,
            };
            let shape = match name {
                Some(n) => Some(shape_index(
                    net,
                    &format!("PVSystem.{}", p.name),
                    n,
                    shapes,
                )?),
                None => None,
            };
            pv_systems.push((p.irradiance_kw_per_m2, shape, t_shape));
        }
        Ok(GenerationDrivers {
            generators,
            pv_systems,
            t_shapes,
        })
    }

    /// Whether any generator or PV system follows a shape.
    pub(crate) fn any(&self) -> bool {
        self.generators.iter().any(|g| g.2.is_some())
            || self
                .pv_systems
                .iter()
                .any(|p| p.1.is_some() || p.2.is_some())
    }

    /// Set the step's output into the working copies `generators` and `pv_systems`;
    /// `sampled[i]` is `shapes[i].at_hour(hour)`.
    pub(crate) fn apply(
        &self,
        shapes: &[Shape],
        sampled: &[(f64, f64)],
        hour: f64,
        generators: &mut [vgrid_model::Generator],
        pv_systems: &mut [vgrid_model::PvSystem],
    ) {
        for (g, &(p_kw, q_kvar, shape)) in generators.iter_mut().zip(&self.generators) {
            let Some(i) = shape else {
                continue;
            };
            let (p, q) = sampled[i];
            (g.p_kw, g.q_kvar) = if shapes[i].use_actual() {
                (p, q)
            } else {
                (p_kw * p, q_kvar * q)
            };
        }
        for (pv, &(irradiance, shape, t_shape)) in pv_systems.iter_mut().zip(&self.pv_systems) {
            if let Some(i) = shape {
                pv.irradiance_kw_per_m2 = irradiance * sampled[i].0;
            }
            if let Some(t) = t_shape.map(|i| &self.t_shapes[i]) {
                pv.temperature_c = t.at_hour(hour).0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_model::{BusRef, Connection, LoadModel, LoadShape};

    fn load(name: &str, status: LoadStatus, yearly: Option<&str>, daily: Option<&str>) -> Load {
        Load {
            name: name.into(),
            bus1: BusRef::parse("b"),
            phases: 1,
            conn: Connection::Wye,
            kv: 0.23,
            p_kw: 2.0,
            q_kvar: 1.0,
            model: LoadModel::ConstantPq,
            zipv: vec![],
            cvr_watts: 1.0,
            cvr_vars: 2.0,
            vmin_pu: 0.95,
            vmax_pu: 1.05,
            status,
            yearly: yearly.map(String::from),
            daily: daily.map(String::from),
            duty: None,
            enabled: true,
        }
    }

    fn net() -> Network {
        let mut n = Network::default();
        n.settings.load_mult = 1.5;
        n.load_shapes.push(LoadShape {
            name: "y".into(),
            interval_h: Some(1.0),
            hours: vec![],
            p_mult: vec![0.5, 1.0],
            q_mult: vec![],
            use_actual: false,
            p_base: 0.0,
            q_base: 0.0,
        });
        n.load_shapes.push(LoadShape {
            name: "actual".into(),
            interval_h: Some(1.0),
            hours: vec![],
            p_mult: vec![3.0, 4.0],
            q_mult: vec![],
            use_actual: true,
            p_base: 0.0,
            q_base: 0.0,
        });
        n
    }

    #[test]
    fn multipliers_status_and_mode() {
        let mut n = net();
        n.loads = vec![
            load("var", LoadStatus::Variable, Some("y"), None),
            load("fixed", LoadStatus::Fixed, Some("y"), None),
            load("exempt", LoadStatus::Exempt, Some("y"), Some("y")),
            load("none", LoadStatus::Variable, None, None),
            load("act", LoadStatus::Variable, Some("actual"), None),
        ];
        let mut shapes = Vec::new();
        let d = LoadDriver::for_network(&n, SolveMode::Yearly, &mut shapes).unwrap();
        assert_eq!(shapes.len(), 2);
        let at = |i: usize| d[i].power_at(&shapes, 1.0);
        assert_eq!(at(0), (2.0 * 1.5 * 0.5, 1.0 * 1.5 * 0.5));
        assert_eq!(at(1), (2.0, 1.0)); // fixed: no shape, no loadmult
        assert_eq!(at(2), (1.5, 0.75)); // exempt in yearly: loadmult applies (OpenDSS)
        assert_eq!(at(3), (3.0, 1.5));
        assert_eq!(at(4), (3.0, 1.5)); // actual kW, Q at the load's power factor
        let d = LoadDriver::for_network(&n, SolveMode::Daily, &mut shapes).unwrap();
        assert_eq!(d[2].power_at(&shapes, 2.0), (2.0, 1.0)); // exempt in daily: no loadmult
        assert_eq!(d[0].power_at(&shapes, 2.0), (3.0, 1.5)); // no daily shape: (1, 1)
    }

    #[test]
    fn missing_shape_names_the_load() {
        let mut n = net();
        n.loads = vec![load("l1", LoadStatus::Variable, Some("nope"), None)];
        let e = LoadDriver::for_network(&n, SolveMode::Yearly, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("Load.l1"), "{e}");
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
