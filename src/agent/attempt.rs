//! The private folder of one agent attempt (or one verify run): a fresh temporary
//! folder, `0700`, writable inside the sandbox and removed afterwards. It holds
//!
//! - `tmp/`: `TMPDIR`, `TMP`, `TEMP` and `TMUX_TMPDIR` (`screen/`: `SCREENDIR`);
//! - `cache/`: `XDG_CACHE_HOME`, unless the person set one or made their cache
//!   writable in local.toml;
//! - `git-objects/`: `GIT_OBJECT_DIRECTORY`, with the repository's own object
//!   store as an alternate (read-only), so `git add` works while nothing the
//!   agent does can delete history; the dispatcher commits from the files;
//! - `git-index`: `GIT_INDEX_FILE`, a copy of the worktree's index, so `git
//!   status`, `git diff` and `git add` work while the worktree's git folder
//!   stays out of reach;
//! - `claude-config/`: `CLAUDE_CONFIG_DIR` for Claude Code, seeded with copies of
//!   the person's credentials, settings and `CLAUDE.md`, so nothing the agent
//!   writes reaches `~/.claude` (where a planted hook would run in the person's
//!   next unsandboxed `claude`). Only a refresh of the same login is copied
//!   back (its tokens, of the same kind, and a later expiry; nothing else), so an
//!   OAuth token rotated during the attempt is not lost.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The files of the person's Claude Code configuration folder copied in.
const CLAUDE_FILES: [&str; 3] = [".credentials.json", "settings.json", "CLAUDE.md"];

/// One attempt's private folder.
#[derive(Debug)]
pub struct AttemptDir {
    path: PathBuf,
    claude: Option<ClaudeSeed>,
}

/// Where Claude Code's configuration came from, and the credentials copied in.
#[derive(Debug)]
struct ClaudeSeed {
    source: PathBuf,
    credentials: Option<Vec<u8>>,
}

impl AttemptDir {
    /// A new private folder in the system's temporary folder, named after the
    /// task (`agentos-<id>-…`), with its subfolders made (a path that does not
    /// exist would get no sandbox rule).
    pub fn create(task_id: &str) -> std::io::Result<AttemptDir> {
        let prefix: String = task_id.chars().take(40).collect();
        let path = tempfile::Builder::new()
            .prefix(&format!("agentos-{prefix}-"))
            .tempdir()?
            .keep();
        let dir = AttemptDir { path, claude: None };
        for sub in ["tmp", "cache", "git-objects"] {
            std::fs::create_dir(dir.path.join(sub))?;
        }
        Ok(dir)
    }

