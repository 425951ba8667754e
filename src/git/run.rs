//! The one place the git CLI is spawned: in a given folder, with stdin closed and
//! every GIT_* variable of the caller cleared (a hook runs with GIT_DIR set, which
//! would point git at the wrong repository); a task's worktree gets the variables
//! the dispatcher chooses (see trusted.rs). A command that talks to a remote
//! ([`git_remote`]) also runs without a terminal and may inherit the token's pipe.
use super::credential::Offer;
use super::{utf8, GitError, Repo};
use std::path::Path;
use std::process::{Command, Output};

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

/// Run `git ARGS` in `dir` for a command that talks to a remote (push, fetch,
/// ls-remote), with the person's own git configuration (ssh config, credential
/// helpers, `insteadOf`), and without ever asking anyone: in a session of its
/// own, so neither git nor ssh has a terminal to prompt on (a dispatcher in the
/// background would wait forever), with `GIT_TERMINAL_PROMPT=0` and the signals
/// the dispatcher blocks unblocked. With an `offer`, git agentos is the only
/// credential helper and the token's pipe is inherited (see
/// [`super::credential`]). Returns what git printed and its status, whatever it
/// was: the caller reads the reason.
pub(super) fn git_remote(
    dir: &Path,
    args: &[&str],
    offer: Option<&Offer>,
) -> Result<Output, GitError> {
    let mut cmd = Command::new("git");
    // No hook (git2 never ran the person's pre-push hook either, and one would
    // see the credential helper's variables), no fsmonitor, no submodules.
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .args(super::trusted::HARDENED)
        .args(["-c", "push.recurseSubmodules=no"]);
    let mut inherit = None;
    if let Some(offer) = offer {
        let exe = crate::exe::path().map_err(GitError::Spawn)?;
        let (config, env) = offer.config(utf8(&exe)?);
        cmd.args(config).envs(env);
        inherit = Some(offer.fd());
    }
    cmd.args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null());
    detach(&mut cmd, inherit);
    clear_git_env(&mut cmd).output().map_err(GitError::Spawn)
}

/// Between fork and exec: keep `inherit` open across exec (it is opened
/// close-on-exec, so no other child of the dispatcher ever gets it), start a
/// session without a controlling terminal, and unblock every signal.
#[allow(unsafe_code)]
fn detach(cmd: &mut Command, inherit: Option<i32>) {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and makes only
    // async-signal-safe system calls (fcntl, setsid, sigprocmask); it allocates
    // nothing. `inherit` is a descriptor the parent holds open until the child
    // has been spawned, so it is open in the child.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(fd) = inherit {
                let fd = std::os::fd::BorrowedFd::borrow_raw(fd);
                fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
            }
            nix::unistd::setsid()?;
            nix::sys::signal::SigSet::empty().thread_set_mask()?;
            Ok(())
        });
    }
}

/// What git said on stderr, on one line (its `fatal:`, `error:` and `remote:`
/// lines), or its exit status when it said nothing.
pub(super) fn said(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        format!("git ended with {}", out.status)
    } else {
        lines.join("; ")
    }
}
