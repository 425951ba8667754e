//! git agentos: a git-native orchestrator for coding agents.
//!
//! Data flows one way: task file → queue → worktree → agent → verifier → publisher.
//! The folders say so: `task/` is the file, `queue/` the state folders and every
//! move between them, `dispatch/` the one dispatcher that claims tasks and hands
//! them to a worker, `pipeline/` one module per step a task goes through, over
//! `agent/`, `git/` and `forge/`. `memory/`, `friction/` and `hooks/` are the side
//! services, `board/` the live page of the queue; `ops/` holds the operations a
//! person starts (add, retry, cancel), which both the commands and the board
//! run; `commands/` are thin: flags in, one operation, text out. `manual/`
//! and `completion/` describe the command line (`cli`'s definitions, passed in)
//! to `man` and to the shells.
pub mod agent;
pub mod board;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod completion;
pub mod config;
pub mod dispatch;
pub mod doctor;
pub mod durable;
pub mod error;
pub mod exe;
pub mod fault;
pub mod fleet;
pub mod forge;
pub mod friction;
pub mod git;
pub mod hooks;
pub mod local_settings;
pub mod logging;
pub mod manual;
pub mod memory;
pub mod nofollow;
pub mod notify;
pub mod ops;
pub mod path_error;
pub mod pipeline;
pub mod priority;
pub mod progress;
pub mod queue;
pub mod schedule;
pub mod secrets;
pub mod similarity;
pub mod state_names;
pub mod task;
pub mod term;
pub mod workspace;
