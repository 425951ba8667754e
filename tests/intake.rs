//! Intake from git: the post-commit hook, triggers, templates, agents as folders.
use crate::support::{wait_until, FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Commit a change to `file`; when the hook is installed, wait until its background
/// run has logged this commit (so its effects can be checked, or their absence).
pub(crate) fn commit(repo: &TestRepo, file: &str, message: &str) -> std::process::Output {
    repo.write(file, &format!("{file} at {:?}\n", Instant::now()));
    repo.git(&["add", "-A"]);
    let mut cmd = Command::new("git");
    crate::support::seal(&mut cmd, &repo.home);
    let out = cmd
        .args(["commit", "-q", "-m", message])
        .current_dir(repo.root())
        .output()
        .expect("git commit");
    wait_for_hook(repo);
    out
}

pub(crate) fn wait_for_hook(repo: &TestRepo) {
    let installed = [".git/hooks/post-commit", "githooks/post-commit"]
        .iter()
        .any(|p| {
            std::fs::read_to_string(repo.path(p))
                .unwrap_or_default()
                .contains("git agentos: post-commit")
        });
    if !installed || !hook_has_work(repo) {
        return;
    }
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    wait_until(
        Duration::from_secs(10),
        &format!("the hook logged {head}"),
        || hook_runs_logged(repo, &head) > 0,
    );
}

/// True when the hook's shim starts the intake for HEAD: a trigger exists, or
/// the message has an `Agentos-` trailer line (without either it skips, cheaply,
/// and logs nothing).
pub(crate) fn hook_has_work(repo: &TestRepo) -> bool {
    let triggers = repo
        .files_in(".agentos/triggers")
        .iter()
        .any(|n| n.ends_with(".toml"));
    let message = repo.git(&["cat-file", "commit", "HEAD"]).to_lowercase();
    triggers || message.contains("\nagentos-")
}

/// How many runs of the hook logged commit `head`.
pub(crate) fn hook_runs_logged(repo: &TestRepo, head: &str) -> usize {
    std::fs::read_to_string(repo.path(".agentos/runs/hooks.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(head))
        .count()
}

use std::process::Command;

/// git in the repository, with its sealed environment and `env` on top (the
/// editors a rebase runs); whatever it exits with.
fn git_with_env(repo: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("git");
    crate::support::seal(&mut cmd, &repo.home);
    cmd.args(args)
        .envs(env.iter().copied())
        .current_dir(repo.root())
        .output()
        .expect("git")
}

pub(crate) fn todo_ids(repo: &TestRepo) -> Vec<String> {
    repo.files_in(".agentos/todo")
        .into_iter()
        .filter_map(|n| n.strip_suffix(".md").map(str::to_string))
        .collect()
}

#[test]
fn a_commit_with_trailers_enqueues_the_task_with_its_targets_and_base() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    let out = commit(
        &repo,
        "src/lib.rs",
        "Add the library\n\nAgentos-Task: Document the library\nAgentos-Targets: docs/lib.md, README.md\nAgentos-Agent: default",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repo
        .read(".agentos/runs/hooks.log")
        .contains("queued=[document-the-library]"));
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let text = repo.read(".agentos/todo/document-the-library.md");
    assert!(text.contains("title = \"Document the library\""), "{text}");
    assert!(
        text.contains("targets = [\"docs/lib.md\", \"README.md\"]"),
        "{text}"
    );
    assert!(text.contains("agent = \"default\""), "{text}");
    assert!(
        text.contains(&format!("base = \"{head}\"\nbase_branch = \"main\"")),
        "{text}"
    );
    // A commit without trailers or triggers enqueues nothing.
    commit(&repo, "src/other.rs", "Plain commit");
    assert_eq!(todo_ids(&repo), ["document-the-library"]);
}

#[test]
fn a_trigger_enqueues_from_its_template_only_when_its_paths_change() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    repo.write(
        ".agentos/triggers/api-tests.toml",
        "paths = [\"src/api/**\"]\ntemplate = \"tests\"\ntargets = [\"tests/api/**\"]\npriority = 2\n",
    );
    commit(&repo, "src/cli/main.rs", "Change the CLI");
    assert!(
        todo_ids(&repo).is_empty(),
        "a non-matching commit enqueues nothing"
    );
    commit(&repo, "src/api/routes.rs", "Add a route");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(todo_ids(&repo), ["tests-add-a-route"]);
    let text = repo.read(".agentos/todo/tests-add-a-route.md");
    assert!(text.contains("title = \"Tests: Add a route\""), "{text}");
    assert!(
        text.contains("targets = [\"tests/api/**\"]") && text.contains("priority = 2"),
        "{text}"
    );
    assert!(text.contains(&format!("base = \"{head}\"")), "{text}");
    assert!(
        text.contains("Write tests for the change") && text.contains("- src/api/routes.rs"),
        "{text}"
    );
    // A repository's own template overrides the built-in one.
    repo.write(
        ".agentos/templates/tests.md",
        "+++\ntitle = \"Our tests: {{title}}\"\ntargets = []\n+++\nHouse rules.\n{{body}}\n",
    );
    commit(&repo, "src/api/more.rs", "More routes");
    assert!(repo
        .read(".agentos/todo/our-tests-more-routes.md")
        .contains("House rules."));
    repo.agentos(&["templates", "list"])
        .ok()
        .stdout_has("tests        .agentos/templates/tests.md (overrides the built-in one)");
}

#[test]
fn amend_rebase_and_cherry_pick_never_enqueue_twice() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    let message = "Start\n\nAgentos-Task: Follow up\nAgentos-Targets: README.md";
    commit(&repo, "a.txt", message);
    assert_eq!(todo_ids(&repo), ["follow-up"]);
    repo.git(&["commit", "-q", "--amend", "-m", message]);
    wait_for_hook(&repo);
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    wait_for_hook(&repo);
    repo.git(&["checkout", "-q", "-b", "other", "HEAD~1"]);
    let main_head = repo.git(&["rev-parse", "main"]).trim().to_string();
    repo.git(&["cherry-pick", &main_head]);
    wait_for_hook(&repo);
    assert_eq!(
        todo_ids(&repo),
        ["follow-up"],
        "the same change is queued once"
    );
}

