//! The task file, the queue and the first commands: init, add, list, show, status.
use crate::support::{TestRepo, BIN};
use std::process::Command;

const GOOD: &str = "+++\ntitle = \"Fix the install command\"\ntargets = [\"README.md\"]\n+++\nThe README says `cargo instal`.\n";

#[test]
fn init_creates_the_tree_and_is_idempotent() {
    let repo = TestRepo::new();
    let first = repo.agentos(&["init"]).ok();
    assert!(
        first
            .stdout
            .contains("created .agentos/agents/default/AGENT.md"),
        "{}",
        first.stdout
    );
    for dir in [
        "todo",
        "doing",
        "done",
        "failed",
        "runs",
        "worktrees",
        "agents/default",
    ] {
        assert!(repo.path(".agentos").join(dir).is_dir(), "{dir} missing");
    }
    repo.write(".agentos/agents/default/AGENT.md", "my own instructions\n");
    repo.agentos(&["init"]).ok().stdout_has("nothing to do");
    assert_eq!(
        repo.read(".agentos/agents/default/AGENT.md"),
        "my own instructions\n"
    );
    // Runtime state stays out of git status; agents and config can be committed.
    repo.agentos(&["add", "A task", "--target", "README.md"])
        .ok();
    let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains("todo/"), "{status}");
    assert!(
        status.contains(".agentos/agents/default/AGENT.md"),
        "{status}"
    );
    assert!(status.contains(".agentos/.gitignore"), "{status}");
}

#[test]
fn add_writes_a_valid_task_and_prints_its_id() {
    let repo = TestRepo::initialised();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let run = repo
        .agentos(&[
            "add",
            "Task 1",
            "--target",
            "README.md",
            "--target",
            "docs/**",
            "--verify",
            "true",
            "--body",
            "Details here.",
            "--priority",
            "3",
            "--timeout",
            "10m",
        ])
        .ok();
    assert_eq!(run.stdout, "task-1\n");
    let text = repo.read(".agentos/todo/task-1.md");
    assert!(
        text.starts_with("+++\ntitle = \"Task 1\"\ntargets = [\"README.md\", \"docs/**\"]\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("base = \"{head}\"\nbase_branch = \"main\"\n")),
        "{text}"
    );
    assert!(
        text.contains("priority = 3\ntimeout = \"10m\"\nenqueued = "),
        "{text}"
    );
    assert!(text.ends_with("+++\nDetails here.\n"), "{text}");
    // The same title again gets -2, then -3.
    assert_eq!(
        repo.agentos(&["add", "Task 1", "-t", "README.md"])
            .ok()
            .stdout,
        "task-1-2\n"
    );
    assert_eq!(
        repo.agentos(&["add", "Task 1", "-t", "README.md"])
            .ok()
            .stdout,
        "task-1-3\n"
    );
    // An explicit base is kept as given and must resolve.
    repo.agentos(&["add", "From main", "-t", "README.md", "--base", "main"])
        .ok();
    assert!(repo
        .read(".agentos/todo/from-main.md")
        .contains("base = \"main\"\nbase_branch = \"main\"\n"));
    repo.agentos(&["add", "Bad base", "-t", "README.md", "--base", "nope"])
        .code(2)
        .stderr_has("base `nope`");
}

#[test]
fn add_works_as_a_git_subcommand_and_before_init() {
    let repo = TestRepo::new();
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("git");
    crate::support::seal(&mut cmd, &repo.home);
    let out = cmd
        .env("PATH", path)
        .args(["agentos", "add", "Via git", "--target", "README.md"])
        .current_dir(repo.root())
        .output()
        .expect("git agentos");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "via-git\n");
    assert!(
        repo.exists(".agentos/.gitignore"),
        "add sets up the runtime folders"
    );
}

#[test]
fn add_from_a_linked_worktree_uses_the_main_queue() {
    let repo = TestRepo::initialised();
    let wt = repo.dir.path().join("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        wt.to_str().expect("utf8"),
        "-b",
        "side",
    ]);
    let mut cmd = repo.cmd(&["add", "From the side", "-t", "README.md"]);
    let out = cmd.current_dir(&wt).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repo.exists(".agentos/todo/from-the-side.md"));
    assert!(repo
        .read(".agentos/todo/from-the-side.md")
        .contains("base_branch = \"side\""));
}

