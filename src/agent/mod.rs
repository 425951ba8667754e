//! Agents: config.rs reads an agent's folder, prompt.rs composes what it is told,
//! runner.rs runs one and judges the outcome (stream.rs reads its stream-json),
//! process.rs ends process groups, shim.rs is the process that leads each group.
pub mod config;
pub mod process;
pub mod prompt;
pub mod runner;
pub mod shim;
pub mod stream;
pub mod transcript;
