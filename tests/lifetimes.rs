//! What the agent process does not get away with (issue #15, cases 4, 10, 11):
//! a process that leaves its group dies with its agent before the next task can
//! get its worktree, and verify commands die with their dispatcher; a write
//! through a link removed afterwards is judged where it landed; a task of any
//! valid size reaches Claude Code.
use crate::support::messages_api::MessagesApi;
use crate::support::{alive, run_while_the_agent_waits, wait_until, FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::Duration;

fn pids(path: &std::path::Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn a_process_that_leaves_with_setsid_dies_with_its_agent_and_never_reaches_the_next_task() {
    let repo = TestRepo::initialised();
    let late = repo.scratch().join("late.pid");
    let l = late.display();
    let agent = FakeAgent::new(&repo)
        .runs(&format!(
            "setsid sh -c 'echo $$ >> {l}; sleep 2; echo INJECTED >> README.md' > /dev/null 2>&1 &"
        ))
        .runs(&format!("while ! grep -q . {l}; do sleep 0.01; done"))
        .runs("echo fixed >> README.md")
        .build();
    for id in ["first", "second"] {
        repo.agentos(&["add", "Fix", "-t", "README.md", "--id", id])
            .ok();
        repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
            .ok();
        let leavers = pids(&late);
        assert!(!leavers.is_empty());
        for pid in leavers {
            assert!(!alive(pid), "{pid} outlived the agent of {id}");
        }
    }
    // The second task took the first one's recycled worktree: no line came.
    for id in ["first", "second"] {
        let readme = repo.git(&["show", &format!("agentos/{id}:README.md")]);
        assert!(!readme.contains("INJECTED"), "{id}: {readme}");
    }
    assert!(
        repo.exists(".agentos/worktrees/.pool"),
        "the worktree was recycled"
    );
}

/// A worktree another process still works in is not recycled for the next task.
#[test]
fn a_worktree_someone_still_works_in_is_not_recycled() {
    let repo = TestRepo::initialised();
    let mut shell = None;
    run_while_the_agent_waits(&repo, "busy", &[], || {
        // Someone opens a shell in the task's worktree meanwhile.
        shell = Some(
            std::process::Command::new("sleep")
                .arg("60")
                .current_dir(repo.path(".agentos/worktrees/busy"))
                .spawn()
                .expect("spawn a process in the worktree"),
        );
    })
    .ok();
    if let Some(mut shell) = shell {
        let _ = shell.kill();
        let _ = shell.wait();
    }
    assert!(repo.exists(".agentos/done/busy.md"));
    assert!(repo.exists(".agentos/worktrees/busy"), "left where it is");
    assert_eq!(
        repo.files_in(".agentos/worktrees/.pool"),
        Vec::<String>::new()
    );
}

#[test]
fn verify_commands_and_what_they_start_die_with_a_killed_dispatcher() {
    let repo = TestRepo::initialised();
    let started = repo.scratch().join("verify.pid");
    let s = started.display();
    let agent = FakeAgent::new(&repo).writes("README.md", "fixed\n").build();
    repo.agentos(&[
        "add",
        "Checked",
        "-t",
        "README.md",
        "--verify",
        &format!("setsid sh -c 'echo $$ >> {s}; exec sleep 300' & echo $$ >> {s}; sleep 300"),
    ])
    .ok();
    // Killed with -9, the dispatcher cannot remove the verify commands' private
    // folder: it goes with the test's own folder, not into the system's /tmp.
    let tmp = repo.scratch().join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let mut dispatcher = repo
        .cmd(&["run", "--no-pr"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    wait_until(
        Duration::from_secs(20),
        "the verify command started",
        || pids(&started).len() >= 2,
    );
    dispatcher.kill().expect("kill -9");
    let _ = dispatcher.wait();
    wait_until(
        Duration::from_secs(10),
        "the verify command and its setsid child died with the dispatcher",
        || pids(&started).into_iter().all(|pid| !alive(pid)),
    );
}

/// Without the sandbox, a write through a link the agent removes afterwards is
/// judged where it landed when the call was made. (Claude Code 2.1.328's own
/// Write tool refuses a path through a link that leads out, measured; any
/// other agent's stream is read the same way, so a fake one shows it.)
#[test]
fn a_write_through_a_link_removed_afterwards_is_judged_where_it_landed() {
    let repo = TestRepo::initialised();
    let outside = repo.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let outside = outside.canonicalize().expect("canonical");
    let o = outside.display().to_string();
    repo.write(".agentos/agents/default/agent.toml", "sandbox = \"off\"\n");
    let write = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"lnk/evil.sh","content":"x"}}]}}"#;
    let agent = FakeAgent::new(&repo)
        .runs(&format!("ln -s {o} lnk"))
        .stream_json(write)
        // The dispatcher records where the write lands before it happens.
        .runs("while ! grep -q agent_landings \"${AGENTOS_TASK_FILE%.md}.record.json\"; do sleep 0.01; done")
        .runs("echo planted > lnk/evil.sh && rm lnk")
        .writes("README.md", "fixed\n")
        .build();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "linked"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    assert!(
        outside.join("evil.sh").exists(),
        "unsandboxed, the write happened"
    );
    let reason = repo.read(".agentos/failed/linked.reason");
    assert!(
        reason.contains(&format!(
            "the agent wrote `lnk/evil.sh`, which landed at `{o}/evil.sh` through the symbolic link `lnk → {o}`, outside its worktree"
        )),
        "{reason}"
    );
}

#[test]
fn a_task_of_900_kib_reaches_claude_code_on_stdin() {
    let repo = TestRepo::initialised();
    let api = MessagesApi::writes(vec![("README.md".into(), "fixed\n".into())]);
    let line = "This line is part of a very long task body, to be read in full.\n";
    let body = line.repeat(900 * 1024 / line.len());
    let body_file = repo.dir.path().join("body.md");
    std::fs::write(&body_file, &body).expect("body");
    repo.agentos(&[
        "add",
        "A long task",
        "-t",
        "README.md",
        "--id",
        "long",
        "--body-file",
        body_file.to_str().expect("utf8"),
    ])
    .ok();
    repo.agentos_with(&["run", "--no-pr"], &repo.claude_env(&api))
        .ok();
    assert_eq!(repo.git(&["show", "agentos/long:README.md"]), "fixed\n");
    let first = api.requests.lock().expect("lock")[0].to_string();
    assert!(
        first.len() > 900 * 1024,
        "the whole prompt was sent: {} bytes",
        first.len()
    );
    assert!(first.contains("to be read in full"));
}
