//! What can go wrong between git agentos and git: each case with what it names,
//! so the command boundary can add the hint once.
use crate::path_error::PathError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{}` is not inside a git repository ({message})", start.display())]
    NotARepository { start: PathBuf, message: String },
    #[error("cannot open the main repository of worktree `{}`: {message}", start.display())]
    MainRepository { start: PathBuf, message: String },
    #[error("cannot open `{}`: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("`{}` is a bare repository", path.display())]
    Bare { path: PathBuf },
    #[error("HEAD does not point at a commit: {message}")]
    NoHead { message: String },
    #[error("base `{rev}` does not name a commit here: {message}")]
    UnknownRevision { rev: String, message: String },
    #[error("base `{rev}` is not a commit: {message}")]
    NotACommit { rev: String, message: String },
    #[error("`{sha}` is not a commit id: {message}")]
    BadCommitId { sha: String, message: String },
    /// A libgit2 call failed.
    #[error("git: cannot {action}: {message}")]
    Library { action: String, message: String },
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Command { args: String, stderr: String },
    #[error("the worktree path {} is not UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("the recycled worktree {} is at {head} instead of {base}", path.display())]
    Recycled {
        path: PathBuf,
        head: String,
        base: String,
    },
    /// A worktree is not recycled where filter drivers are configured.
    #[error("filter drivers are configured ({}): the worktree is checked out afresh", names.join(", "))]
    FilterDrivers { names: Vec<String> },
    /// The worktree's `.git` file no longer names its own git folder.
    #[error("the agent replaced the worktree's `.git` file (it holds {found}, not `gitdir: {}`): git agentos never follows it", admin.display())]
    Tampered { found: String, admin: PathBuf },
    /// The worktree's own settings hold what could run a command.
    #[error("the agent changed the worktree's git settings (its config.worktree sets `{key}`, which git agentos does not allow there): git agentos never uses them")]
    TamperedConfig { key: String },
    /// A record of the worktree's git folder no longer says what git wrote.
    #[error("the agent rewrote its worktree's record `{}` (it holds `{found}`): git agentos never follows it", file.display())]
    TamperedRecord { file: PathBuf, found: String },
    #[error("the agent switched its worktree to {found}: its work must stay on {branch}")]
    WrongHead { branch: String, found: String },
    /// A folder under worktrees/ that git does not list: never deleted.
    #[error("`{}` is not a worktree git lists for this repository: git agentos deletes only the worktrees it made", path.display())]
    NotListed { path: PathBuf },
    #[error("the branch {branch} already exists (at {commit}) and this task did not create it: git agentos never resets a branch it did not make")]
    BranchTaken { branch: String, commit: String },
    #[error("cannot read the worktree's index `{}`: {message}", path.display())]
    Index { path: PathBuf, message: String },
    /// A FIFO, socket or device in the worktree: never opened.
    #[error("the worktree holds {what} at `{}`: git agentos reads only files, folders and links there (a FIFO would block it for ever); remove it", path.display())]
    SpecialFile { path: PathBuf, what: &'static str },
    /// A file to commit or diff larger than the limit: never read.
    #[error("`{}` in the worktree is {size} bytes, over the limit of {limit} bytes (100 MiB, as GitHub's): git agentos does not commit or diff a file that large; remove it or make git ignore it", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("the worktree's branch is gone (deleted while the agent worked?): {message}; nothing was committed")]
    BranchGone { message: String },
    #[error("the branch {branch} moved while git agentos committed on it (it was at {expected}): {message}; nothing was committed")]
    BranchMoved {
        branch: String,
        expected: String,
        message: String,
    },
    #[error("the branch {branch} does not exist")]
    NoBranch { branch: String },
    #[error("there is no remote `{remote}`: {message}")]
    NoRemote { remote: String, message: String },
    #[error("git push to `{remote}` failed: {message}")]
    Push { remote: String, message: String },
    #[error("`{remote}` has commits on {branch} that this push does not hold: not a fast-forward")]
    NotFastForward { remote: String, branch: String },
    #[error("git fetch from `{remote}` failed: {message}")]
    Fetch { remote: String, message: String },
    #[error("`{remote}` has no branch {branch}")]
    NoRemoteBranch { remote: String, branch: String },
    #[error("the remote `{remote}` rejected the push: {reason}")]
    PushRejected { remote: String, reason: String },
    #[error("cannot read back `{remote}` after the push: {message}")]
    ReadBack { remote: String, message: String },
    #[error("after the push, `{remote}` has {branch} at {found}, not {local}")]
    PushedElsewhere {
        remote: String,
        branch: String,
        found: String,
        local: String,
    },
    #[error("after the push, `{remote}` has no {branch}")]
    NotPushed { remote: String, branch: String },
    #[error(transparent)]
    Io(#[from] PathError),
}

/// A libgit2 error while doing `action`.
pub(crate) fn library(action: &str, e: &git2::Error) -> GitError {
    GitError::Library {
        action: action.to_string(),
        message: e.message().to_string(),
    }
}