/// Every bad input: a clear message naming the file and field, exit 2, the input
/// file unchanged, and nothing queued.
#[test]
fn bad_task_files_are_refused_with_clear_errors() {
    let repo = TestRepo::initialised();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "bad-toml.md",
            "+++\ntitle = \"x\"\ntargets = [README.md]\n+++\n",
            &["bad-toml.md", "line 3", "not valid TOML"],
        ),
        (
            "no-title.md",
            "+++\ntargets = [\"README.md\"]\n+++\n",
            &["no-title.md", "`title`", "missing or empty"],
        ),
        (
            "empty-title.md",
            "+++\ntitle = \"  \"\ntargets = [\"README.md\"]\n+++\n",
            &["`title`", "missing or empty"],
        ),
        (
            "no-targets.md",
            "+++\ntitle = \"x\"\n+++\n",
            &["no-targets.md", "`targets`", "no targets"],
        ),
        (
            "empty-targets.md",
            "+++\ntitle = \"x\"\ntargets = []\n+++\n",
            &["`targets`", "no targets"],
        ),
        (
            "absolute.md",
            "+++\ntitle = \"x\"\ntargets = [\"/etc/passwd\"]\n+++\n",
            &["`targets`", "absolute"],
        ),
        (
            "escape.md",
            "+++\ntitle = \"x\"\ntargets = [\"docs/../../x\"]\n+++\n",
            &["`targets`", "leaves the repository"],
        ),
        (
            "unknown-field.md",
            "+++\ntitle = \"x\"\ntargest = [\"a\"]\n+++\n",
            &["`targest`", "unknown field"],
        ),
        (
            "no-front-matter.md",
            "just text\n",
            &["does not start with a `+++` line"],
        ),
        (
            "bad-timeout.md",
            "+++\ntitle = \"x\"\ntargets = [\"a\"]\ntimeout = \"soon\"\n+++\n",
            &["`timeout`", "not a duration"],
        ),
    ];
    for (name, text, needles) in cases {
        repo.write(&format!("inbox/{name}"), text);
        let run = repo
            .agentos(&["add", "--file", &format!("inbox/{name}")])
            .code(2);
        for needle in *needles {
            assert!(
                run.stderr.contains(needle),
                "{name}: stderr lacks {needle:?}:\n{}",
                run.stderr
            );
        }
        assert_eq!(
            &repo.read(&format!("inbox/{name}")),
            text,
            "{name} was altered"
        );
    }
    // Not UTF-8, too large, a symlink.
    std::fs::write(
        repo.path("inbox/latin1.md"),
        b"+++\ntitle = \"caf\xe9\"\ntargets = [\"a\"]\n+++\n",
    )
    .expect("write");
    repo.agentos(&["add", "--file", "inbox/latin1.md"])
        .code(2)
        .stderr_has("latin1.md")
        .stderr_has("not UTF-8");
    let big = format!(
        "+++\ntitle = \"x\"\ntargets = [\"a\"]\n+++\n{}",
        "x".repeat(1024 * 1024)
    );
    repo.write("inbox/big.md", &big);
    repo.agentos(&["add", "--file", "inbox/big.md"])
        .code(2)
        .stderr_has("big.md")
        .stderr_has("1 MiB");
    repo.write("inbox/real.md", GOOD);
    std::os::unix::fs::symlink(repo.path("inbox/real.md"), repo.path("inbox/link.md"))
        .expect("symlink");
    repo.agentos(&["add", "--file", "inbox/link.md"])
        .code(2)
        .stderr_has("symbolic link");
    // Ids: not a slug, duplicate.
    repo.agentos(&["add", "x", "-t", "a", "--id", "Not A Slug"])
        .code(2)
        .stderr_has("a task id is a slug")
        .stderr_has("use --id not-a-slug");
    repo.agentos(&["add", "x", "-t", "a", "--id", "dup"]).ok();
    repo.agentos(&["add", "y", "-t", "a", "--id", "dup"])
        .code(2)
        .stderr_has("`dup` is already used by .agentos/todo/dup.md");
    assert_eq!(
        repo.files_in(".agentos/todo"),
        ["dup.md"],
        "nothing else was queued"
    );
    // A good file is queued under its own stem, byte for byte plus base and enqueue time.
    repo.write("inbox/fix-install.md", GOOD);
    repo.agentos(&["add", "--file", "inbox/fix-install.md"])
        .ok()
        .stdout_has("fix-install");
    assert_eq!(repo.read("inbox/fix-install.md"), GOOD);
}

