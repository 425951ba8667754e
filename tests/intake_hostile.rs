//! Issue #16, cases 3–8: what the post-commit hook queues under hostile input:
//! an agent's own commits, commit text that looks like shell, the same change
//! seen again, odd encodings and huge commits.
use crate::intake::{commit, hook_runs_logged, todo_ids, wait_for_hook};
use crate::support::{seal, FakeAgent, TestRepo};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The files of a repository (outside .git) whose names start with `pwned`.
fn pwned_files(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("pwned") {
                found.push(e.path().display().to_string());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) && name != ".git" {
                stack.push(e.path());
            }
        }
    }
    found
}

pub(crate) fn set_identity(repo: &TestRepo) {
    repo.git(&["config", "user.name", "Test Author"]);
    repo.git(&["config", "user.email", "author@example.com"]);
}

/// Case 3: an agent's commits in its worktree (and any commit made with an
/// agent's environment) queue nothing, and a trigger never fires on the output
/// of a task it queued, even when a person cherry-picks that output.
#[test]
fn case03_an_agents_own_commits_never_queue_work() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    repo.agentos(&["hooks", "install"]).ok();
    repo.write(
        ".agentos/triggers/refactor.toml",
        "paths = [\"src/**\"]\ntemplate = \"refactor\"\ntargets = [\"src/**\"]\ntitle = \"agent work\"\n",
    );
    commit(&repo, "src/a.rs", "Start the work");
    assert_eq!(todo_ids(&repo), ["refactor-agent-work"]);
    let task = repo.read(".agentos/todo/refactor-agent-work.md");
    assert!(
        task.contains("triggered_by = [\"refactor\"]") && task.contains("source_change = \""),
        "the task records the trigger and the change it came from:\n{task}"
    );
    // The sandbox already stops an agent from committing (refs lie outside its
    // boundary); it is turned off here to prove the hook's own defence.
    let toml = repo.path(".agentos/agents/default/agent.toml");
    let text = std::fs::read_to_string(&toml).unwrap_or_default();
    repo.write(
        ".agentos/agents/default/agent.toml",
        &format!("sandbox = \"off\"\n{text}"),
    );
    // The agent changes files the trigger watches, commits them itself with a
    // trailer asking for more work, and leaves one more change for the dispatcher.
    let shas = repo.dir.path().join("agent-commit");
    let agent = FakeAgent::new(&repo)
        .writes("src/b.rs", "b\n")
        .writes(
            "msg",
            "Agent work\n\nAgentos-Task: More work\nAgentos-Targets: src/c.rs\n",
        )
        .runs("git add src/b.rs && git commit -q -F msg && rm msg")
        .runs(&format!("git rev-parse HEAD > '{}'", shas.display()))
        .writes("src/d.rs", "d\n")
        .build();
    repo.agentos_env(
        &["run", "--no-pr", "--keep"],
        &[("AGENTOS_AGENT_CMD", &agent)],
    )
    .ok();
    let agent_commit = std::fs::read_to_string(&shas).expect("the agent committed");
    let agent_commit = agent_commit.trim();
    crate::support::wait_until(
        Duration::from_secs(10),
        "the hook logged the agent's commit",
        || hook_runs_logged(&repo, agent_commit) > 0,
    );
    let log = repo.read(".agentos/runs/hooks.log");
    let line = log
        .lines()
        .find(|l| l.contains(agent_commit))
        .unwrap_or_default();
    assert!(
        line.contains("ignored: made in the worktree of task refactor-agent-work"),
        "{line}"
    );
    assert!(todo_ids(&repo).is_empty(), "{:?}", todo_ids(&repo));

    // A commit made with an agent's environment, even in the main checkout.
    repo.write("src/e.rs", "e\n");
    repo.git(&["add", "-A"]);
    let mut cmd = Command::new("git");
    seal(&mut cmd, &repo.home);
    let out = cmd
        .args([
            "commit",
            "-q",
            "-m",
            "Sneaky\n\nAgentos-Task: Sneak\nAgentos-Targets: x",
        ])
        .env("AGENTOS_TASK_ID", "refactor-agent-work")
        .current_dir(repo.root())
        .output()
        .expect("commit");
    assert!(out.status.success());
    wait_for_hook(&repo);
    let log = repo.read(".agentos/runs/hooks.log");
    assert!(
        log.lines()
            .last()
            .unwrap_or_default()
            .contains("ignored: made by an agent (AGENTOS_TASK_ID=refactor-agent-work)"),
        "{log}"
    );
    assert!(todo_ids(&repo).is_empty());

    // The task's output brought to main by a person: the agent's own commit and
    // the dispatcher's. The trigger that queued the task does not fire on it, and
    // the agent's trailer queues nothing.
    let branch = repo.git(&["rev-list", "--reverse", "main..agentos/refactor-agent-work"]);
    let picks: Vec<&str> = branch.lines().collect();
    assert_eq!(picks.len(), 2, "{branch}");
    for pick in picks {
        repo.git(&["cherry-pick", pick]);
        wait_for_hook(&repo);
        let log = repo.read(".agentos/runs/hooks.log");
        let last = log.lines().last().unwrap_or_default();
        assert!(
            last.contains("refused=[") && last.contains("trigger:refactor]"),
            "a chain is refused: {last}"
        );
    }
    assert!(todo_ids(&repo).is_empty(), "{:?}", todo_ids(&repo));
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction
            .contains("is the output of task refactor-agent-work, which trigger `refactor` queued"),
        "{friction}"
    );
}

