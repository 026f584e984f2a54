//! Primitive admittance matrices: each element's own `Y` over its conductors.
//!
//! Every power-delivery element (and every voltage source, capacitor and reactor) is described to
//! the network by one complex matrix `Yprim` (siemens) over all its conductors, terminal after
//! terminal: for a three-phase line, rows/columns `0..3` are terminal 1's phases and `3..6`
//! terminal 2's. The network then sums these matrices into the bus admittance matrix through
//! each conductor's node number, exactly as OpenDSS does:
//!
//! ```text
//!   I_conductors = Yprim · V_conductors
//! ```
//!
//! The matrices here are computed the way OpenDSS computes them, so that vgrid's solutions
//! match OpenDSS's to 1e-6 pu; each function's docs say which OpenDSS behaviour it follows.

use crate::CMatrix;

pub mod line;
pub mod shunt;
pub mod source;
pub mod transformer;

/// A primitive admittance matrix and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Prim {
    /// `Yprim`, siemens, over `terminals × conductors_per_terminal` conductors, terminal-major.
    pub y: CMatrix,
    /// Number of terminals (1 for shunts and loads, 2 for lines, n for n-winding transformers).
    pub terminals: usize,
    /// Conductors per terminal.
    pub conductors_per_terminal: usize,
}
