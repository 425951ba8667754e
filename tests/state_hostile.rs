//! Red-team findings against #16 on git agentos's own state: a state file that
//! is a link (01), planted by an agent's change (01b), a trigger that is a link
//! to /dev/zero (02), rapid commits (05), a cloned repository that turns on
//! autostart and its own agent command (07), and a commit with thousands of
//! trailers (17).
use crate::intake::{commit, todo_ids, wait_for_hook};
use crate::intake_hostile::set_identity;
use crate::support::{seal, FakeAgent, TestRepo};
use std::process::Command;

/// 01: a committed `.agentos/friction.jsonl -> ../.git/hooks/post-commit` and a
/// trigger whose name holds `$(…)`: the hook follows no link, writes nothing
/// into the hook script, and says why on stderr. Tracked runtime state is
/// refused too.
#[test]
fn f01_a_state_file_that_is_a_link_is_never_written_through() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    repo.agentos(&["hooks", "install"]).ok();
    let hook = repo.path(".git/hooks/post-commit");
    let before = std::fs::read(&hook).expect("hook");
    repo.write(
        ".agentos/triggers/$(touch PWNED).toml",
        "paths = [\"x/**\"]\n",
    );
    std::os::unix::fs::symlink(
        "../.git/hooks/post-commit",
        repo.path(".agentos/friction.jsonl"),
    )
    .expect("link");
    repo.git(&["add", "-A"]);
    repo.git(&["add", "-f", ".agentos/friction.jsonl"]);
    repo.git(&["commit", "-q", "-m", "project"]);
    for _ in 0..2 {
        let out = repo.cmd(&["hook", "post-commit"]).output().expect("hook");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(".agentos/friction.jsonl") && stderr.contains("symbolic link"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read(&hook).expect("hook"),
        before,
        "the hook is unchanged"
    );
    assert!(!repo.exists("PWNED"));
    // Runtime state git tracks (not a link) is refused as well.
    std::fs::remove_file(repo.path(".agentos/friction.jsonl")).expect("rm");
    repo.write(".agentos/hook.seen", "");
    repo.git(&["add", "-A"]);
    repo.git(&["add", "-f", ".agentos/hook.seen"]);
    repo.git(&["commit", "-q", "-m", "track the ledger"]);
    let out = repo.cmd(&["hook", "post-commit"]).output().expect("hook");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".agentos/hook.seen") && stderr.contains("git rm -r --cached"),
        "{stderr}"
    );
}

/// 01b: an agent whose targets cover `.agentos/**` drops `/friction.jsonl` from
/// `.agentos/.gitignore` and leaves the link and the trigger: the verifier
/// fails the task, naming each.
#[test]
fn f01b_the_verifier_refuses_links_into_git_and_our_own_names() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "agentos"]);
    repo.agentos(&["add", "Tidy the settings", "--target", ".agentos/**"])
        .ok();
    let agent = FakeAgent::new(&repo)
        .runs(
            "mkdir -p .agentos/triggers; \
             printf 'paths = [\"x\"]\\n' > .agentos/triggers/planted.toml; \
             sed -i /friction.jsonl/d .agentos/.gitignore; \
             ln -s ../.git/hooks/post-commit .agentos/friction.jsonl; \
             ln -s .git docs-git",
        )
        .build();
    repo.agentos_env(
        &["run", "--once", "--no-pr"],
        &[("AGENTOS_AGENT_CMD", &agent)],
    );
    assert!(
        repo.files_in(".agentos/failed")
            .contains(&"tidy-the-settings.md".to_string()),
        "{:?}",
        repo.files_in(".agentos/done")
    );
    let report = repo.agentos(&["show", "tidy-the-settings"]).stdout;
    let report = format!(
        "{report}{}",
        repo.read(".agentos/failed/tidy-the-settings.md")
    );
    let verify = repo.agentos(&["verify", "tidy-the-settings"]).stdout;
    for needle in [
        "`.agentos/.gitignore` is git agentos's own",
        "`.agentos/friction.jsonl` is runtime state",
        "`.agentos/friction.jsonl` is a symbolic link to `../.git/hooks/post-commit`, into the repository's .git folder",
        "`docs-git` is a symbolic link to `.git`, into the repository's .git folder",
    ] {
        assert!(verify.contains(needle), "{needle}\n{verify}\n{report}");
    }
}

