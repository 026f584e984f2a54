//! Integration tests of the whole engine against OpenDSS's own solutions.
//!
//! Every case in `../shared/feeders/reference/opendss` is read from its OpenDSS master script,
//! the reference's post-compile commands are replayed, and the solve is compared with OpenDSS's
//! tight-tolerance solution (`voltages_tol1e-10.csv`, `summary.json`):
//! max |ΔV| ≤ 1e-6 pu and ≤ 0.001° at every node, identical taps and capacitor states, total
//! losses within 0.01 %, and the power balance (source = loads + losses) to 1e-8 relative.

mod engine;
mod newton;
mod opendss_cases;
mod published;
mod scenarios;
mod support;
