//! The one integration test binary: every test drives the real `git-agentos` binary
//! in temporary git repositories.
mod support;

mod architecture;
mod board;
mod foundation;
mod intake;
mod manuals;
mod memory;
mod publish;
mod reliability;
mod run_loop;
mod snapshots;
mod standins;
mod verifier;
mod worktree_pool;
