//! One module per subcommand; each turns flags into calls on the library.
pub mod add;
pub mod demo;
pub mod friction;
pub mod init;
pub mod intake;
pub mod list;
pub mod logs;
pub mod manage;
pub mod mcp;
pub mod memory;
pub mod run;
pub mod show;
pub mod status;
pub mod verify;
pub mod view;

use crate::error::{io_error, CmdResult};
use crate::git::Repo;
use crate::layout::Tree;
use std::path::Path;

/// The repository a command works on and its `.agentos/` tree.
pub struct Context {
    pub repo: Repo,
    pub tree: Tree,
}

impl Context {
    pub fn discover(dir: &Path) -> CmdResult<Context> {
        let repo = Repo::discover(dir)?;
        let tree = Tree::new(repo.root());
        Ok(Context { repo, tree })
    }

    /// Make sure the runtime folders exist (commands that write tasks call this).
    pub fn ensure_runtime(&self) -> CmdResult<()> {
        self.tree
            .ensure_runtime()
            .map(|_| ())
            .map_err(|e| io_error("create the folders of", &self.tree.dir, e))
    }

    /// The task with this id in any state folder, or an error that offers the
    /// closest id ("did you mean").
    pub fn find_task(&self, id: &str) -> CmdResult<crate::queue::Entry> {
        let found =
            crate::queue::find(&self.tree, id).map_err(|e| io_error("read", &self.tree.dir, e))?;
        found.ok_or_else(|| {
            let ids = crate::queue::all_ids(&self.tree).unwrap_or_default();
            let mut err = crate::error::CommandError::invalid(format!(
                "there is no task `{id}` in todo/, doing/, done/ or failed/"
            ));
            if let Some(near) = crate::similarity::closest(id, ids.iter().map(String::as_str)) {
                err = err.hint(format!("did you mean `{near}`?"));
            }
            err.hint("`git agentos list` shows every task")
        })
    }

    /// A path relative to the repository's top folder, for messages.
    pub fn rel<'a>(&self, path: &'a Path) -> std::borrow::Cow<'a, str> {
        match path.strip_prefix(&self.tree.repo_root) {
            Ok(rel) => rel.to_string_lossy(),
            Err(_) => path.to_string_lossy(),
        }
    }
}

/// Print a value as pretty JSON on stdout, streamed through a buffer.
pub fn print_json<T: serde::Serialize>(value: &T) -> CmdResult<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| crate::error::CommandError::env(format!("cannot write JSON: {e}")))?;
    writeln!(out)
        .and_then(|_| out.flush())
        .map_err(|e| crate::error::CommandError::env(format!("cannot write to stdout: {e}")))
}