#[test]
fn bad_usage_exits_2_and_outside_a_repository_exits_3() {
    let repo = TestRepo::new();
    repo.agentos(&["add"]).code(2).stderr_has("title");
    repo.agentos(&["list", "--state", "sideways"])
        .code(2)
        .stderr_has("not a state");
    repo.agentos(&["frobnicate"]).code(2);
    let outside = tempfile::tempdir().expect("tempdir");
    let mut cmd = repo.cmd(&["list"]);
    let out = cmd.current_dir(outside.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a git repository"));
}

#[test]
fn list_orders_by_priority_then_enqueue_order_and_flags_invalid_files() {
    let repo = TestRepo::initialised();
    for title in ["First", "Second", "Third"] {
        repo.agentos(&["add", title, "-t", "README.md"]).ok();
    }
    repo.agentos(&["add", "Urgent", "-t", "README.md", "--priority", "9"])
        .ok();
    repo.write(".agentos/todo/broken.md", "+++\ntitle = \n+++\n");
    let list = repo.agentos(&["list", "--json"]).ok().json();
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["urgent", "first", "second", "third", "broken"]);
    assert!(list[4]["reason"]
        .as_str()
        .expect("reason")
        .contains("not valid TOML"));
    let text = repo.agentos(&["list"]).ok();
    assert!(
        text.stdout.lines().nth(1).expect("row").contains("urgent"),
        "{}",
        text.stdout
    );
    text.stdout_has("invalid broken");
    // Listing never moves or changes a file.
    assert_eq!(repo.read(".agentos/todo/broken.md"), "+++\ntitle = \n+++\n");
}

#[test]
fn show_and_status_describe_tasks_and_the_system() {
    let repo = TestRepo::initialised();
    repo.agentos(&[
        "add",
        "Fix the README",
        "-t",
        "README.md",
        "--body",
        "Say `cargo install`.",
    ])
    .ok();
    let show = repo.agentos(&["show", "fix-the-readme"]).ok();
    show.stdout_has("title     Fix the README")
        .stdout_has("state     todo")
        .stdout_has("Say `cargo install`.");
    let json = repo
        .agentos(&["show", "fix-the-readme", "--json"])
        .ok()
        .json();
    assert_eq!(json["targets"][0], "README.md");
    assert_eq!(json["state"], "todo");
    repo.agentos(&["show", "fix-the-readm"])
        .code(2)
        .stderr_has("did you mean `fix-the-readme`?");
    let status = repo.agentos(&["status", "--json"]).ok().json();
    assert_eq!(status["counts"]["todo"], 1);
    assert_eq!(status["counts"]["done"], 0);
    assert!(status["dispatcher"].is_null());
    repo.agentos(&["status"])
        .ok()
        .stdout_has("1 todo, 0 doing, 0 done, 0 failed")
        .stdout_has("not running");
}

#[test]
fn help_texts_teach() {
    let repo = TestRepo::new();
    let help = repo.agentos(&["--help"]).ok();
    for cmd in ["init", "add", "list", "show", "status"] {
        assert!(help.stdout.contains(cmd), "top-level help lacks {cmd}");
    }
    repo.agentos(&["add", "--help"])
        .ok()
        .stdout_has("--target")
        .stdout_has("gitignore-style glob")
        .stdout_has("Example:");
}

/// The todo index (a cache of parsed files) never shows stale data: an edit that
/// keeps the file's size and modification time is still seen.
#[test]
fn list_sees_edits_that_keep_size_and_mtime() {
    let repo = TestRepo::initialised();
    let file = ".agentos/todo/edit-me.md";
    repo.write(
        file,
        "+++\ntitle = \"Old title\"\ntargets = [\"README.md\"]\n+++\n",
    );
    let old_time = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let set_mtime = |time| {
        let f = std::fs::File::options()
            .write(true)
            .open(repo.path(file))
            .expect("open");
        f.set_modified(time).expect("set mtime");
    };
    set_mtime(old_time);
    // A file changed in the last two seconds is never cached, and its ctime
    // cannot be set back: to exercise the cache itself this waits for real time
    // to pass (the rule is about the file's age by the kernel's clock). Should
    // the index read the time through AGENTOS_NOW, that seam could replace it.
    let settle = || std::thread::sleep(std::time::Duration::from_millis(2100));
    settle();
    repo.agentos(&["list"]).ok().stdout_has("Old title");
    assert!(
        repo.read(".agentos/todo.index").contains("Old title"),
        "the index was written"
    );
    repo.agentos(&["list"]).ok().stdout_has("Old title");
    repo.write(
        file,
        "+++\ntitle = \"New title\"\ntargets = [\"README.md\"]\n+++\n",
    );
    set_mtime(old_time);
    repo.agentos(&["list"]).ok().stdout_has("New title");
    settle();
    repo.agentos(&["list"]).ok().stdout_has("New title");
    // A broken edit is seen as invalid at once, and a garbage index is ignored.
    repo.write(file, "+++\ntitle = \"Broken\n+++\n");
    repo.agentos(&["list"]).ok().stdout_has("invalid");
    repo.write(
        ".agentos/todo.index",
        "git-agentos todo index v1\nedit-me.md\t1\t2\t3\tnot json\n",
    );
    repo.agentos(&["status"]).ok().stdout_has("1 invalid");
}
