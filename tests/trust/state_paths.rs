//! Case 1: every path under `.agentos/` is git agentos's own: a symbolic link
//! there stops the command, naming the path and the fix, and nothing outside
//! the repository is read, written, moved or deleted.
use super::{link, plant_outside, snapshot};
use crate::support::{FakeAgent, TestRepo};

/// A link the issue planted, and the command that followed it out.
struct Attack {
    link: &'static str,
    to: &'static str,
    command: &'static str,
    /// The agent makes no change, so the task fails (for failed/ and the friction log).
    fails: bool,
}

const ATTACKS: [Attack; 7] = [
    Attack {
        link: ".agentos/worktrees",
        to: "../..",
        command: "clean",
        fails: false,
    },
    Attack {
        link: ".agentos/worktrees/.pool",
        to: "../../..",
        command: "run",
        fails: false,
    },
    Attack {
        link: ".agentos/dispatcher.lock",
        to: "../../home/.bashrc",
        command: "run",
        fails: false,
    },
    Attack {
        link: ".agentos/done",
        to: "../../sibling/done",
        command: "run",
        fails: false,
    },
    Attack {
        link: ".agentos/failed",
        to: "../../sibling/failed",
        command: "run",
        fails: true,
    },
    Attack {
        link: ".agentos/runs",
        to: "../../sibling/runs",
        command: "run",
        fails: false,
    },
    Attack {
        link: ".agentos/friction.jsonl",
        to: "../../home/.bashrc",
        command: "run",
        fails: true,
    },
];

#[test]
fn a_link_in_the_state_stops_the_command_and_nothing_outside_changes() {
    for attack in ATTACKS {
        let repo = TestRepo::initialised();
        let top = repo.dir.path();
        plant_outside(top);
        let agent = if attack.fails {
            FakeAgent::new(&repo).build()
        } else {
            FakeAgent::new(&repo)
                .writes("README.md", "Install with `cargo install`.\n")
                .build()
        };
        repo.agentos(&["add", "Fix the README", "-t", "README.md", "--id", "fix"])
            .ok();
        link(&repo.path(attack.link), attack.to);
        let before = snapshot(top, &["repo"]);
        let run = repo.agentos_env(&[attack.command], &[("AGENTOS_AGENT_CMD", &agent)]);
        assert_eq!(
            snapshot(top, &["repo"]),
            before,
            "{}: `{}` changed something outside the repository\n{}",
            attack.link,
            attack.command,
            run.stderr
        );
        let run = run.code(3);
        assert!(
            run.stderr.contains(&format!("`{}`", attack.link))
                && run.stderr.contains("symbolic link")
                && run.stderr.contains(&format!("rm {}", attack.link)),
            "{}: the error names the link and how to remove it:\n{}",
            attack.link,
            run.stderr
        );
        assert!(
            repo.exists(".agentos/todo/fix.md"),
            "{}: the task was not touched",
            attack.link
        );
    }
}

#[test]
fn init_writes_a_gitignore_that_also_matches_links() {
    let repo = TestRepo::initialised();
    let names = [
        "todo",
        "doing",
        "done",
        "failed",
        "runs",
        "worktrees",
        "friction.jsonl",
        "friction-enqueued",
        "hook.seen",
        "todo.index",
        "dispatcher.lock",
    ];
    for name in names {
        link(&repo.path(&format!(".agentos/{name}")), "/tmp");
    }
    let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    for name in names {
        assert!(
            !status.contains(&format!(".agentos/{name}\n")),
            "`.agentos/{name}` shows in `git status` when it is a link:\n{status}"
        );
    }
}