/// A rebase replays each commit through post-commit; a `pick` the sequencer
/// makes itself has the message and change the intake saw when the commit was
/// first made, and starts nothing. A reword in `rebase -i`, and a commit an
/// `exec` line makes, are read: a trailer added there enqueues its task.
#[test]
fn a_rebase_pick_starts_nothing_and_a_reword_is_read() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    // `.agentos/.gitignore` on both branches, so switching keeps the runtime
    // files out of `git add -A`.
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Set up git agentos"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit(
        &repo,
        "a.txt",
        "Start\n\nAgentos-Task: Follow up\nAgentos-Targets: README.md",
    );
    commit(&repo, "b.txt", "Plain work");
    assert_eq!(todo_ids(&repo), ["follow-up"]);
    repo.git(&["checkout", "-q", "main"]);
    commit(&repo, "m.txt", "Main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    let rebase = |args: &[&str], env: &[(&str, &str)]| {
        let out = git_with_env(&repo, args, env);
        assert!(out.status.success(), "{out:?}");
    };
    rebase(&["rebase", "-q", "main"], &[]);
    let replayed = repo.git(&["rev-parse", "HEAD~1"]).trim().to_string();
    // A commit made after the rebase, whose intake is waited for: a job the
    // replayed commits had started would have logged by then.
    commit(
        &repo,
        "c.txt",
        "After\n\nAgentos-Task: Later work\nAgentos-Targets: README.md",
    );
    assert_eq!(
        hook_runs_logged(&repo, &replayed),
        0,
        "a pick started the intake"
    );
    assert_eq!(todo_ids(&repo), ["follow-up", "later-work"]);
    // Reword the first commit of the branch, adding a trailer.
    rebase(
        &["rebase", "-q", "-i", "HEAD~3"],
        &[
            ("GIT_SEQUENCE_EDITOR", "sed -i '1s/^pick/reword/'"),
            (
                "GIT_EDITOR",
                "printf '\\nAgentos-Task: From a reword\\nAgentos-Targets: README.md\\n' >>",
            ),
        ],
    );
    let reworded = repo.git(&["rev-parse", "HEAD~2"]).trim().to_string();
    // An exec line that commits, in the middle of the picks.
    repo.write(
        "exec-msg.txt",
        "Exec\n\nAgentos-Task: From an exec\nAgentos-Targets: README.md\n",
    );
    rebase(
        &["rebase", "-q", "-i", "HEAD~2"],
        &[(
            "GIT_SEQUENCE_EDITOR",
            "sed -i '1a exec echo e > e.txt && git add e.txt && git commit -q -F exec-msg.txt'",
        )],
    );
    let executed = repo.git(&["rev-parse", "HEAD~1"]).trim().to_string();
    assert!(repo
        .git(&["log", "-1", "--format=%B", &reworded])
        .contains("Agentos-Task: From a reword"));
    wait_until(
        Duration::from_secs(10),
        "the reword's intake logged",
        || hook_runs_logged(&repo, &reworded) > 0,
    );
    wait_until(
        Duration::from_secs(10),
        "the exec commit's intake logged",
        || hook_runs_logged(&repo, &executed) > 0,
    );
    assert_eq!(
        todo_ids(&repo),
        ["follow-up", "from-a-reword", "from-an-exec", "later-work"],
        "the reword's and the exec's trailers are queued, the replayed ones are not queued twice"
    );
}

