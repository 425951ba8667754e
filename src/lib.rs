//! git agentos: a git-native orchestrator for coding agents.
//!
//! Data flows one way: task file → queue → worktree → agent → verifier → publisher.
pub mod agent;
pub mod bus;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dispatch;
pub mod durable;
pub mod error;
pub mod fault;
pub mod friction;
pub mod friction_report;
pub mod git;
pub mod github;
pub mod hooks;
pub mod layout;
pub mod lock;
pub mod mcp;
pub mod memory;
pub mod memory_search;
pub mod paths;
pub mod preflight;
pub mod progress;
pub mod publish;
pub mod queue;
pub mod similarity;
pub mod task;
pub mod templates;
pub mod timestamp;
pub mod todo_index;
pub mod verify;
