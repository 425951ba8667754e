//! `git agentos hook post-commit`'s run: check that the state it writes is its
//! own, do the intake at the lowest CPU and I/O priority (the person's rebase
//! comes first), record errors and notes as friction, leave one line in
//! `runs/hooks.log`, and start `watch` at normal priority when `autostart` asks.
//!
//! The hook does nothing in a repository whose `.agentos/` (or a state folder
//! or file the hook writes) is a symbolic link, or where git tracks runtime
//! state (a clone could bring `.agentos/friction.jsonl` as a link into
//! `.git/hooks/`): nothing is written there, not even friction; the reason goes
//! to stderr. Every file it opens is opened without following a link
//! ([`crate::nofollow`]), so a link that appears later is refused too.
use super::post_commit::{post_commit, Intake};
use crate::clock::Timestamp;
use crate::dispatch::lock::DispatcherLock;
use crate::git::Repo;
use crate::nofollow::Dir;
use crate::path_error::PathError;
use crate::queue::Tree;
use crate::state_names::{private_kind, RUNTIME_DIRS, RUNTIME_FILES};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What one run did: the intake, and a log line that could not be written.
pub struct Ran {
    pub intake: Intake,
    pub log_error: Option<PathError>,
    /// Why nothing was done in this repository (its state is not git agentos's own).
    pub refused: Option<String>,
}

/// Run the post-commit entry for the repository at `dir`, for `commit` (HEAD
/// when None). `background`: the intake runs at the lowest priority. Never
/// fails: None outside a repository or one without `.agentos/`.
pub fn run(dir: &Path, commit: Option<&str>, background: bool) -> Option<Ran> {
    let (dir, commit) = (dir.to_path_buf(), commit.map(str::to_string));
    // Linux keeps a priority per thread: the intake (and the git processes it
    // starts) runs in a thread of its own at the lowest, while `watch`, started
    // below from this thread, keeps the person's.
    let worker = std::thread::spawn(move || {
        if background {
            crate::priority::lower_this_thread(crate::priority::Io::Idle);
            // Nothing to do (no trigger, no `Agentos-` trailer): decided before
            // libgit2 opens anything, so a burst of commits pays little.
            if super::quick::nothing_to_do(&dir, commit.as_deref()) {
                return None;
            }
        }
        intake(&dir, commit.as_deref())
    });
    let (tree, mut ran) = worker.join().ok()??;
    if ran.intake.autostart && ran.refused.is_none() {
        match autostart(&tree) {
            Ok(started) => ran.intake.started_dispatcher = started,
            Err(e) => {
                let text = format!("autostart: {e}");
                record(&tree, "hook-error", &text);
                ran.intake.errors.push(text);
            }
        }
    }
    Some(ran)
}

fn intake(dir: &Path, commit: Option<&str>) -> Option<(Tree, Ran)> {
    let repo = Repo::discover(dir).ok()?;
    let tree = Tree::new(repo.root());
    let problems = crate::queue::check_state_paths(&tree);
    let leads_out = problems
        .iter()
        .find(|p| p.is_link)
        .map(|p| format!("nothing queued: {p}; {}", p.fix));
    if leads_out.is_none() && !tree.is_initialised() {
        return None;
    }
    if let Some(why) = leads_out.or_else(|| unsafe_state(&tree)) {
        let ran = Ran {
            intake: Intake::default(),
            log_error: None,
            refused: Some(why),
        };
        return Some((tree, ran));
    }
    let intake = post_commit(&repo, &tree, commit);
    for (kind, texts) in [("hook-error", &intake.errors), ("hook-note", &intake.notes)] {
        for text in texts {
            record(&tree, kind, text);
        }
    }
    let log = tree.runs_dir().join("hooks.log");
    let appended = Dir::open(&tree.dir)
        .and_then(|d| d.sub("runs", true))
        .and_then(|runs| runs.append("hooks.log"))
        .and_then(|mut f| f.write_all(log_line(&intake).as_bytes()));
    let log_error = appended.err().map(|e| PathError::new("write", &log, e));
    let ran = Ran {
        intake,
        log_error,
        refused: None,
    };
    Some((tree, ran))
}

