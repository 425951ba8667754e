//! The red team's findings against the sandbox release (#14, findings 07-14;
//! 01-06 are in tests/trust/records.rs): each test reproduces one attack and
//! asserts that it no longer works, or that what cannot be prevented is said.
mod boundary;
mod outside;
mod secrets;