/// Case 4 (and red-team finding 06): text from a commit (subject, body, file
/// names) never becomes part of a `verify` command's text. A template's verify
/// commands take the values as environment variables, even through a shell that
/// reads its argument as code; a placeholder there is refused, naming the
/// template and the variable to use.
#[test]
fn case04_commit_text_never_reaches_the_shell_through_verify() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    repo.agentos(&["hooks", "install"]).ok();
    // Verify commands run inside the sandbox: their output goes to the one
    // folder outside the worktree it lets them write.
    let out_path = repo.scratch().join("verify-out");
    let out = out_path.display();
    let print = |var: &str| format!("  \"printf '%s\\\\n' \\\"${var}\\\" >> {out}\",\n");
    repo.write(
        ".agentos/templates/checks.md",
        &format!(
            "+++\ntitle = \"Check: {{{{title}}}}\"\ntargets = []\nverify = [\n{}{}{}{}  \"printf '%s\\\\n' {{{{commit}}}} >> {out}\",\n  \"sh -ec 'printf %s\\\\\\\\n \\\"$AGENTOS_SUBJECT\\\"' >> {out}\",\n]\n+++\n{{{{body}}}}\n",
            print("AGENTOS_SUBJECT"),
            print("AGENTOS_TASK_TITLE"),
            print("AGENTOS_FILES"),
            print("AGENTOS_BODY"),
        ),
    );
    repo.write(
        ".agentos/triggers/checks.toml",
        "paths = [\"src/**\"]\ntemplate = \"checks\"\ntargets = [\"src/**\"]\n",
    );
    // Each way the red team found to read a quoted value as code again.
    for (n, command) in [
        "sh -ec 'echo checking {{subject}}'",
        "echo {{subject}} | sh",
        "bash -lc \\\"echo {{subject}}\\\"",
        "'sh' -c 'echo {{subject}}'",
        "trap 'echo done {{subject}}' EXIT",
        "python3 -c 'print(\\\"{{subject}}\\\")'",
        "test -n \\\"$(echo {{body}})\\\"",
        "echo {{files}}",
    ]
    .iter()
    .enumerate()
    {
        repo.write(
            &format!(".agentos/templates/unsafe{n}.md"),
            &format!("+++\ntitle = \"Unsafe: {{{{title}}}}\"\ntargets = []\nverify = [\"{command}\"]\n+++\n"),
        );
        repo.write(
            &format!(".agentos/triggers/unsafe{n}.toml"),
            &format!("paths = [\"src/**\"]\ntemplate = \"unsafe{n}\"\ntargets = [\"src/**\"]\n"),
        );
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "The templates"]);
    let subject = "y $(touch pwned-1) `touch pwned-2`; touch pwned-3 'q\" \\";
    let body = "$(touch pwned-4)\n`touch pwned-5`; touch pwned-6 \"'";
    let file = "src/$(touch pwned-7);touch pwned-8 `touch pwned-9` 'q\".rs";
    commit(&repo, file, &format!("{subject}\n\n{body}"));
    let ids = todo_ids(&repo);
    assert_eq!(ids.len(), 1, "only the checks task is queued: {ids:?}");
    let friction = repo.read(".agentos/friction.jsonl");
    for n in 0..8 {
        assert!(
            friction.contains(&format!(".agentos/templates/unsafe{n}.md")),
            "template {n} refused: {friction}"
        );
    }
    assert!(
        friction.contains("AGENTOS_SUBJECT") && friction.contains("AGENTOS_BODY"),
        "{friction}"
    );
    let agent = FakeAgent::new(&repo).writes("src/ok.rs", "ok\n").build();
    repo.agentos_env(
        &["run", "--no-pr", "--keep"],
        &[("AGENTOS_AGENT_CMD", &agent)],
    )
    .ok();
    assert_eq!(pwned_files(repo.dir.path()), Vec::<String>::new());
    let printed = std::fs::read_to_string(&out_path).expect("verify ran");
    let sha = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    // Each value arrives as the text it was, through `sh -ec` too.
    let expected = format!("{subject}\nCheck: {subject}\n{file}\n{body}\n{sha}\n{subject}\n");
    assert_eq!(printed, expected);
    let task = repo.read(".agentos/done/check-y-touch-pwned-1-touch-pwned-2-touch-pwned-3-q.md");
    assert!(
        !task.contains(body),
        "the commit's body is never rendered: {task}"
    );
}

