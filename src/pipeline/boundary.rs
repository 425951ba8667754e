//! The boundary every command of a task runs in (its agent, its verify
//! commands): a private folder for the attempt, the writable set, the variables
//! that point the command at them, and what the shim is told.
use crate::agent::attempt::AttemptDir;
use crate::agent::config::SandboxConfig;
use crate::agent::sandbox::Plan;
use crate::agent::spawn::{writable_set, Confinement};
use crate::git::Repo;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What a command of the task is started with.
#[derive(Debug)]
pub struct Boundary {
    pub attempt: AttemptDir,
    pub confinement: Confinement,
    /// Set on top of the scrubbed environment.
    pub env: Vec<(String, OsString)>,
    /// Configured writable paths that do not exist (they get no rule).
    pub warnings: Vec<String>,
}

/// Why the boundary could not be made; the task fails with it.
#[derive(Debug, thiserror::Error)]
pub enum BoundaryError {
    #[error("cannot create the agent's private folder in {}: {source}", std::env::temp_dir().display())]
    Private { source: std::io::Error },
    #[error("cannot copy Claude Code's configuration into the agent's private folder: {source}")]
    Claude { source: std::io::Error },
    #[error("cannot create the memory vault {}: {source}", path.display())]
    Vault {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` in the `[sandbox] writable` of agent `{agent}` (it resolves to `{}`) {why}; it is refused: name the cache folder itself", path.display(), resolved.display())]
    Writable {
        agent: String,
        path: PathBuf,
        resolved: PathBuf,
        why: String,
    },
    #[error("cannot read the worktree's git folder: {0}")]
    Git(#[from] crate::git::GitError),
}

/// What the boundary is made for.
pub struct Request<'a> {
    pub repo: &'a Repo,
    pub task_id: &'a str,
    pub worktree: &'a Path,
    pub agent: &'a str,
    pub settings: &'a SandboxConfig,
    pub plan: &'a Plan,
    /// Claude Code: its configuration goes into the private folder.
    pub claude: bool,
    /// The memory vault, writable for the memory server (the agent's child).
    pub vault: Option<PathBuf>,
}

/// Make the private folder and the writable set for one command run.
pub fn prepare(request: &Request) -> Result<Boundary, BoundaryError> {
    let sandboxed = request.plan.is_sandboxed();
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    // Judged as the rule will be made: resolved (the shim gets this path).
    let mut extra = Vec::new();
    for path in &request.settings.writable {
        let resolved = crate::agent::writable::resolve(path);
        if let Some(why) =
            crate::agent::writable::refusal(&resolved, request.repo.root(), home.as_deref())
        {
            return Err(BoundaryError::Writable {
                agent: request.agent.to_string(),
                path: path.clone(),
                resolved,
                why,
            });
        }
        extra.push((path.clone(), resolved));
    }
    let mut attempt =
        AttemptDir::create(request.task_id).map_err(|source| BoundaryError::Private { source })?;
    let mut env = Vec::new();
    let mut writable = Vec::new();
    let mut warnings = Vec::new();
    if sandboxed {
        if request.claude {
            attempt
                .seed_claude()
                .map_err(|source| BoundaryError::Claude { source })?;
        }
        if let Some(vault) = &request.vault {
            std::fs::create_dir_all(vault).map_err(|source| BoundaryError::Vault {
                path: vault.clone(),
                source,
            })?;
            writable.push(vault.clone());
        }
        for (path, resolved) in &extra {
            if !resolved.exists() {
                warnings.push(format!(
                    "`{}` in the `[sandbox] writable` of agent `{}` does not exist: no rule for it",
                    path.display(),
                    request.agent
                ));
            }
            writable.push(resolved.clone());
        }
        let cache = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"));
        let cache_is_set = std::env::var_os("XDG_CACHE_HOME").is_some()
            || cache.is_some_and(|c| extra.iter().any(|(w, _)| c.starts_with(w)));
        env = attempt.environment(&request.repo.objects_dir(), cache_is_set);
        attempt
            .seed_index(&request.repo.worktree_index(request.worktree)?)
            .map_err(|source| BoundaryError::Private { source })?;
        env.push(("GIT_INDEX_FILE".into(), attempt.index().into_os_string()));
        writable = writable_set(request.worktree, attempt.path(), &writable);
    } else {
        let tmp = attempt.path().join("tmp").into_os_string();
        env.extend(["TMPDIR", "TMP", "TEMP"].map(|k| (k.to_string(), tmp.clone())));
    }
    Ok(Boundary {
        attempt,
        confinement: Confinement {
            sandbox: sandboxed,
            writable,
        },
        env,
        warnings,
    })
}
