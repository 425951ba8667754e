//! One thin file per subcommand: its `Args` (whose `///` comments are the
//! `--help` text) and a `run` that turns flags into options, calls one operation
//! of the library, and prints. Nothing here moves a task file or holds the
//! pipeline's logic; `view.rs` is how tasks are summarised for list, show, status.
#[macro_use]
pub mod output;
pub mod add;
pub mod agent;
pub mod board;
pub mod cancel;
pub mod clean;
pub mod completions;
pub mod credential;
pub mod demo;
pub mod doctor;
pub mod fleet;
pub mod friction;
pub mod hook;
pub mod hooks;
pub mod init;
pub mod install_man;
pub mod list;
pub mod logs;
pub mod mcp;
pub mod memory;
pub mod resume;
pub mod retry;
pub mod run;
pub mod show;
pub mod status;
pub mod sync;
pub mod templates;
pub mod usage;
pub mod verify;
pub mod view;
pub mod watch;

use crate::error::{CmdResult, CommandError};

/// Print `items` as a pretty JSON array on stdout, each item made as it is
/// written (a listing of thousands of tasks is never held whole).
pub fn print_json_seq<I>(items: I) -> CmdResult<()>
where
    I: IntoIterator,
    I::Item: serde::Serialize,
{
    print_json(&Lazily(std::cell::Cell::new(Some(items.into_iter()))))
}

/// A sequence serialized from an iterator, once.
struct Lazily<I>(std::cell::Cell<Option<I>>);

impl<I> serde::Serialize for Lazily<I>
where
    I: Iterator,
    I::Item: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.take().into_iter().flatten())
    }
}

/// Print a value as pretty JSON on stdout, streamed through a buffer. Text from
/// files stays as it is here: JSON escapes every control character.
pub fn print_json<T: serde::Serialize>(value: &T) -> CmdResult<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if let Err(e) = serde_json::to_writer_pretty(&mut out, value) {
        if e.is_io() {
            output::fail(&std::io::Error::from(e));
        }
        return Err(CommandError::env(format!("cannot write JSON: {e}")));
    }
    if let Err(e) = writeln!(out).and_then(|_| out.flush()) {
        output::fail(&e);
    }
    Ok(())
}
