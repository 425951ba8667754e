//! Starting a command the way every command of a task starts (the agent, a
//! verify command): under the shim, as the leader of a new process group, in the
//! worktree, with the scrubbed environment and no signal blocked, confined when
//! the plan says so.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the shim is told about the boundary.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    pub sandbox: bool,
    /// What the command may write (the shim's `--write` paths).
    pub writable: Vec<PathBuf>,
}

/// `git-agentos agent-shim --parent PID [--sandbox --write P…] -- PROGRAM ARGS…` in `dir`,
/// with exactly `env` as its environment (the shim's own `/proc/<pid>/environ`
/// is readable from inside the sandbox, so it gets nothing the command may not
/// see).
pub fn shim_command(
    confinement: &Confinement,
    program: &[OsString],
    env: Vec<(OsString, OsString)>,
    dir: &Path,
) -> Command {
    let exe = crate::exe::path().unwrap_or_else(|_| PathBuf::from("git-agentos"));
    let mut cmd = Command::new(exe);
    cmd.arg("agent-shim")
        .arg("--parent")
        .arg(std::process::id().to_string());
    if confinement.sandbox {
        cmd.arg("--sandbox");
        for path in &confinement.writable {
            cmd.arg("--write").arg(path);
        }
    }
    cmd.arg("--")
        .args(program)
        .env_clear()
        .envs(env)
        .current_dir(dir);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    super::process::unblock_signals_in_child(&mut cmd);
    cmd
}

/// The character devices every command may write: without /dev/null tools fail
/// noisily. `/dev/tty` names no terminal of the person's (the shim starts the
/// command in a session of its own). The pseudo-terminals are left out: the
/// person's terminals are among them; a tool that needs one (`script`, `expect`)
/// gets them from `[sandbox] writable = ["/dev/ptmx", "/dev/pts"]`. `/dev` as a
/// whole is never writable (as root, /dev/vda would be).
pub const DEVICES: [&str; 4] = ["/dev/null", "/dev/zero", "/dev/full", "/dev/tty"];

/// The writable set of a task's command: the worktree, the attempt's private
/// folder, `more` (the memory vault, local.toml's `[sandbox] writable`) and
/// [`DEVICES`]; canonical, so that paths reported later compare with them.
///
/// The worktree's git folder (`.git/worktrees/<id>`) is not in it: its records
/// (`HEAD`, `commondir`, `gitdir`, the index the dispatcher commits from) are the
/// dispatcher's. The command's git uses an index in the private folder
/// (`GIT_INDEX_FILE`) and objects there (`GIT_OBJECT_DIRECTORY`), so `git status`,
/// `git diff` and `git add` work, and no HEAD, record or ref of its making is
/// ever there for git (the dispatcher's or the person's) to follow.
pub fn writable_set(worktree: &Path, private: &Path, more: &[PathBuf]) -> Vec<PathBuf> {
    let mut set: Vec<PathBuf> = [worktree, private]
        .into_iter()
        .map(Path::to_path_buf)
        .chain(more.iter().cloned())
        .map(|p| p.canonicalize().unwrap_or(p))
        .collect();
    set.extend(DEVICES.iter().map(PathBuf::from));
    set.dedup();
    set
}
