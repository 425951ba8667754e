//! Intake from git: the post-commit hook (installed as a one-line shim between
//! markers, beside whatever hook was there) and what it does after each commit:
//! enqueue a task per `Agentos-Task:` trailer and per matching trigger, once per
//! change, then wake (or autostart) the dispatcher. It never dispatches and never
//! fails the commit. The shim starts the entry in the background, so a commit
//! waits for nothing; each run leaves a line in `.agentos/runs/hooks.log`.
use crate::config;
use crate::error::{io_error, CmdResult};
use crate::git::{CommitInfo, Repo};
use crate::layout::Tree;
use crate::lock::DispatcherLock;
use crate::queue;
use crate::task::{self, Task};
use crate::templates;
use crate::timestamp::Timestamp;
use serde::Deserialize;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

const START: &str = "# >>> git agentos: post-commit (managed by `git agentos hooks`) >>>";
const END: &str = "# <<< git agentos: post-commit <<<";
const SHIM: &str = include_str!("../hooks/post-commit");

/// The hook block, with this binary's path as the fallback when `git-agentos` is
/// not on the PATH git gives hooks.
fn block() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "git-agentos".into());
    format!(
        "{START}\n{}{END}\n",
        SHIM.replace("{{exe}}", &exe.replace('\'', "'\\''"))
    )
}

/// Where the post-commit hook lives, and whether `core.hooksPath` put it there.
pub fn hook_path(repo: &Repo) -> CmdResult<(PathBuf, bool)> {
    let (dir, from_config) = repo.hooks_dir()?;
    Ok((dir.join("post-commit"), from_config))
}

/// Remove our block (if any) from a hook's text.
fn without_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        match line.trim_end() {
            l if l == START => inside = true,
            l if l == END => inside = false,
            _ if !inside => out.push_str(line),
            _ => {}
        }
    }
    out
}

/// Install (or refresh) the shim. An existing hook keeps every line: the block goes
/// right after its `#!` line, so an `exit` in the user's script cannot skip it.
pub fn install(repo: &Repo) -> CmdResult<PathBuf> {
    let (path, _) = hook_path(repo)?;
    let existing = std::fs::read_to_string(&path).ok();
    let base = existing.as_deref().map(without_block).unwrap_or_default();
    let text = if base.trim().is_empty() {
        format!("#!/bin/sh\n{}", block())
    } else if base.starts_with("#!") {
        let (shebang, rest) = base.split_once('\n').unwrap_or((&base, ""));
        format!("{shebang}\n{}{rest}", block())
    } else {
        format!("#!/bin/sh\n{}{base}", block())
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    }
    crate::durable::write(&path, text.as_bytes()).map_err(|e| io_error("write", &path, e))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| io_error("make executable", &path, e))?;
    Ok(path)
}

/// Remove our lines; a hook left with nothing but its `#!` line is removed.
/// Returns the hook's path when something was removed.
pub fn uninstall(repo: &Repo) -> CmdResult<Option<PathBuf>> {
    let (path, _) = hook_path(repo)?;
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    if !text.contains(START) {
        return Ok(None);
    }
    let rest = without_block(&text);
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || (l.starts_with("#!") && rest.starts_with(l)));
    if only_shebang {
        std::fs::remove_file(&path).map_err(|e| io_error("remove", &path, e))?;
    } else {
        // Keep the hook's own permissions (a hook that is not executable never runs).
        let permissions = std::fs::metadata(&path)
            .map_err(|e| io_error("read", &path, e))?
            .permissions();
        crate::durable::write(&path, rest.as_bytes()).map_err(|e| io_error("write", &path, e))?;
        std::fs::set_permissions(&path, permissions)
            .map_err(|e| io_error("restore the permissions of", &path, e))?;
    }
    Ok(Some(path))
}

/// What is installed where.
pub struct HookStatus {
    pub path: PathBuf,
    pub from_hooks_path: bool,
    pub installed: bool,
    /// The hook also runs lines that are not ours.
    pub chained: bool,
    pub executable: bool,
}

pub fn status(repo: &Repo) -> CmdResult<HookStatus> {
    let (path, from_hooks_path) = hook_path(repo)?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let rest = without_block(&text);
    use std::os::unix::fs::PermissionsExt;
    Ok(HookStatus {
        installed: text.contains(START),
        chained: rest
            .lines()
            .any(|l| !l.trim().is_empty() && !l.starts_with("#!")),
        executable: std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false),
        path,
        from_hooks_path,
    })
}