    /// An attempt folder recorded by a dispatcher that died, to remove it: only
    /// one this dispatcher could have made for `task_id` (see
    /// [`is_attempt_path`]) that is a real folder of this user. Anything else a
    /// record names (a record may come from a cloned repository) is not taken.
    pub fn recorded(task_id: &str, path: &Path) -> Option<AttemptDir> {
        use std::os::unix::fs::MetadataExt;
        if !is_attempt_path(task_id, path) {
            return None;
        }
        let meta = std::fs::symlink_metadata(path).ok()?;
        // /proc/self belongs to this process's effective user.
        let me = std::fs::metadata("/proc/self").ok()?.uid();
        (meta.is_dir() && meta.uid() == me).then(|| AttemptDir {
            path: path.to_path_buf(),
            claude: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copy the person's Claude Code configuration in (`CLAUDE_CONFIG_DIR`, else
    /// `~/.claude` and `~/.claude.json`) and return the folder to point
    /// `CLAUDE_CONFIG_DIR` at.
    pub fn seed_claude(&mut self) -> std::io::Result<PathBuf> {
        let config = self.path.join("claude-config");
        std::fs::create_dir(&config)?;
        let explicit = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty());
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let (source, state_file) = match (explicit, home) {
            (Some(dir), _) => {
                let dir = PathBuf::from(dir);
                (dir.clone(), dir.join(".claude.json"))
            }
            (None, Some(home)) => (home.join(".claude"), home.join(".claude.json")),
            (None, None) => return Ok(config),
        };
        for name in CLAUDE_FILES {
            copy_if_file(&source.join(name), &config.join(name))?;
        }
        copy_if_file(&state_file, &config.join(".claude.json"))?;
        let credentials = std::fs::read(config.join(".credentials.json")).ok();
        self.claude = Some(ClaudeSeed {
            source,
            credentials,
        });
        Ok(config)
    }

    /// The agent's git index (`GIT_INDEX_FILE`).
    pub fn index(&self) -> PathBuf {
        self.path.join("git-index")
    }

    /// Start the agent's index as a copy of the worktree's (never read through
    /// a link); none when the worktree has none (git then starts one).
    pub fn seed_index(&self, from: &Path) -> std::io::Result<()> {
        if std::fs::symlink_metadata(from).is_ok_and(|m| m.is_file()) {
            std::fs::copy(from, self.index())?;
        }
        Ok(())
    }

    /// The variables that point the agent at this folder.
    pub fn environment(&self, objects: &Path, cache_is_set: bool) -> Vec<(String, OsString)> {
        let tmp = self.path.join("tmp").into_os_string();
        let mut env = vec![
            ("TMPDIR".to_string(), tmp.clone()),
            ("TMP".to_string(), tmp.clone()),
            ("TEMP".to_string(), tmp.clone()),
            // Where tmux and screen look for a server when no `TMUX`/`STY`
            // names one (both scrubbed): not at its default place (/tmp/tmux-UID,
            // /run/screen), where the person's own would run a command outside
            // the sandbox; an agent's own server runs in here.
            ("TMUX_TMPDIR".to_string(), tmp),
            (
                "SCREENDIR".to_string(),
                self.path.join("screen").into_os_string(),
            ),
            (
                "GIT_OBJECT_DIRECTORY".to_string(),
                self.path.join("git-objects").into_os_string(),
            ),
            (
                "GIT_ALTERNATE_OBJECT_DIRECTORIES".to_string(),
                objects.as_os_str().to_owned(),
            ),
        ];
        if !cache_is_set {
            env.push((
                "XDG_CACHE_HOME".to_string(),
                self.path.join("cache").into_os_string(),
            ));
        }
        if self.claude.is_some() {
            env.push((
                "CLAUDE_CONFIG_DIR".to_string(),
                self.path.join("claude-config").into_os_string(),
            ));
        }
        env
    }

    /// After the attempt: copy a refreshed `.credentials.json` back (only when
    /// the person's own copy is still the one seeded, and the new one is a
    /// refresh of the same login: see [`refreshed`]), then remove the folder.
    /// Returns what went
    /// wrong, for a warning; nothing here fails the task.
    pub fn finish(self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(seed) = &self.claude {
            if let Err(e) = copy_back_credentials(seed, &self.path.join("claude-config")) {
                problems.push(format!(
                    "cannot copy Claude Code's refreshed credentials back to {}: {e}",
                    seed.source.display()
                ));
            }
        }
        if let Err(e) = remove_all(&self.path) {
            problems.push(format!("cannot remove {}: {e}", self.path.display()));
        }
        problems
    }
}

/// Whether `path` is named as [`AttemptDir::create`] names the folders of
/// `task_id`: directly in the temporary folder, `agentos-<id>-<random>`.
pub fn is_attempt_path(task_id: &str, path: &Path) -> bool {
    let prefix: String = task_id.chars().take(40).collect();
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    path.parent() == Some(std::env::temp_dir().as_path())
        && name
            .strip_prefix(&format!("agentos-{prefix}-"))
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn copy_if_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::metadata(from) {
        Ok(m) if m.is_file() => std::fs::copy(from, to).map(|_| ()),
        _ => Ok(()),
    }
}

/// What a refresh of Claude Code's login changes in `claudeAiOauth`: nothing
/// else is ever copied back.
const REFRESHED: [&str; 3] = ["accessToken", "refreshToken", "expiresAt"];

fn copy_back_credentials(seed: &ClaudeSeed, config: &Path) -> std::io::Result<()> {
    let Some(seeded) = &seed.credentials else {
        return Ok(());
    };
    let Ok(now) = std::fs::read(config.join(".credentials.json")) else {
        return Ok(());
    };
    if &now == seeded {
        return Ok(());
    }
    let target = seed.source.join(".credentials.json");
    if std::fs::read(&target).ok().as_ref() != Some(seeded) {
        // Someone else refreshed them meanwhile: theirs wins.
        return Ok(());
    }
    let Some(merged) = refreshed(seeded, &now) else {
        return Ok(());
    };
    use std::os::unix::fs::PermissionsExt;
    crate::durable::write_with_permissions(
        &target,
        merged.as_bytes(),
        Some(std::fs::Permissions::from_mode(0o600)),
    )
}

/// The person's credentials with the refreshed fields of `now`, when `now` is a
/// refresh of the same login: the same fields (nothing added), the same scopes,
/// plan and everything else, tokens of the same kind (their `sk-ant-…-`
/// prefix), and a later expiry. Anything else (another account's tokens, a
/// field planted for later) is not copied back. None then.
fn refreshed(seeded: &[u8], now: &[u8]) -> Option<String> {
    use serde_json::Value;
    let mut person: Value = serde_json::from_slice(seeded).ok()?;
    let agent: Value = serde_json::from_slice(now).ok()?;
    let (old, new) = (
        person.get("claudeAiOauth")?.as_object()?.clone(),
        agent.get("claudeAiOauth")?.as_object()?,
    );
    let same_outside = agent
        .as_object()?
        .iter()
        .all(|(k, v)| k == "claudeAiOauth" || person.get(k) == Some(v));
    let same_inside = new
        .iter()
        .all(|(k, v)| REFRESHED.contains(&k.as_str()) || old.get(k) == Some(v));
    let later = match (old.get("expiresAt"), new.get("expiresAt")) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => b.as_f64() > a.as_f64(),
        _ => false,
    };
    let same_kind = ["accessToken", "refreshToken"].iter().all(|k| {
        match (
            old.get(*k).and_then(Value::as_str),
            new.get(*k).and_then(Value::as_str),
        ) {
            (Some(a), Some(b)) => token_kind(a).is_some_and(|kind| b.starts_with(kind)),
            _ => false,
        }
    });
    if !(same_outside && same_inside && later && same_kind) {
        return None;
    }
    let oauth = person.get_mut("claudeAiOauth")?.as_object_mut()?;
    for field in REFRESHED {
        oauth.insert(field.to_string(), new.get(field)?.clone());
    }
    serde_json::to_string(&person).ok()
}

/// A token's kind: what precedes its secret (`sk-ant-oat01-`).
fn token_kind(token: &str) -> Option<&str> {
    let end = token.match_indices('-').nth(2)?.0 + 1;
    (end < token.len()).then(|| &token[..end])
}

/// Remove a folder the agent may have made hard to remove (folders without
/// write or search permission): make every folder 0700, then remove.
pub fn remove_all(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            open_up(path);
            std::fs::remove_dir_all(path)
        }
    }
}

fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                open_up(&entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refresh_of_the_same_login_goes_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("claude");
        let config = dir.path().join("config");
        std::fs::create_dir_all(&source).expect("mkdir");
        std::fs::create_dir_all(&config).expect("mkdir");
        let login = |access: &str, refresh: &str, expires: u64, extra: &str| {
            format!(
                r#"{{"claudeAiOauth":{{"accessToken":"{access}","refreshToken":"{refresh}","expiresAt":{expires},"scopes":["user:inference"],"subscriptionType":"max"{extra}}}}}"#
            )
        };
        let old = login("sk-ant-oat01-old", "sk-ant-ort01-old", 1000, "").into_bytes();
        std::fs::write(source.join(".credentials.json"), &old).expect("write");
        let seed = ClaudeSeed {
            source: source.clone(),
            credentials: Some(old.clone()),
        };
        let read = || std::fs::read(source.join(".credentials.json")).expect("read");
        for (why, attempt) in [
            ("garbage", "not json".to_string()),
            ("another account", login("ATTACKER", "ATTACKER", 2000, "")),
            (
                "no later expiry",
                login("sk-ant-oat01-new", "sk-ant-ort01-new", 1000, ""),
            ),
            (
                "a planted field",
                login("sk-ant-oat01-new", "sk-ant-ort01-new", 2000, r#","x":1"#),
            ),
            (
                "another plan",
                login("sk-ant-oat01-new", "sk-ant-ort01-new", 2000, "").replace("max", "pro"),
            ),
        ] {
            std::fs::write(config.join(".credentials.json"), &attempt).expect("write");
            copy_back_credentials(&seed, &config).expect("copy back");
            assert_eq!(read(), old, "{why} was copied back");
        }
        let new = login("sk-ant-oat01-new", "sk-ant-ort01-new", 2000, "");
        std::fs::write(config.join(".credentials.json"), &new).expect("write");
        copy_back_credentials(&seed, &config).expect("copy back");
        let kept: serde_json::Value = serde_json::from_slice(&read()).expect("json");
        let want: serde_json::Value = serde_json::from_str(&new).expect("json");
        assert_eq!(kept, want, "a refreshed token is kept");
    }

    #[test]
    fn a_folder_made_unwritable_is_still_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = AttemptDir::create("t").expect("create");
        let locked = dir.path().join("tmp/locked");
        std::fs::create_dir_all(locked.join("inner")).expect("mkdir");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).expect("chmod");
        let path = dir.path().to_path_buf();
        assert!(dir.finish().is_empty());
        assert!(!path.exists());
    }
}
