//! The one integration test binary: every test drives the real `git-agentos` binary
//! in temporary git repositories.
mod support;

mod architecture;
mod foundation;
mod intake;
mod memory;
mod publish;
mod reliability;
mod run_loop;
mod snapshots;
mod standins;
mod trust;
mod verifier;
mod worktree_pool;
