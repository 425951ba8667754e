//! Case 1, end to end: a repository whose author committed symbolic links in
//! `.agentos/` (force-added past the `.gitignore`) is cloned fresh, and every
//! command is run in the clone. Nothing outside the clone changes, byte for
//! byte: not a sibling project, not the home folder, not the repository it was
//! cloned from.
use super::{link, plant_outside, snapshot};
use crate::support::{FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::{Duration, Instant};

const TASK: &str = "+++\ntitle = \"Task\"\ntargets = [\"README.md\"]\n+++\nFix it.\n";

/// The links an attacker commits, in sets that can live in one commit (git
/// cannot store a path under a link), and the real files beside them.
struct Variant {
    links: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
}

const VARIANTS: [Variant; 4] = [
    // Every runtime name at the top of .agentos/ leads out.
    Variant {
        links: &[
            (".agentos/worktrees", "../.."),
            (".agentos/todo", "../../sibling/todo"),
            (".agentos/doing", "../../sibling/doing"),
            (".agentos/done", "../../sibling/done"),
            (".agentos/failed", "../../sibling/failed"),
            (".agentos/runs", "../../sibling/runs"),
            (".agentos/friction.jsonl", "../../home/.bashrc"),
            (".agentos/friction-enqueued", "../../home/.bashrc"),
            (".agentos/hook.seen", "../../home/.bashrc"),
            (".agentos/todo.index", "../../home/.bashrc"),
            (".agentos/dispatcher.lock", "../../home/.bashrc"),
            (".agentos/.gitignore", "../../home/.bashrc"),
        ],
        files: &[],
    },
    // Real state folders with links inside them, and tasks to act on.
    Variant {
        links: &[
            (".agentos/worktrees/.pool", "../../.."),
            (".agentos/worktrees/t1", "../../../sibling"),
            (".agentos/runs/t1", "../../../sibling/runs"),
            (".agentos/runs/t2", "../../../sibling"),
            (".agentos/doing/t3.record.json", "../../../home/.bashrc"),
        ],
        files: &[
            (".agentos/todo/t1.md", TASK),
            (".agentos/failed/t2.md", TASK),
            (".agentos/failed/t2.reason", "it failed\n"),
            (".agentos/done/t4.md", TASK),
        ],
    },
    // The whole folder.
    Variant {
        links: &[(".agentos", "../sibling")],
        files: &[],
    },
    // Settings that would read files outside the repository into a prompt.
    Variant {
        links: &[
            (
                ".agentos/agents/default/AGENT.md",
                "../../../../home/.ssh/id_ed25519",
            ),
            (".agentos/config.toml", "../../home/.bashrc"),
            (".agentos/templates", "../../home/.ssh"),
        ],
        files: &[(".agentos/todo/t1.md", TASK)],
    },
];

/// Every command a person might run in a fresh clone.
const COMMANDS: [&[&str]; 17] = [
    &["init"],
    &["add", "Hostile", "-t", "README.md"],
    &["list"],
    &["show", "t1"],
    &["status"],
    &["run"],
    &["watch"],
    &["verify", "t1"],
    &["retry", "t2"],
    &["cancel", "t1"],
    &["clean"],
    &["logs", "t1"],
    &["friction"],
    &["hooks", "status"],
    &["memory", "list"],
    &["templates", "list"],
    &["agent", "list"],
];

/// Commands that never look at `.agentos/`.
const OUTSIDE_THE_STATE: [&str; 1] = ["memory"];

#[test]
fn a_cloned_repository_that_commits_links_in_its_state_changes_nothing_outside() {
    for (n, variant) in VARIANTS.iter().enumerate() {
        let attacker = TestRepo::new();
        let top = attacker.dir.path();
        plant_outside(top);
        for (path, text) in variant.files {
            attacker.write(path, text);
        }
        for (path, to) in variant.links {
            link(&attacker.path(path), to);
        }
        let mut add = vec!["add", "-f"];
        add.extend(variant.links.iter().map(|(p, _)| *p));
        add.extend(variant.files.iter().map(|(p, _)| *p));
        attacker.git(&add);
        attacker.git(&["commit", "-q", "-m", "a helpful setup"]);
        attacker.git(&["clone", "-q", ".", "../clone"]);
        let clone = top.join("clone");
        let clone_arg = clone.to_str().expect("utf8");
        let agent = FakeAgent::new(&attacker)
            .writes("README.md", "Install with `cargo install`.\n")
            .build();
        let before = snapshot(top, &["clone"]);
        for command in COMMANDS {
            let mut args = vec!["-C", clone_arg];
            args.extend_from_slice(command);
            let (code, stderr) = if command[0] == "watch" {
                watch_briefly(&attacker, &args, &agent)
            } else {
                let run = attacker.agentos_env(&args, &[("AGENTOS_AGENT_CMD", &agent)]);
                (run.code, run.stderr)
            };
            assert_eq!(
                snapshot(top, &["clone"]),
                before,
                "variant {n}: `{}` changed something outside the clone\n{stderr}",
                command.join(" ")
            );
            if !OUTSIDE_THE_STATE.contains(&command[0]) {
                assert_eq!(
                    code,
                    3,
                    "variant {n}: `{}` must refuse the state\n{stderr}",
                    command.join(" ")
                );
                assert!(
                    stderr.contains("link") && stderr.contains(".agentos"),
                    "variant {n}: `{}` names the link:\n{stderr}",
                    command.join(" ")
                );
            }
        }
    }
}

/// Start `watch`, give it until it is ready (or has refused), then stop it.
fn watch_briefly(repo: &TestRepo, args: &[&str], agent: &str) -> (i32, String) {
    let mut child = repo
        .cmd(args)
        .env("AGENTOS_AGENT_CMD", agent)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (-1, "watch started in a hostile clone".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("watch's output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
