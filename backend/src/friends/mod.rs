//! TEMPORARY STUB (not committed): replaced by the friends branch.
pub mod service;
