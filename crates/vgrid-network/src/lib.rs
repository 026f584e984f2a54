//! # vgrid-network: from the engineering model to the solver model
//!
//! The engineering model (`vgrid-model`) names things; the solver wants numbers. This crate is
//! the one explicit lowering between the two:
//!
//! 1. [`prim`]: each element's primitive admittance matrix, computed as OpenDSS does;
//!    [`geometry`]: line impedances from conductor geometry (Carson's equations, Kron reduction).
//! 2. [`build`]: node numbering (every bus node except ground gets an index), the sparse
//!    bus admittance matrix `Y` summed from the primitive matrices, and index maps from names to
//!    node indices and back.
//!
//! Solvers never see names or enums; users never see node indices.

pub mod cmatrix;
pub mod error;
pub mod geometry;
pub mod prim;

pub use cmatrix::{CMatrix, C64};
pub use error::NetworkError;
pub mod build;
pub mod ybus;

pub use build::{Branch, Bus, Node, PcRef, SolverNetwork, Source};
pub use ybus::{BlockId, YBus, YBusBuilder};