/// `.agentos/triggers/<name>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Globs over the commit's changed paths; any match fires the trigger.
    pub paths: Vec<String>,
    /// The task template (built-in or .agentos/templates/<name>.md).
    pub template: String,
    /// The task's targets.
    pub targets: Vec<String>,
    /// The `{{title}}` given to the template; may use `{{subject}}` and `{{commit}}`.
    pub title: Option<String>,
    pub agent: Option<String>,
    pub priority: Option<i64>,
}

/// Read every trigger; a broken one is an error naming its file.
pub fn load_triggers(tree: &Tree) -> Vec<Result<(String, Trigger), String>> {
    let dir = tree.dir.join("triggers");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let trigger: Trigger = toml::from_str(&text).map_err(|e| {
                format!(
                    "{}: {} (fields: paths, template, targets, title, agent, priority)",
                    path.display(),
                    e.message().trim()
                )
            })?;
            Ok((name, trigger))
        })
        .collect()
}

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
            intake.errors.push(e.message);
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
            Err(e) => intake.errors.push(e),
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
            Err(e) => intake.errors.push(e.message),
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

fn trigger_task(
    tree: &Tree,
    name: &str,
    trigger: &Trigger,
    commit: &CommitInfo,
) -> Option<Result<Task, String>> {
    let set = match crate::paths::glob_set(&trigger.paths) {
        Ok(set) => set,
        Err(e) => {
            return Some(Err(format!(
                "{}/triggers/{name}.toml: field `paths`: {e}",
                tree.dir.display()
            )))
        }
    };
    let matched: Vec<&String> = commit.files.iter().filter(|f| set.is_match(f)).collect();
    if matched.is_empty() {
        return None;
    }
    let files: String = matched.iter().map(|f| format!("- {f}\n")).collect();
    let short = &commit.sha[..commit.sha.len().min(12)];
    let title = trigger
        .title
        .clone()
        .unwrap_or_else(|| "{{subject}}".to_string())
        .replace("{{subject}}", &commit.subject)
        .replace("{{commit}}", short);
    let body = format!(
        "Commit {} (\"{}\") changed files that trigger `{name}` watches:\n{files}",
        commit.sha, commit.subject
    );
    let targets = trigger.targets.join(", ");
    let vars = [
        ("title", title.as_str()),
        ("body", body.as_str()),
        ("commit", commit.sha.as_str()),
        ("subject", commit.subject.as_str()),
        ("files", files.as_str()),
        ("targets", targets.as_str()),
    ];
    let rendered = templates::load(tree, &trigger.template)
        .and_then(|text| templates::render(&text, &trigger.template, &vars))
        .map_err(|e| format!("{}/triggers/{name}.toml: {}", tree.dir.display(), e.message));
    Some(rendered.map(|mut task| {
        task.targets = trigger.targets.clone();
        if trigger.agent.is_some() {
            task.agent = trigger.agent.clone();
        }
        if let Some(p) = trigger.priority {
            task.priority = p;
        }
        task
    }))
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
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
    ] {
        cmd.env_remove(var);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn()?;
    Ok(true)
}

/// Run the post-commit entry for the repository at `dir`, report, never fail.
pub fn run_post_commit(dir: &Path) -> CmdResult {
    let Ok(repo) = Repo::discover(dir) else {
        return Ok(());
    };
    let tree = Tree::new(repo.root());
    if !tree.is_initialised() {
        return Ok(());
    }
    let intake = post_commit(&repo, &tree);
    for id in &intake.enqueued {
        eprintln!("git agentos: queued {id}");
    }
    for error in &intake.errors {
        crate::friction::note(
            &tree,
            crate::friction::Event::new("hook-error", "post-commit", error),
        );
    }
    // One line per run, so a person (or a test) can see what each commit queued.
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
    if let Err(e) = appended {
        eprintln!(
            "git agentos: post-commit: cannot write {}: {e}",
            log.display()
        );
    }
    if let Some(first) = intake.errors.first() {
        let more = intake.errors.len() - 1;
        let more = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        eprintln!("git agentos: post-commit: {first}{more}; logged to .agentos/friction.jsonl");
    }
    Ok(())
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
            let _ = toml::from_str::<Trigger>(&text);
        }

        /// Commit messages of any shape: git's trailer parser never panics here.
        #[test]
        fn commit_messages_of_any_shape(message in any::<String>(), key in trailer_key(), value in ".{0,40}") {
            let text = format!("{message}\n\n{key}: {value}\n");
            let _ = git2::message_trailers_strs(&text);
        }
    }
}
