//! The secrets the dispatcher holds (`GITHUB_TOKEN`, `GH_TOKEN`): taken out of the
//! process environment the moment a `git-agentos` process starts, and kept in
//! memory only.
//!
//! Removing a variable is not enough: `/proc/<pid>/environ` shows the block the
//! process was started with, and any process of the same user, a sandboxed agent
//! included, can read it (measured). So the value is also overwritten with zero
//! bytes where the kernel put it. Every process of git agentos does this first
//! (a child that needs the token, the `watch` a hook starts, gets it by name).
//!
//! The other secrets agents are kept from ([`crate::agent::env::is_secret`]: an
//! ssh agent's socket, askpass helpers, configuration given through the
//! environment, `GH_*`, `GCM_*`…) stay in the process's environment, for its own
//! git (a push may need the ssh agent), but their bytes in that block are wiped
//! too: the value lives on in a copy `/proc/<pid>/environ` does not show.
//!
//! What this cannot reach: the environment of the process that started git
//! agentos (the `git` of `git agentos run`, a shell that exported the token).
//! The README's Sandbox section says so, and how to start it without one.
use std::ffi::OsString;
use std::sync::OnceLock;

/// The variables that carry the GitHub token, in the order they are looked up.
pub const TOKEN_VARS: [&str; 2] = ["GITHUB_TOKEN", "GH_TOKEN"];

static TAKEN: OnceLock<Vec<(&'static str, OsString)>> = OnceLock::new();

/// Take the token variables out of this process's environment, and wipe their
/// values from the memory `/proc/<pid>/environ` reads. Call it first in `main`,
/// before any thread exists (the environment is not thread-safe).
pub fn take_from_environment() {
    let mut taken = Vec::new();
    for name in TOKEN_VARS {
        if let Some(value) = std::env::var_os(name) {
            taken.push((name, value));
            wipe_initial_value(name);
            std::env::remove_var(name);
        }
    }
    let _ = TAKEN.set(taken);
    let others: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(name, _)| {
            name.to_str()
                .is_some_and(|n| crate::agent::env::is_secret(n) && !TOKEN_VARS.contains(&n))
        })
        .collect();
    for (name, value) in others {
        if let Some(name) = name.to_str() {
            wipe_initial_value(name);
            // A copy of our own, which /proc/<pid>/environ does not show.
            std::env::set_var(name, value);
        }
    }
}

/// A variable the process started with: from what [`take_from_environment`]
/// took, else from the environment (a library caller that never took them).
pub fn var(name: &str) -> Option<OsString> {
    match TAKEN.get() {
        Some(taken) => taken
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var_os(name)),
        None => std::env::var_os(name),
    }
}

/// True when `name` is one of the secrets taken at start.
pub fn is_taken(name: &str) -> bool {
    TOKEN_VARS.contains(&name)
}

/// The GitHub token: GITHUB_TOKEN, else GH_TOKEN (empty values do not count).
pub fn github_token() -> Option<String> {
    TOKEN_VARS.iter().find_map(|name| {
        var(name)
            .and_then(|v| v.into_string().ok())
            .filter(|v| !v.trim().is_empty())
    })
}

/// The taken variables, to hand to a child of git agentos that needs them (the
/// `watch` a hook starts): it takes them out of its own environment in turn.
pub fn for_child() -> Vec<(&'static str, OsString)> {
    TOKEN_VARS
        .iter()
        .filter_map(|name| var(name).map(|v| (*name, v)))
        .collect()
}

/// The nearest ancestor process (its pid and name) whose environment holds the
/// token this process took: the `git` of `git agentos run`, or a shell that
/// exported it. Any process of the same user can read it there (an agent
/// included, through `/proc/<pid>/environ`); this process cannot wipe it.
pub fn held_by_ancestor() -> Option<(i32, String)> {
    let values: Vec<Vec<u8>> = TOKEN_VARS
        .iter()
        .filter_map(|name| var(name))
        .map(|v| v.into_encoded_bytes())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return None;
    }
    let mut pid = nix::unistd::getppid().as_raw();
    for _ in 0..64 {
        if pid <= 1 {
            return None;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let holds = environ.split(|b| *b == 0).any(|entry| {
            TOKEN_VARS.iter().any(|name| {
                entry
                    .strip_prefix(name.as_bytes())
                    .and_then(|rest| rest.strip_prefix(b"="))
                    .is_some_and(|value| values.iter().any(|v| v.as_slice() == value))
            })
        });
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_string())
        };
        if holds {
            return Some((pid, field("Name:").unwrap_or_default()));
        }
        pid = field("PPid:").and_then(|p| p.parse().ok())?;
    }
    None
}

/// What to tell the person when [`held_by_ancestor`] finds one.
pub fn ancestor_warning(pid: i32, name: &str) -> String {
    format!(
        "the GitHub token is also in the environment of process {pid} (`{name}`), which started \
         git agentos: any agent can read it there (/proc/{pid}/environ), and git agentos cannot \
         wipe it. Start git agentos with the token given to it alone, not exported: \
         `GITHUB_TOKEN=… git-agentos run` (the binary itself, not through `git`)"
    )
}

/// Overwrite the value of every `NAME=value` entry of the process's environment
/// block with zero bytes, in place.
#[allow(unsafe_code)]
fn wipe_initial_value(name: &str) {
    use std::ffi::{c_char, CStr};
    extern "C" {
        static mut environ: *mut *mut c_char;
    }
    let prefix = format!("{name}=");
    // SAFETY: called before any thread exists, so nothing reads or changes the
    // environment meanwhile; `environ` is a NULL-terminated array of pointers to
    // NUL-terminated strings, and every byte written lies between an entry's `=`
    // and its terminating NUL, which stays.
    unsafe {
        let mut entry = environ;
        if entry.is_null() {
            return;
        }
        while !(*entry).is_null() {
            let bytes = CStr::from_ptr(*entry).to_bytes();
            if bytes.starts_with(prefix.as_bytes()) {
                let value = (*entry).add(prefix.len());
                std::ptr::write_bytes(value, 0, bytes.len() - prefix.len());
            }
            entry = entry.add(1);
        }
    }
}
