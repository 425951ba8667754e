//! The one place the git CLI is spawned: in a given folder, with stdin closed and
//! every GIT_* variable of the caller cleared (a hook runs with GIT_DIR set, which
//! would point git at the wrong repository); a task's worktree gets the variables
//! the dispatcher chooses (see trusted.rs).
use super::{GitError, Repo};
use std::path::Path;
use std::process::Command;

/// The variables git sets for hooks and that must not leak into git or
/// git agentos processes started from one.
pub const GIT_ENV: [&str; 5] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
];

/// Remove [`GIT_ENV`] from a command's environment.
pub fn clear_git_env(cmd: &mut Command) -> &mut Command {
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Run `git ARGS` in `dir`; its stdout, or an error with its stderr.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    git_with(dir, args, &[])
}

/// [`git`], with these variables set (after the caller's GIT_* are cleared).
pub(super) fn git_with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<String, GitError> {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null());
    clear_git_env(&mut cmd).envs(env.iter().copied());
    let out = cmd.output().map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Command {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The git CLI's version (`2.47.3`), from `git --version`.
pub fn version() -> Result<String, GitError> {
    let out = git(Path::new("/"), &["--version"])?;
    Ok(out
        .trim()
        .strip_prefix("git version ")
        .unwrap_or(out.trim())
        .to_string())
}

impl Repo {
    /// The git CLI in the main working tree, for a task's worktrees (adding,
    /// moving them): hooks and fsmonitor off. Returns stdout.
    pub(super) fn git_cli(&self, args: &[&str]) -> Result<String, GitError> {
        let mut full: Vec<&str> = super::trusted::HARDENED.to_vec();
        full.extend_from_slice(args);
        git(&self.root, &full)
    }
}

/// Run `git ARGS` in `dir`, with `input` on its stdin (else none): its stdout as
/// bytes, or an error with its stderr.
pub fn git_bytes(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = clear_git_env(&mut cmd).spawn().map_err(GitError::Spawn)?;
    let out = std::thread::scope(|scope| {
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            // Fed from a thread, so a large input never blocks on a full stdout.
            scope.spawn(move || {
                let _ = stdin.write_all(input);
            });
        }
        child.wait_with_output()
    })
    .map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Command {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}