/// Case 5: a task that could not be written is not remembered: after the fix, an
/// amend of the same change queues it.
#[test]
fn case05_a_failed_enqueue_is_not_remembered() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    std::fs::rename(repo.path(".agentos/todo"), repo.path(".agentos/todo.bak")).expect("mv");
    repo.write(".agentos/todo", "not a folder");
    // Runtime state git tracks makes the hook refuse the repository: keep it out.
    repo.write(".git/info/exclude", "/.agentos/todo\n/.agentos/todo.bak\n");
    commit(
        &repo,
        "a.txt",
        "Later\n\nAgentos-Task: Written later\nAgentos-Targets: README.md",
    );
    let log = repo.read(".agentos/runs/hooks.log");
    assert!(
        log.lines().last().unwrap_or_default().contains("errors=1"),
        "{log}"
    );
    std::fs::remove_file(repo.path(".agentos/todo")).expect("rm");
    std::fs::rename(repo.path(".agentos/todo.bak"), repo.path(".agentos/todo")).expect("mv");
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    wait_for_hook(&repo);
    assert_eq!(todo_ids(&repo), ["written-later"]);
}

/// Case 6: the dedup key is the change: quick commits with one subject are four
/// changes; an amend, a reword and a cherry-pick of one are not; two trailers
/// with one title and different targets are two tasks.
#[test]
fn case06_the_dedup_key_is_the_change_itself() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    repo.write(
        ".agentos/triggers/t.toml",
        "paths = [\"src/**\"]\ntemplate = \"tests\"\ntargets = [\"tests/**\"]\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Add the trigger"]);
    for n in 1..=4 {
        commit(&repo, &format!("src/{n}.rs"), "wip");
    }
    let expected = ["tests-wip-2", "tests-wip-3", "tests-wip-4", "tests-wip"];
    assert_eq!(todo_ids(&repo), expected, "four changes, four tasks");
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    wait_for_hook(&repo);
    repo.git(&["commit", "-q", "--amend", "-m", "reworded wip"]);
    wait_for_hook(&repo);
    let main_head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["checkout", "-q", "-b", "other", "HEAD~1"]);
    repo.git(&["cherry-pick", &main_head]);
    wait_for_hook(&repo);
    assert_eq!(todo_ids(&repo), expected, "the same change is queued once");
    let log = repo.read(".agentos/runs/hooks.log");
    assert!(
        log.lines()
            .last()
            .unwrap_or_default()
            .contains("already-queued=[trigger:t]"),
        "{log}"
    );
    // A different change under the same subject is a new one.
    repo.write("src/4.rs", "changed again\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    wait_for_hook(&repo);
    assert_eq!(todo_ids(&repo).len(), 5);

    commit(
        &repo,
        "a.txt",
        "Two asks\n\nAgentos-Task: Fix it\nAgentos-Targets: docs/a.md\nAgentos-Task: Fix it\nAgentos-Targets: docs/b.md",
    );
    assert!(repo
        .read(".agentos/todo/fix-it.md")
        .contains("targets = [\"docs/a.md\"]"));
    assert!(repo
        .read(".agentos/todo/fix-it-2.md")
        .contains("targets = [\"docs/b.md\"]"));
}

