//! # vgrid-powerflow: unbalanced three-phase power flow
//!
//! Solves `Y·V = I(V)` over the solver model built by `vgrid-network`:
//! `Y` holds every power-delivery element, source impedance and nominal load admittance;
//! `I(V)` is the current injected by sources and drawn by loads, generators and PV at the present
//! voltages.
//!
//! - [`lu`]: sparse LU whose symbolic analysis is done once per topology and reused for every
//!   numeric refactorisation (tap changes, capacitor switching) and every solve.
//! - [`injection`]: the voltage-dependent current of each load, generator and PV system, as
//!   OpenDSS computes it (load models 1–8, `vminpu`/`vmaxpu` behaviour).

pub mod bases;
pub mod control;
pub mod injection;
pub mod lu;
mod newton;
pub mod solve;

pub use solve::{PfOutcome, PfSettings, PfStatus, PowerFlowError, System};
