//! After each commit: enqueue a task per `Agentos-Task:` trailer and per matching
//! trigger, once per change, then wake (or autostart) the dispatcher. It never
//! dispatches and never fails the commit; its errors go to the friction log.
use super::triggers::{load_triggers, trigger_task};
use crate::clock::Timestamp;
use crate::config;
use crate::dispatch::lock::DispatcherLock;
use crate::git::{CommitInfo, Repo};
use crate::path_error::PathError;
use crate::queue::{self, Tree};
use crate::task::{self, Task};
use std::io::{BufRead, Write};
use std::path::Path;

/// What one post-commit run did.
#[derive(Debug, Default)]
pub struct Intake {
    /// The commit it looked at.
    pub commit: Option<String>,
    pub enqueued: Vec<String>,
    pub skipped_seen: Vec<String>,
    pub errors: Vec<String>,
    pub started_dispatcher: bool,
}

/// The post-commit entry: enqueue, then wake. Errors are collected, never raised.
pub fn post_commit(repo: &Repo, tree: &Tree) -> Intake {
    let mut intake = Intake::default();
    let commit = match repo.head_commit_info() {
        Ok(c) => c,
        Err(e) => {
            intake.errors.push(e.to_string());
            return intake;
        }
    };
    intake.commit = Some(commit.sha.clone());
    let mut wanted: Vec<(String, Result<Task, String>)> = trailer_tasks(&commit);
    for trigger in load_triggers(tree) {
        match trigger {
            Ok((name, trigger)) => {
                if let Some(task) = trigger_task(tree, &name, &trigger, &commit) {
                    wanted.push((format!("trigger:{name}"), task));
                }
            }
            Err(e) => intake.errors.push(e.to_string()),
        }
    }
    for (source, task) in wanted {
        let mut task = match task {
            Ok(task) => task,
            Err(e) => {
                intake.errors.push(format!("{source}: {e}"));
                continue;
            }
        };
        task.base = Some(commit.sha.clone());
        task.base_branch = commit.branch.clone();
        task.enqueued = Some(Timestamp::now());
        if let Err(problem) = task::validate(&task) {
            intake.errors.push(format!("{source}: {problem}"));
            continue;
        }
        match first_time(tree, &commit.change_key, &source) {
            Ok(false) => {
                intake.skipped_seen.push(source);
                continue;
            }
            Ok(true) => {}
            Err(e) => {
                intake
                    .errors
                    .push(format!("{}: {e}", tree.dir.join("hook.seen").display()));
                continue;
            }
        }
        match queue::enqueue_new(tree, &task) {
            Ok(id) => intake.enqueued.push(id),
            Err(e) => intake.errors.push(format!(
                "{source}: cannot write into {}: {e}",
                tree.dir.join("todo").display()
            )),
        }
    }
    if !intake.enqueued.is_empty() {
        match config::load(tree) {
            Ok(cfg) if cfg.autostart => match autostart(tree) {
                Ok(started) => intake.started_dispatcher = started,
                Err(e) => intake.errors.push(format!("autostart: {e}")),
            },
            Ok(_) => {}
            Err(e) => intake.errors.push(e.to_string()),
        }
    }
    intake
}

