//! Case 12: a target the verifier would refuse is refused at the door. Case 13:
//! a task file deleted during its run fails that task only; the size limit is
//! judged on the task as written, not with its result appended.
use crate::support::{FakeAgent, TestRepo};

#[test]
fn an_invalid_glob_is_refused_by_add_and_never_runs() {
    let repo = TestRepo::initialised();
    repo.agentos(&["add", "Docs", "-t", "docs/[abc"])
        .code(2)
        .stderr_has("docs/[abc")
        .stderr_has("not a valid glob");
    repo.write(
        ".agentos/todo/bad.md",
        "+++\ntitle = \"Docs\"\ntargets = [\"docs/[abc\"]\n+++\n",
    );
    repo.agentos(&["list"]).ok().stdout_has("not a valid glob");
    let ran = repo.scratch().join("agent-ran");
    let agent = FakeAgent::new(&repo)
        .runs(&format!("touch '{}'", ran.display()))
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    assert!(!ran.exists(), "the agent of an invalid task ran");
    assert!(repo
        .read(".agentos/failed/bad.reason")
        .contains("not a valid glob"));
}

#[test]
fn a_task_file_deleted_during_its_run_fails_that_task_and_the_run_goes_on() {
    let repo = TestRepo::initialised();
    // Someone else deletes it (inside the sandbox the agent cannot).
    super::unsandboxed(&repo);
    repo.agentos(&[
        "add",
        "First",
        "-t",
        "first.txt",
        "--id",
        "first",
        "--priority",
        "1",
    ])
    .ok();
    repo.agentos(&["add", "Second", "-t", "second.txt", "--id", "second"])
        .ok();
    let agent = FakeAgent::new(&repo)
        .runs(r#"[ "$AGENTOS_TASK_ID" = first ] && rm "$AGENTOS_TASK_FILE"; true"#)
        .runs(r#"echo "$AGENTOS_TASK_ID" > "$AGENTOS_TASK_ID.txt""#)
        .build();
    let run = repo
        .agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let reason = repo.read(".agentos/failed/first.reason");
    assert!(reason.contains("was deleted"), "{reason}\n{}", run.stderr);
    assert!(
        repo.read(".agentos/failed/first.md")
            .contains("title = \"First\""),
        "the task as it was claimed is kept in failed/"
    );
    assert_eq!(repo.files_in(".agentos/doing"), Vec::<String>::new());
    assert!(repo.exists(".agentos/done/second.md"), "the run went on");
}

#[test]
fn the_size_limit_is_judged_on_the_task_as_written() {
    let repo = TestRepo::initialised();
    let head = "+++\ntitle = \"Big\"\ntargets = [\"README.md\"]\n+++\n";
    let line = "context context context context context context context context\n";
    let mut text = head.to_string();
    while text.len() + line.len() <= 1024 * 1024 - 64 {
        text.push_str(line);
    }
    repo.write(".agentos/todo/big.md", &text);
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(
            1,
            0.01,
            "Fixed the install command in the README, as the task asked.",
        )
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(
        std::fs::metadata(repo.path(".agentos/done/big.md"))
            .expect("done")
            .len()
            > 1024 * 1024,
        "the result section took it over the limit"
    );
    let shown = repo.agentos(&["show", "big"]).ok();
    assert!(!shown.stdout.contains("1 MiB"), "{}", &shown.stdout[..400]);
    let listed = repo.agentos(&["list", "--state", "done", "--json"]).ok();
    assert!(!listed.stdout.contains("1 MiB"));
}
