//! The one integration test binary: every test drives the real `git-agentos` binary
//! in temporary git repositories.
mod support;

mod architecture;
mod board;
mod doctor;
mod fleet;
mod foundation;
mod hook_quick;
mod hooks_hostile;
mod intake;
mod intake_hostile;
mod lifetimes;
mod manuals;
mod memory;
mod memory_server;
mod publish;
mod push_remotes;
mod redteam;
mod reliability;
mod review;
mod run_loop;
mod sandbox;
mod schedule;
mod services_hostile;
mod snapshots;
mod standins;
mod state_hostile;
mod trust;
mod verifier;
mod worktree_pool;