/// `Agentos-Task: <title>` trailers; `Agentos-Targets:` and `Agentos-Agent:` after
/// one belong to it.
fn trailer_tasks(commit: &CommitInfo) -> Vec<(String, Result<Task, String>)> {
    let mut out: Vec<(String, Result<Task, String>)> = Vec::new();
    for (key, value) in &commit.trailers {
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "agentos-task" => {
                let task = Task {
                    title: value.to_string(),
                    body: format!("Requested in commit {} ({}).\n", commit.sha, commit.subject),
                    ..Task::default()
                };
                out.push((format!("trailer:{value}"), Ok(task)));
            }
            "agentos-targets" | "agentos-agent" => {
                let Some((_, Ok(task))) = out.last_mut() else {
                    continue;
                };
                if key.eq_ignore_ascii_case("agentos-agent") {
                    task.agent = Some(value.to_string());
                } else {
                    task.targets.extend(
                        value
                            .split([',', ' '])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// True the first time this change is seen for this source; remembers it. The
/// check and the append happen under an exclusive lock on `.agentos/hook.seen`.
fn first_time(tree: &Tree, change_key: &str, source: &str) -> std::io::Result<bool> {
    let line = format!(
        "{}\t{}",
        change_key.replace(['\t', '\n'], " "),
        source.replace(['\t', '\n'], " ")
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(tree.dir.join("hook.seen"))?;
    file.lock()?;
    let seen = std::io::BufReader::new(&file)
        .lines()
        .map_while(Result::ok)
        .any(|l| l == line);
    if !seen {
        file.write_all(format!("{line}\n").as_bytes())?;
        file.sync_data()?;
    }
    file.unlock()?;
    Ok(!seen)
}

/// Start `git agentos watch`, detached, if no dispatcher holds the lock. Two hooks
/// racing may both start one; the lock lets exactly one of them run.
fn autostart(tree: &Tree) -> std::io::Result<bool> {
    if DispatcherLock::probe(tree)?.is_some() {
        return Ok(false);
    }
    let exe = std::env::current_exe()?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(tree.dir.join("runs").join("watch.log"))?;
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

/// Run the post-commit entry for the repository at `dir`: enqueue, record each
/// error as friction, and leave one line in `runs/hooks.log` (so a person, or a
/// test, can see what each commit queued). Never fails: None outside a repository
/// or one without `.agentos/`; the second value is a log that could not be written.
pub fn run(dir: &Path) -> Option<(Intake, Option<PathError>)> {
    let repo = Repo::discover(dir).ok()?;
    let tree = Tree::new(repo.root());
    if !tree.is_initialised() {
        return None;
    }
    let intake = post_commit(&repo, &tree);
    for error in &intake.errors {
        crate::friction::note(
            &tree,
            crate::friction::Event::new("hook-error", "post-commit", error),
        );
    }
    let line = format!(
        "{} {} queued=[{}] already-queued=[{}] errors={}\n",
        Timestamp::now(),
        intake.commit.as_deref().unwrap_or("?"),
        intake.enqueued.join(","),
        intake.skipped_seen.join(","),
        intake.errors.len()
    );
    let log = tree.runs_dir().join("hooks.log");
    let appended = std::fs::create_dir_all(tree.runs_dir()).and_then(|_| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        f.write_all(line.as_bytes())
    });
    Some((
        intake,
        appended.err().map(|e| PathError::new("write", &log, e)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn commit_with(trailers: Vec<(String, String)>) -> CommitInfo {
        CommitInfo {
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            subject: "subject".into(),
            trailers,
            change_key: "key".into(),
            files: Vec::new(),
            branch: Some("main".into()),
        }
    }

    fn trailer_key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Agentos-Task".to_string()),
            Just("agentos-targets".to_string()),
            Just("Agentos-Agent".to_string()),
            "[A-Za-z-]{1,20}",
        ]
    }

    proptest! {
        /// Any trailers: no panic; every task is either rejected with a reason that
        /// names a field, or valid, inside the repository, and written to a file
        /// that parses back to itself.
        #[test]
        fn trailer_tasks_are_valid_or_clearly_rejected(
            pairs in proptest::collection::vec((trailer_key(), any::<String>()), 0..8)
        ) {
            for (_, task) in trailer_tasks(&commit_with(pairs)) {
                let Ok(mut task) = task else { continue };
                task.base = Some("0123456789abcdef0123456789abcdef01234567".into());
                match task::validate(&task) {
                    Err(problem) => prop_assert!(!problem.to_string().trim().is_empty()),
                    Ok(()) => {
                        for t in &task.targets {
                            prop_assert!(task::check_target(t).is_ok());
                            prop_assert!(!t.starts_with('/') && !t.split('/').any(|c| c == ".."));
                        }
                        prop_assert_eq!(task::parse(&task::write(&task)), Ok(task.clone()));
                    }
                }
            }
        }

        /// Any trigger file text: no panic; a rejection names the fields.
        #[test]
        fn trigger_files_parse_or_fail_cleanly(text in any::<String>()) {
            let _ = toml::from_str::<crate::hooks::triggers::Trigger>(&text);
        }

        /// Commit messages of any shape: git's trailer parser never panics here.
        #[test]
        fn commit_messages_of_any_shape(message in any::<String>(), key in trailer_key(), value in ".{0,40}") {
            let text = format!("{message}\n\n{key}: {value}\n");
            let _ = git2::message_trailers_strs(&text);
        }
    }
}