fn record(tree: &Tree, kind: &str, text: &str) {
    crate::friction::note(tree, crate::friction::Event::new(kind, "post-commit", text));
}

/// Why the hook must not touch this repository's `.agentos/`, if it must not:
/// the folder, or a state folder or file in it, is a symbolic link; or git
/// tracks runtime state or local settings under it.
fn unsafe_state(tree: &Tree) -> Option<String> {
    let rel = |p: &Path| {
        p.strip_prefix(&tree.repo_root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let paths: Vec<PathBuf> = std::iter::once(tree.dir.clone())
        .chain(RUNTIME_DIRS.iter().map(|d| tree.dir.join(d)))
        .chain(RUNTIME_FILES.iter().map(|f| tree.dir.join(f)))
        .collect();
    for path in paths {
        let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if link {
            let to = std::fs::read_link(&path).unwrap_or_default();
            return Some(format!(
                "`{}` is a symbolic link (to `{}`): git agentos follows no link in its own state, so the hook did nothing; remove the link (and `git rm --cached` it if it is committed)",
                rel(&path),
                to.display()
            ));
        }
    }
    let listed =
        crate::git::run::git_bytes(&tree.repo_root, &["ls-files", "-z", "--", ".agentos"], None);
    let tracked: Vec<String> = listed
        .unwrap_or_default()
        .split(|b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .filter(|p| {
            p.strip_prefix(".agentos/")
                .is_some_and(|rest| private_kind(rest).is_some())
        })
        .collect();
    if tracked.is_empty() {
        return None;
    }
    let shown: Vec<&str> = tracked.iter().take(5).map(String::as_str).collect();
    Some(format!(
        "git tracks what must stay out of it under .agentos/ ({}{}): runtime state and this machine's settings are never committed, so the hook did nothing; run `git rm -r --cached {}` and commit",
        shown.join(", "),
        if tracked.len() > shown.len() { ", …" } else { "" },
        shown.join(" ")
    ))
}

/// Start `git agentos watch`, detached, if no dispatcher holds the lock. Two hooks
/// racing may both start one; the lock lets exactly one of them run.
fn autostart(tree: &Tree) -> std::io::Result<bool> {
    if DispatcherLock::probe(tree)?.is_some() {
        return Ok(false);
    }
    let exe = crate::exe::path()?;
    let log = Dir::open(&tree.dir)?
        .sub("runs", true)?
        .append("watch.log")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("watch")
        .current_dir(&tree.repo_root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    crate::git::run::clear_git_env(&mut cmd);
    // This process took the token out of its environment when it started; the
    // dispatcher needs it to publish (and takes it out of its own in turn).
    cmd.envs(crate::secrets::for_child());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn()?;
    Ok(true)
}

/// The line `runs/hooks.log` gets for one run.
fn log_line(intake: &Intake) -> String {
    let commit = intake.commit.as_deref().unwrap_or("?");
    if let Some(why) = &intake.ignored {
        let errors = if intake.errors.is_empty() {
            String::new()
        } else {
            format!(" errors={}", intake.errors.len())
        };
        return format!("{} {commit} ignored: {why}{errors}\n", Timestamp::now());
    }
    let mut line = format!(
        "{} {commit} queued=[{}] already-queued=[{}]",
        Timestamp::now(),
        intake.enqueued.join(","),
        intake.skipped_seen.join(",")
    );
    if !intake.refused.is_empty() {
        line.push_str(&format!(" refused=[{}]", intake.refused.join(",")));
    }
    line.push_str(&format!(" errors={}", intake.errors.len()));
    if !intake.notes.is_empty() {
        line.push_str(&format!(" notes={}", intake.notes.len()));
    }
    line.replace(['\n', '\r'], " ") + "\n"
}