/// Red team (this stop): at a `--rebase-merges` rebase stopped on a conflicted
/// `merge` line the sequencer's files look much like a pick's (an author
/// script, no stopped-sha); the commit the person makes there is theirs, and read.
#[test]
fn a_commit_made_at_a_stopped_merge_of_a_rebase_is_read() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    repo.write("f.txt", "1\n2\n3\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Set up git agentos"]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    commit(&repo, "t.txt", "Topic work");
    repo.write("f.txt", "1\nX\n3\n");
    repo.git(&["commit", "-q", "-am", "Topic changes f"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("f.txt", "1\nY\n3\n");
    repo.git(&["commit", "-q", "-am", "Main changes f"]);
    let git = |args: &[&str], env: &[(&str, &str)]| git_with_env(&repo, args, env);
    let stopped = git(
        &["rebase", "-q", "-i", "--rebase-merges", "HEAD"],
        &[(
            "GIT_SEQUENCE_EDITOR",
            "sh -c 'printf \"merge topic\\n\" > \"$0\"'",
        )],
    );
    assert!(!stopped.status.success(), "the merge stops on its conflict");
    assert!(repo.exists(".git/rebase-merge/author-script"));
    repo.write("f.txt", "1\nZ\n3\n");
    repo.git(&["add", "f.txt"]);
    commit(
        &repo,
        "resolution.txt",
        "Resolve by hand\n\nAgentos-Task: From the stopped merge\nAgentos-Targets: README.md",
    );
    assert_eq!(todo_ids(&repo), ["from-the-stopped-merge"]);
    assert!(git(&["rebase", "--continue"], &[("GIT_EDITOR", "true")])
        .status
        .success());
}

#[test]
fn an_existing_hook_keeps_running_after_install_and_uninstall() {
    let repo = TestRepo::initialised();
    let mine =
        "#!/bin/sh\necho \"$(date +%s%N)\" >> \"$(git rev-parse --git-dir)/mine-ran\"\nexit 0\n";
    repo.write(".git/hooks/post-commit", mine);
    std::fs::set_permissions(
        repo.path(".git/hooks/post-commit"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    repo.agentos(&["hooks", "install"]).ok();
    repo.agentos(&["hooks", "install"]).ok(); // idempotent
    let hook = repo.read(".git/hooks/post-commit");
    assert_eq!(
        hook.matches("git agentos: post-commit (managed").count(),
        1,
        "{hook}"
    );
    repo.agentos(&["hooks", "status"])
        .ok()
        .stdout_has("installed    yes: our lines in your shell script")
        .stdout_has("runs         your shell script, which first starts git agentos's intake");
    commit(
        &repo,
        "a.txt",
        "One\n\nAgentos-Task: From a trailer\nAgentos-Targets: README.md",
    );
    assert_eq!(
        repo.read(".git/mine-ran").lines().count(),
        1,
        "the user's hook ran"
    );
    assert_eq!(todo_ids(&repo), ["from-a-trailer"]);
    repo.agentos(&["hooks", "uninstall"]).ok();
    assert_eq!(
        repo.read(".git/hooks/post-commit"),
        mine,
        "uninstall leaves the user's hook exactly as it was"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(repo.path(".git/hooks/post-commit"))
            .expect("meta")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o755, "and keeps it executable");
    commit(
        &repo,
        "b.txt",
        "Two\n\nAgentos-Task: Not queued\nAgentos-Targets: README.md",
    );
    assert_eq!(repo.read(".git/mine-ran").lines().count(), 2);
    assert_eq!(todo_ids(&repo), ["from-a-trailer"]);
    // With no hook of the user's, uninstall removes the file it created.
    std::fs::remove_file(repo.path(".git/hooks/post-commit")).expect("rm");
    repo.agentos(&["hooks", "install"]).ok();
    repo.agentos(&["hooks", "uninstall"]).ok();
    assert!(!repo.exists(".git/hooks/post-commit"));
}

#[test]
fn core_hooks_path_is_respected() {
    let repo = TestRepo::initialised();
    repo.git(&["config", "core.hooksPath", "githooks"]);
    repo.agentos(&["hooks", "install"])
        .ok()
        .stdout_has("githooks/post-commit");
    assert!(repo.exists("githooks/post-commit") && !repo.exists(".git/hooks/post-commit"));
    repo.agentos(&["hooks", "status"])
        .ok()
        .stdout_has("(from core.hooksPath)");
    commit(
        &repo,
        "a.txt",
        "X\n\nAgentos-Task: Via hooksPath\nAgentos-Targets: README.md",
    );
    assert_eq!(todo_ids(&repo), ["via-hookspath"]);
}

#[test]
fn a_broken_agentos_folder_never_fails_the_commit_and_is_logged() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    repo.write(".agentos/triggers/broken.toml", "paths = [src/**\n");
    let out = commit(
        &repo,
        "src/a.rs",
        "With a broken trigger\n\nAgentos-Task: Still queued\nAgentos-Targets: README.md",
    );
    assert!(out.status.success());
    // The hook's one line on stderr says what went wrong and where it is logged.
    let hook = repo.cmd(&["hook", "post-commit"]).output().expect("hook");
    assert!(hook.status.success());
    let stderr = String::from_utf8_lossy(&hook.stderr);
    assert!(
        stderr.contains("broken.toml") && stderr.contains("friction.jsonl"),
        "{stderr}"
    );
    assert_eq!(
        todo_ids(&repo),
        ["still-queued"],
        "the rest of the intake still works"
    );
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("\"kind\":\"hook-error\"") && friction.contains("broken.toml"),
        "{friction}"
    );
    // todo/ unwritable (a file where the folder should be): the commit still succeeds.
    std::fs::remove_file(repo.path(".agentos/triggers/broken.toml")).expect("rm");
    std::fs::rename(repo.path(".agentos/todo"), repo.path(".agentos/todo.bak")).expect("mv");
    repo.write(".agentos/todo", "not a folder");
    // Runtime state git tracks makes the hook refuse the repository: keep it out.
    repo.write(".git/info/exclude", "/.agentos/todo\n/.agentos/todo.bak\n");
    let out = commit(
        &repo,
        "b.txt",
        "Again\n\nAgentos-Task: Cannot be written\nAgentos-Targets: README.md",
    );
    assert!(out.status.success());
    assert!(repo
        .read(".agentos/runs/hooks.log")
        .lines()
        .last()
        .unwrap_or("")
        .contains("errors=1"));
    assert!(repo
        .read(".agentos/friction.jsonl")
        .contains("cannot write"));
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]).trim(), "Again");
}

