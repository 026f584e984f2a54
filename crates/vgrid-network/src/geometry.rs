//! Line constants from conductor geometry (in progress).

use crate::{CMatrix, NetworkError};
use vgrid_model::{LineGeometry, LineSpacing, Network, WireRef};

/// Series impedance and shunt admittance per metre of a line section.
#[derive(Debug, Clone, PartialEq)]
pub struct LineConstants {
    /// Series impedance, ohm per metre, phases × phases.
    pub z_ohm_per_m: CMatrix,
    /// Shunt admittance, siemens per metre, phases × phases.
    pub y_s_per_m: CMatrix,
}

/// Line constants of a [`LineGeometry`].
pub fn line_constants_for_geometry(
    g: &LineGeometry,
    _net: &Network,
    _rho_ohm_m: f64,
    _frequency_hz: f64,
) -> Result<LineConstants, NetworkError> {
    Err(NetworkError::Network(format!(
        "LineGeometry.{}: geometry not yet supported",
        g.name
    )))
}

/// Line constants of a [`LineSpacing`] with one wire per conductor.
pub fn line_constants_for_spacing(
    s: &LineSpacing,
    _wires: &[WireRef],
    _net: &Network,
    _rho_ohm_m: f64,
    _frequency_hz: f64,
) -> Result<LineConstants, NetworkError> {
    Err(NetworkError::Network(format!(
        "LineSpacing.{}: spacing not yet supported",
        s.name
    )))
}
