//! The manual: man pages generated from the clap definitions (git-agentos(1) and
//! one per command, so `git agentos --help` and `git help agentos` open a page
//! that says what `-h` says), written where `man` finds them, and their status.
//! Every function takes the clap `Command` from `cli`, which it never imports.
mod install;
mod pages;

pub use install::{
    default_dir, install, man_finds, manpath_entry, manpath_hint, on_manpath, section_dir, status,
    status_at, ManualError, State, Status, Written,
};
pub use pages::{pages, summary, Page};

#[cfg(test)]
mod tests;
