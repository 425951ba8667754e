//! Settings a repository cannot give itself. A clone brings `.agentos/config.toml`
//! and `agents/<name>/agent.toml` with it, written by anyone who could push. So a
//! setting that starts a program unasked or runs one of the repository's
//! choosing (`autostart`, an agent's `command`), like one that widens the
//! sandbox, counts only from a file git does not track:
//! `.agentos/config.local.toml` beside config.toml and
//! `.agentos/agents/<name>/local.toml` beside agent.toml. Each takes the fields of
//! the file it sits beside and wins over it, field by field (tables are merged
//! key by key); `.agentos/.gitignore` leaves both out. A shared file git does not
//! track counts as yours too (you wrote it on this machine); once it is
//! committed, those settings in it are refused with a message that says where
//! they go. Every file is read without following a link, a regular UTF-8 file
//! of at most 1 MiB.
use crate::nofollow::Dir;
use std::path::{Path, PathBuf};

/// Beside `.agentos/config.toml`.
pub const CONFIG_LOCAL: &str = "config.local.toml";
/// Beside `.agentos/agents/<name>/agent.toml`.
pub const AGENT_LOCAL: &str = "local.toml";
/// The most of a settings file that is read.
pub const SETTINGS_CAP: u64 = 1024 * 1024;

/// A settings file that cannot be read or does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct SettingsError {
    pub path: PathBuf,
    pub message: String,
}

/// A shared settings file and its local companion.
#[derive(Debug, Default)]
pub struct Layered {
    pub shared_path: PathBuf,
    pub local_path: PathBuf,
    pub shared: toml::Table,
    pub local: toml::Table,
}

/// Read one settings file in `dir` (None: the folder is missing): an empty
/// table when the file is missing.
fn read_table(dir: Option<&Dir>, path: &Path) -> Result<toml::Table, SettingsError> {
    let fail = |message: String| SettingsError {
        path: path.to_path_buf(),
        message,
    };
    let Some(dir) = dir else {
        return Ok(toml::Table::new());
    };
    let name = path.file_name().unwrap_or_default();
    let Some(bytes) = dir
        .read(name, SETTINGS_CAP)
        .map_err(|e| fail(e.to_string()))?
    else {
        return Ok(toml::Table::new());
    };
    let text = String::from_utf8(bytes).map_err(|_| fail("it is not UTF-8".into()))?;
    toml::from_str(&text).map_err(|e| fail(e.message().trim().to_string()))
}

impl Layered {
    /// Read `<agentos>/<sub>/<shared>` and `<agentos>/<sub>/<local>` (`sub` may
    /// be empty). A missing file or folder is an empty table; a link anywhere
    /// below `.agentos/` is an error.
    pub fn read(
        agentos: &Path,
        sub: &str,
        shared: &str,
        local: &str,
    ) -> Result<Self, SettingsError> {
        let folder = if sub.is_empty() {
            agentos.to_path_buf()
        } else {
            agentos.join(sub)
        };
        let opened = Dir::open(agentos).and_then(|d| {
            if sub.is_empty() {
                Ok(d)
            } else {
                d.descend(sub, false)
            }
        });
        let dir = match opened {
            Ok(dir) => Some(dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(SettingsError {
                    path: folder,
                    message: e.to_string(),
                })
            }
        };
        let (shared_path, local_path) = (folder.join(shared), folder.join(local));
        Ok(Layered {
            shared: read_table(dir.as_ref(), &shared_path)?,
            local: read_table(dir.as_ref(), &local_path)?,
            shared_path,
            local_path,
        })
    }

    /// Both files in one table: the local file's fields win.
    pub fn merged(&self) -> toml::Table {
        let mut out = self.shared.clone();
        merge(&mut out, &self.local);
        out
    }

    /// Of `fields`, those the shared file sets and the local one does not, when
    /// git tracks the shared file: settings the repository tried to give itself.
    /// (Asks git only when one is set.)
    pub fn from_tracked(&self, repo_root: &Path, fields: &[&str]) -> Vec<String> {
        let set: Vec<String> = fields
            .iter()
            .filter(|f| self.shared.contains_key(**f) && !self.local.contains_key(**f))
            .map(|f| f.to_string())
            .collect();
        if set.is_empty() || !tracked(repo_root, &self.shared_path) {
            return Vec::new();
        }
        set
    }
}

/// Merge `local` into `into`: tables key by key, anything else replaced.
pub fn merge(into: &mut toml::Table, local: &toml::Table) {
    for (key, value) in local {
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => merge(mine, theirs),
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

/// True when git tracks `path` (in its index or HEAD) in the repository whose
/// top folder is `root`.
pub fn tracked(root: &Path, path: &Path) -> bool {
    crate::git::is_tracked(root, path.strip_prefix(root).unwrap_or(path))
}

/// Why a setting in a tracked file is not taken, and where it goes (`local`,
/// relative to the repository's top folder `root`).
pub fn refusal(field: &str, local: &Path, root: &Path) -> String {
    format!(
        "`{field}` is not taken from a file git tracks: anyone who can push to the repository wrote it, and it would run on your machine; to opt in on this machine, put it in {} (git ignores that file; the same fields)",
        local.strip_prefix(root).unwrap_or(local).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_fields_win_and_tables_merge() {
        let mut shared: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = 2\n").expect("toml");
        let local: toml::Table = toml::from_str("b = 2\n[t]\ny = 3\n").expect("toml");
        merge(&mut shared, &local);
        let want: toml::Table = toml::from_str("a = 1\nb = 2\n[t]\nx = 1\ny = 3\n").expect("toml");
        assert_eq!(shared, want);
    }
}