/// 02: a committed trigger that is a link to /dev/zero is refused unread, by
/// the hook and by `hooks status`.
#[test]
fn f02_a_trigger_linked_to_dev_zero_is_refused_unread() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    std::fs::create_dir_all(repo.path(".agentos/triggers")).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", repo.path(".agentos/triggers/zero.toml"))
        .expect("link");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "a trigger"]);
    let mut cmd = Command::new("sh");
    seal(&mut cmd, &repo.home);
    // 1 GiB of address space: reading /dev/zero whole would fail the run.
    let out = cmd
        .args(["-c", "ulimit -v 1048576; exec \"$0\" hook post-commit"])
        .arg(crate::support::BIN)
        .current_dir(repo.root())
        .output()
        .expect("hook");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("zero.toml") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    // Every command refuses a repository whose shared files link out of it.
    repo.agentos(&["hooks", "status"])
        .code(3)
        .stderr_has("`.agentos/triggers/zero.toml` is a symbolic link to `/dev/zero`");
}

/// 05: 40 commits in a row, each with its own trailer: each is read as the
/// commit that fired the hook (HEAD has moved on by then), none is lost.
#[test]
fn f05_rapid_commits_each_queue_their_own_task() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    repo.agentos(&["hooks", "install"]).ok();
    for i in 1..=40 {
        let message = format!("change {i}\n\nAgentos-Task: Task {i}\nAgentos-Targets: README.md");
        repo.write(&format!("f{i}"), "x\n");
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", &message]);
    }
    wait_for_hook(&repo);
    crate::support::wait_until(
        std::time::Duration::from_secs(30),
        "40 tasks queued",
        || todo_ids(&repo).len() >= 40,
    );
    let mut ids = todo_ids(&repo);
    ids.sort();
    let mut want: Vec<String> = (1..=40).map(|i| format!("task-{i}")).collect();
    want.sort();
    assert_eq!(ids, want);
}

/// 07: a cloned repository's tracked config.toml turns on autostart and its
/// agent.toml sets its own command: neither is taken; the friction log and the
/// task's reason say where to opt in. The same command in the local file is
/// taken.
#[test]
fn f07_autostart_and_command_count_only_from_untracked_files() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    let command = |who: &str| format!("command = \"sh -c 'echo {who}-command-ran >&2; exit 3'\"\n");
    repo.write(".agentos/config.toml", "autostart = true\n");
    repo.write(
        ".agentos/triggers/any.toml",
        "paths = [\"**\"]\ntemplate = \"docs\"\ntargets = [\"README.md\"]\n",
    );
    repo.write(
        ".agentos/agents/default/agent.toml",
        &format!("{}output = \"plain\"\n", command("tracked")),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "project"]);
    repo.agentos(&["hooks", "install"]).ok();
    commit(&repo, "README.md", "my change");
    let ids = todo_ids(&repo);
    assert_eq!(ids.len(), 1, "the trigger still queues");
    assert!(
        !repo.exists(".agentos/dispatcher.lock"),
        "no dispatcher was started"
    );
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("`autostart` is not taken from a file git tracks")
            && friction.contains(".agentos/config.local.toml"),
        "{friction}"
    );
    let reason = format!(".agentos/failed/{}.reason", ids[0]);
    repo.agentos(&["run", "--once", "--no-pr"]);
    let why = repo.read(&reason);
    assert!(
        why.contains("`command` is not taken from a file git tracks")
            && why.contains(".agentos/agents/default/local.toml")
            && !why.contains("tracked-command-ran"),
        "{why}"
    );
    // Opting in on this machine: the local file, which git ignores.
    repo.write(".agentos/agents/default/local.toml", &command("local"));
    assert_eq!(
        repo.git(&["status", "--porcelain", "--", ".agentos/agents"]),
        ""
    );
    repo.agentos(&["retry", &ids[0]]).ok();
    repo.agentos(&["run", "--once", "--no-pr"]);
    let why = repo.read(&reason);
    assert!(why.contains("local-command-ran"), "{why}");
}

/// 17: a commit with 3,000 `Agentos-Task:` trailers queues at most 20 tasks and
/// says what it dropped.
#[test]
fn f17_one_commit_queues_at_most_twenty_tasks() {
    let repo = TestRepo::initialised();
    set_identity(&repo);
    repo.agentos(&["hooks", "install"]).ok();
    let mut message = String::from("many\n\n");
    for i in 0..3000 {
        message.push_str(&format!(
            "Agentos-Task: Task {i}\nAgentos-Targets: README.md\n"
        ));
    }
    // Over 128 KiB: one argument cannot hold it, a file can.
    let file = repo.scratch().join("message");
    std::fs::write(&file, &message).expect("write");
    repo.write("a.txt", "a\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-F", &file.display().to_string()]);
    wait_for_hook(&repo);
    assert_eq!(todo_ids(&repo).len(), 20);
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("at most 20 are queued from one commit, so 2980 were dropped"),
        "{friction}"
    );
}