#[test]
fn two_concurrent_autostarts_leave_exactly_one_dispatcher() {
    let repo = TestRepo::initialised();
    // This machine's own settings: `git add -A` below leaves them out.
    repo.write(".agentos/config.local.toml", "autostart = true\n");
    let agent = FakeAgent::plain(&repo).sleeps(300.0).build();
    repo.write(
        ".agentos/agents/default/local.toml",
        &format!("command = \"{agent}\"\nstart_timeout = \"60s\"\n"),
    );
    repo.agentos(&["hooks", "install"]).ok();
    // Two post-commit entries at once, each with work to queue.
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "A\n\nAgentos-Task: First\nAgentos-Targets: README.md",
    ]);
    let runs: Vec<_> = (0..2)
        .map(|i| {
            repo.write(&format!("f{i}"), "x");
            repo.git(&["add", "-A"]);
            repo.cmd(&["hook", "post-commit"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut r in runs {
        assert!(r.wait().expect("wait").success());
    }
    // Every autostart has happened once the commit's own (background) hook has
    // logged too: three runs in all. A `watch` that lost the lock then exits, and
    // no new one can appear.
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    wait_until(
        Duration::from_secs(10),
        "the commit's hook and both entries logged",
        || hook_runs_logged(&repo, &head) == 3,
    );
    let mut seen = Vec::new();
    wait_until(
        Duration::from_secs(5),
        "exactly one dispatcher is left",
        || {
            seen = watch_processes(&repo);
            seen.len() == 1
        },
    );
    assert_eq!(seen.len(), 1, "dispatchers running: {seen:?}");
    repo.agentos(&["status"])
        .ok()
        .stdout_has("dispatcher  running");
    for pid in seen {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// `git-agentos watch` processes whose working folder is this repository.
fn watch_processes(repo: &TestRepo) -> Vec<i32> {
    let root = repo.root();
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter(|pid| {
                    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
                    let is_watch =
                        args.len() >= 2 && args[0].ends_with(b"git-agentos") && args[1] == b"watch";
                    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
                    is_watch && cwd.as_deref() == Some(root.as_path())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn agents_are_folders() {
    let repo = TestRepo::initialised();
    repo.agentos(&["agent", "new", "docs"])
        .ok()
        .stdout_has("created .agentos/agents/docs/");
    assert!(
        repo.exists(".agentos/agents/docs/AGENT.md")
            && repo.exists(".agentos/agents/docs/agent.toml")
    );
    repo.agentos(&["agent", "new", "docs"])
        .code(2)
        .stderr_has("already exists");
    let list = repo.agentos(&["agent", "list"]).ok();
    list.stdout_has("default")
        .stdout_has("docs")
        .stdout_has("timeout 30m, sandbox on");
    repo.agentos_env(&["agent", "list"], &[("AGENTOS_SANDBOX_UNAVAILABLE", "1")])
        .ok()
        .stdout_has("default          claude, timeout 30m, sandbox off");
    repo.agentos(&["add", "X", "-t", "README.md", "--agent", "nope"])
        .code(2)
        .stderr_has("agents here: default, docs");
    // A task in todo/<agent>/ runs with that agent's instructions.
    let agent = FakeAgent::new(&repo)
        .runs("cp \"$AGENTOS_PROMPT_FILE\" README.md")
        .build();
    repo.write(
        ".agentos/agents/docs/AGENT.md",
        "You write documentation.\n",
    );
    repo.write(
        ".agentos/todo/docs/readme.md",
        "+++\ntitle = \"Docs task\"\ntargets = [\"README.md\"]\n+++\n",
    );
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(repo
        .git(&["show", "agentos/readme:README.md"])
        .contains("You write documentation."));
    // A task for an agent with no folder fails with the folders that exist.
    repo.write(
        ".agentos/todo/ghost/x.md",
        "+++\ntitle = \"Ghost\"\ntargets = [\"README.md\"]\n+++\n",
    );
    // The file cannot run (no agent `ghost`); an invalid file younger than a
    // second may still be being written, so the clock is set far past its mtime.
    repo.agentos_env(
        &["run"],
        &[
            ("AGENTOS_AGENT_CMD", &agent),
            ("AGENTOS_NOW", "2099-01-01T00:00:00Z"),
        ],
    )
    .code(1);
    assert!(repo
        .read(".agentos/failed/x.reason")
        .contains("no agent `ghost`"));
}

#[test]
fn add_from_a_template() {
    let repo = TestRepo::initialised();
    repo.agentos(&[
        "add",
        "The login crash",
        "-t",
        "src/login.rs",
        "--template",
        "bugfix",
        "--body",
        "It crashes on empty input.",
    ])
    .ok()
    .stdout_has("fix-the-login-crash");
    let text = repo.read(".agentos/todo/fix-the-login-crash.md");
    assert!(
        text.contains("title = \"Fix: The login crash\"")
            && text.contains("It crashes on empty input."),
        "{text}"
    );
    assert!(text.contains("targets = [\"src/login.rs\"]"), "{text}");
    repo.agentos(&["add", "X", "-t", "a", "--template", "nope"])
        .code(2)
        .stderr_has("no template `nope`");
}