/// Only folders git lists as this repository's worktrees are ever deleted: a
/// folder someone made under worktrees/ (or in its pool) is kept, and said so.
#[test]
fn clean_and_the_pool_delete_only_worktrees_git_lists() {
    let repo = TestRepo::initialised();
    repo.write(".agentos/worktrees/stray/keep.txt", "mine\n");
    repo.write(".agentos/worktrees/.pool/slot-9/keep.txt", "mine too\n");
    let clean = repo.agentos(&["clean"]).ok();
    assert!(
        repo.exists(".agentos/worktrees/stray/keep.txt"),
        "{}",
        clean.stdout
    );
    assert!(repo.exists(".agentos/worktrees/.pool/slot-9/keep.txt"));
    clean
        .stdout_has("kept .agentos/worktrees/stray")
        .stdout_has("not a worktree git lists");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    repo.agentos(&["add", "Fix the README", "-t", "README.md"])
        .ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert_eq!(
        repo.read(".agentos/worktrees/.pool/slot-9/keep.txt"),
        "mine too\n",
        "a folder git does not list is never taken from the pool"
    );
}

/// The post-commit hook never writes through a link in the state either (not
/// even its friction line): it queues nothing and says why; the commit stands.
#[test]
fn the_post_commit_hook_queues_nothing_into_a_state_that_leads_out() {
    let repo = TestRepo::initialised();
    plant_outside(repo.dir.path());
    link(&repo.path(".agentos/friction.jsonl"), "../../home/.bashrc");
    link(&repo.path(".agentos/todo"), "../../sibling/todo");
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "Work\n\nAgentos-Task: Queue me\nAgentos-Targets: README.md",
    ]);
    let before = snapshot(repo.dir.path(), &["repo"]);
    let hook = repo.agentos(&["hook", "post-commit"]).ok();
    assert!(
        hook.stderr.contains("nothing queued") && hook.stderr.contains("symbolic link"),
        "{}",
        hook.stderr
    );
    assert_eq!(snapshot(repo.dir.path(), &["repo"]), before);
}

/// A folder git does not list where a task's worktree goes (a run killed
/// between removing a worktree's record and its folder leaves one) does not
/// fail the task: it is set aside whole, never deleted, and `clean` keeps it.
#[test]
fn an_unlisted_folder_where_a_worktree_goes_is_set_aside_not_deleted() {
    let repo = TestRepo::initialised();
    repo.write(".agentos/worktrees/fix-the-readme/notes.txt", "mine\n");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    repo.agentos(&["add", "Fix the README", "-t", "README.md"])
        .ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(repo.exists(".agentos/done/fix-the-readme.md"));
    assert_eq!(
        repo.read(".agentos/worktrees/.stale-fix-the-readme-1/notes.txt"),
        "mine\n"
    );
    repo.agentos(&["clean"])
        .ok()
        .stdout_has("kept .agentos/worktrees/.stale-fix-the-readme-1");
    assert!(repo.exists(".agentos/worktrees/.stale-fix-the-readme-1/notes.txt"));
}

/// Between claims the dispatcher reads only the top of runs/ (its cost must
/// not grow with every task ever run), and the folder of the task it claims
/// whole: a link planted mid-run deep in the next task's runs/ folder stops
/// claiming before anything is written through it.
#[test]
fn a_link_planted_in_the_next_tasks_runs_folder_stops_claiming() {
    let repo = TestRepo::initialised();
    super::unsandboxed(&repo);
    let outside = repo.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let plant = repo.path(".agentos/runs/two/attempt-1");
    let agent = FakeAgent::new(&repo)
        .runs(&format!(
            r#"if [ "$AGENTOS_TASK_ID" = one ]; then mkdir -p '{runs}' && ln -s '{outside}' '{plant}'; fi; printf 'x\n' > "$AGENTOS_TASK_ID.md""#,
            runs = repo.path(".agentos/runs/two").display(),
            outside = outside.display(),
            plant = plant.display(),
        ))
        .build();
    for id in ["one", "two"] {
        repo.agentos(&["add", id, "-t", &format!("{id}.md"), "--id", id])
            .ok();
    }
    let out = repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)]);
    assert!(out.stderr.contains("stopped claiming"), "{out:?}");
    assert!(
        out.stderr.contains(".agentos/runs/two/attempt-1"),
        "the link is named: {out:?}"
    );
    assert!(repo.exists(".agentos/done/one.md"));
    assert!(repo.exists(".agentos/todo/two.md"), "two was not claimed");
    assert_eq!(
        std::fs::read_dir(&outside).expect("read").count(),
        0,
        "nothing was written through the link"
    );
}
