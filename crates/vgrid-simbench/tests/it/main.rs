//! Integration tests of the SimBench reader: the hand-made `tests/data/tiny` grid (structure,
//! profiles, located errors on broken copies) and the SimBench grids of `../shared/simbench`
//! against pandapower.

mod balanced;
mod errors;
mod pandapower;
mod support;
mod tiny;
mod tmodel;