/// Case 7: a latin1 message is decoded by its `encoding` header, folded trailers
/// are unfolded as git does, and a file name that is not UTF-8 still fires its
/// trigger, with a note that says so.
#[test]
fn case07_encodings_folded_trailers_and_non_utf8_names_are_read() {
    use std::os::unix::ffi::OsStrExt;
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    repo.git(&["config", "i18n.commitEncoding", "latin1"]);
    repo.write("a.txt", "a\n");
    repo.git(&["add", "-A"]);
    let message = repo.dir.path().join("message");
    std::fs::write(
        &message,
        b"Caf\xe9 au lait\n\nAgentos-Task: R\xe9sum\xe9 the docs\nAgentos-Targets: README.md\nAgentos-Task: Plain ascii\nAgentos-Targets: README.md\n",
    )
    .expect("write");
    repo.git(&["commit", "-q", "-F", message.to_str().expect("utf8")]);
    wait_for_hook(&repo);
    assert_eq!(todo_ids(&repo), ["plain-ascii", "r-sum-the-docs"]);
    let task = repo.read(".agentos/todo/r-sum-the-docs.md");
    assert!(
        task.contains("title = \"Résumé the docs\"") && task.contains("Café au lait"),
        "{task}"
    );
    repo.git(&["config", "--unset", "i18n.commitEncoding"]);

    commit(
        &repo,
        "b.txt",
        "Fold\n\nAgentos-Task: Document the\n  long feature\nAgentos-Targets: README.md,\n  docs/x.md",
    );
    let task = repo.read(".agentos/todo/document-the-long-feature.md");
    assert!(
        task.contains("title = \"Document the long feature\"")
            && task.contains("targets = [\"README.md\", \"docs/x.md\"]"),
        "{task}"
    );

    repo.write(
        ".agentos/triggers/data.toml",
        "paths = [\"data/**\"]\ntemplate = \"docs\"\ntargets = [\"docs/**\"]\n",
    );
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.csv");
    std::fs::create_dir_all(repo.path("data")).expect("mkdir");
    std::fs::write(repo.path("data").join(name), "1,2\n").expect("write");
    commit(&repo, "c.txt", "Add data");
    let task = repo.read(".agentos/todo/docs-add-data.md");
    assert!(task.contains("- data/caf\\xE9.csv"), "{task}");
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("not UTF-8") && friction.contains("data/caf\\\\xE9.csv"),
        "{friction}"
    );
}

/// Case 8: a commit too big for one task file: `{{files}}` is shortened (the count
/// and the first files) with a note, and a task that still cannot fit is not
/// written, with the reason in the friction log.
#[test]
fn case08_a_huge_commit_never_writes_a_task_that_cannot_run() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    repo.write(
        ".agentos/triggers/big.toml",
        "paths = [\"big/**\"]\ntemplate = \"tests\"\ntargets = [\"tests/**\"]\n",
    );
    // 5,000 files with 245-byte names: the list alone is over 1 MiB.
    let write_big = |content: &str| {
        std::fs::create_dir_all(repo.path("big")).expect("mkdir");
        for n in 0..5000 {
            let name = format!("big/{}{n:05}", "n".repeat(240));
            std::fs::write(repo.path(&name), content).expect("write");
        }
    };
    write_big("x");
    commit(&repo, "a.txt", "Many files");
    assert_eq!(todo_ids(&repo), ["tests-many-files"]);
    let path = repo.path(".agentos/todo/tests-many-files.md");
    let size = std::fs::metadata(&path).expect("task").len();
    assert!(size < 1024 * 1024, "{size} bytes");
    let task = repo.read(".agentos/todo/tests-many-files.md");
    assert!(
        task.contains("and 4800 more (5000 files in all)"),
        "{}",
        &task[..2000.min(task.len())]
    );
    repo.agentos(&["list"]).ok().stdout_has("tests-many-files");
    assert!(!repo.agentos(&["status"]).ok().stdout.contains("invalid"));
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(friction.contains("shortened"), "{friction}");

    // A task too big even with the list shortened: nothing is written, and
    // friction says why.
    repo.write(
        ".agentos/templates/tests.md",
        &format!(
            "+++\ntitle = \"Huge: {{{{title}}}}\"\ntargets = []\n+++\n{}\n{{{{files}}}}",
            "x".repeat(1000 * 1024)
        ),
    );
    write_big("y");
    commit(&repo, "big/one-more", "One more");
    assert_eq!(todo_ids(&repo), ["tests-many-files"]);
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("over the 1 MiB limit") && friction.contains("not written"),
        "{friction}"
    );
}
