//! Random input never panics.
