//! Agents: their configuration, the prompt, running one, and its stream of events.
pub mod config;
pub mod process;
pub mod prompt;
pub mod runner;
pub mod stream;
