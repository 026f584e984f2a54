//! Integration tests of the OpenDSS reader: the shared feeders, error reporting, robustness.

mod errors;
mod feeders;
mod language;
mod robustness;
mod storage;
