//! Agents: config.rs reads an agent's folder (settings.rs: which file each
//! setting may come from), prompt.rs composes what it is told,
//! runner.rs runs one and judges the outcome (stream.rs reads its stream-json,
//! transcript.rs reads a stream as what happened, denials.rs the writes the sandbox refused it), spawn.rs starts every command
//! of a task under shim.rs, the process that leads its group, confines it
//! (sandbox.rs: Landlock) and outlives nothing it started (process.rs: groups
//! and process trees); env.rs scrubs its environment, attempt.rs makes its
//! private folder, writable.rs judges the folders local.toml adds to its
//! boundary, caps.rs keeps the turn and spending caps of one run.
pub mod attempt;
pub mod caps;
pub mod config;
pub mod denials;
pub mod env;
pub mod lines;
pub mod process;
pub mod prompt;
pub mod runner;
pub mod sandbox;
pub mod settings;
pub mod shim;
pub mod spawn;
pub mod stream;
pub mod transcript;
pub mod writable;
