//! The verifier: intent, not well-formedness.
use crate::support::messages_api::MessagesApi;
use crate::support::{FakeAgent, TestRepo};

fn with_guide() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.write("docs/guide.md", "# Guide\n\nStep one.\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Add the guide"]);
    repo
}

/// `run` with a fake agent that runs `script` in the worktree and reports success.
fn run_fake(repo: &TestRepo, script: &str) -> crate::support::Run {
    let agent = FakeAgent::new(repo).runs(script).build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
}

#[test]
fn claude_editing_the_wrong_folder_fails_with_did_you_mean() {
    let repo = with_guide();
    let api = MessagesApi::writes(vec![(
        "doc/guide.md".into(),
        "# Guide\n\nStep one, clarified.\n".into(),
    )]);
    repo.agentos(&[
        "add",
        "Clarify the guide",
        "-t",
        "docs/guide.md",
        "--id",
        "clarify",
    ])
    .ok();
    repo.agentos_with(&["run"], &repo.claude_env(&api)).code(1);
    let reason = repo.read(".agentos/failed/clarify.reason");
    assert!(
        reason.contains("`doc/guide.md` is outside the targets; did you mean `docs/guide.md`?"),
        "{reason}"
    );
    assert!(
        reason.contains("the target `docs/guide.md` was not changed"),
        "{reason}"
    );
    let report = repo.read(".agentos/runs/clarify/attempt-1/report.md");
    assert!(
        report.contains("# Verification of `clarify`: rejected")
            && report.contains("+Step one, clarified."),
        "{report}"
    );
}

#[test]
fn claude_trying_to_write_the_main_checkout_fails_and_the_checkout_is_untouched() {
    let repo = with_guide();
    let main_readme = repo.path("README.md").display().to_string();
    let before = repo.read("README.md");
    let main_new = repo.path("NEW.md").display().to_string();
    let api = MessagesApi::writes(vec![
        (
            "docs/guide.md".into(),
            "# Guide\n\nStep one.\nStep two.\n".into(),
        ),
        (main_readme.clone(), "overwritten by the agent\n".into()),
        (main_new.clone(), "a new file in the main checkout\n".into()),
    ]);
    repo.agentos(&[
        "add",
        "Extend the guide",
        "-t",
        "docs/guide.md",
        "--id",
        "extend",
    ])
    .ok();
    repo.agentos_with(&["run"], &repo.claude_env(&api)).code(1);
    assert_eq!(
        repo.read("README.md"),
        before,
        "the main checkout is unchanged"
    );
    let reason = repo.read(".agentos/failed/extend.reason");
    // Claude Code refuses the call (a permission denial, or its own rule that a
    // file must be read before it is overwritten); either way it is named.
    assert!(
        reason.contains(&format!(
            "the agent tried to write `{main_readme}`, outside its worktree"
        )),
        "{reason}"
    );
    let stream = std::fs::read_to_string(repo.path(".agentos/runs/extend/attempt-1/agent.jsonl"))
        .unwrap_or_default();
    let about_new: Vec<&str> = stream.lines().filter(|l| l.contains("NEW.md")).collect();
    assert!(
        !repo.exists("NEW.md"),
        "the new file was never written: {about_new:#?}"
    );
    assert!(
        reason.contains(&format!(
            "the agent tried to write `{main_new}`, outside its worktree (Write was denied)"
        )),
        "{reason}"
    );
}

#[test]
fn claude_doing_the_right_thing_passes_with_a_report() {
    let repo = with_guide();
    let api = MessagesApi::writes(vec![(
        "docs/guide.md".into(),
        "# Guide\n\nStep one.\nStep two.\n".into(),
    )]);
    repo.agentos(&[
        "add",
        "Extend the guide",
        "-t",
        "docs/guide.md",
        "--id",
        "good",
        "--verify",
        "grep -q 'Step two' docs/guide.md",
    ])
    .ok();
    repo.agentos_with(&["run", "--keep"], &repo.claude_env(&api))
        .ok();
    let report = repo.read(".agentos/runs/good/attempt-1/report.md");
    assert!(
        report.contains("# Verification of `good`: passed"),
        "{report}"
    );
    assert!(
        report.contains("### `grep -q 'Step two' docs/guide.md`: passed"),
        "{report}"
    );
    repo.agentos(&["show", "good"])
        .ok()
        .stdout_has("report    .agentos/runs/good/attempt-1/report.md");
    let again = repo.agentos(&["verify", "good"]).ok();
    again.stdout_has("passed").stdout_has("+Step two.");
}

#[test]
fn renames_deletions_symlinks_and_require_all() {
    let repo = with_guide();
    // A rename out of the targets names the new path.
    repo.agentos(&["add", "Move", "-t", "README.md", "--id", "move"])
        .ok();
    run_fake(&repo, "mkdir -p docs && git mv README.md docs/README.md").code(1);
    let reason = repo.read(".agentos/failed/move.reason");
    assert!(
        reason.contains("`docs/README.md` is outside the targets"),
        "{reason}"
    );
    // Deleting a target is touching it.
    repo.agentos(&["add", "Delete", "-t", "docs/guide.md", "--id", "delete"])
        .ok();
    run_fake(&repo, "rm docs/guide.md").ok();
    assert!(repo.read(".agentos/done/delete.md").contains("Result"));
    // A symlink pointing out of the repository is refused, even inside the targets.
    repo.agentos(&["add", "Link", "-t", "link", "--id", "link"])
        .ok();
    run_fake(&repo, "ln -s /etc/hostname link").code(1);
    assert!(repo
        .read(".agentos/failed/link.reason")
        .contains("symbolic link to `/etc/hostname`, outside the repository"));
    // Every plain target must change, unless require_all = false.
    repo.agentos(&[
        "add",
        "Both",
        "-t",
        "README.md",
        "-t",
        "CHANGELOG.md",
        "--id",
        "both",
    ])
    .ok();
    run_fake(&repo, "echo more >> README.md").code(1);
    assert!(repo
        .read(".agentos/failed/both.reason")
        .contains("the target `CHANGELOG.md` was not changed"));
    repo.write(
        ".agentos/todo/either.md",
        "+++\ntitle = \"Either\"\ntargets = [\"README.md\", \"CHANGELOG.md\"]\nrequire_all = false\n+++\n",
    );
    run_fake(&repo, "echo more >> README.md").ok();
    assert!(repo.exists(".agentos/done/either.md"));
}

#[test]
fn failing_verify_commands_fail_the_task_with_their_output() {
    let repo = with_guide();
    repo.agentos(&[
        "add",
        "Checked",
        "-t",
        "README.md",
        "--id",
        "checked",
        "--verify",
        "echo checking; echo 'test foo failed' >&2; exit 3",
    ])
    .ok();
    run_fake(&repo, "echo more >> README.md").code(1);
    let reason = repo.read(".agentos/failed/checked.reason");
    assert!(reason.contains("failed (exit status: 3)"), "{reason}");
    let report = repo.read(".agentos/runs/checked/attempt-1/report.md");
    assert!(
        report.contains("test foo failed"),
        "the output tail is kept:\n{report}"
    );
}

#[test]
fn a_near_miss_target_fails_before_any_agent_runs() {
    let repo = with_guide();
    let marker = repo.scratch().join("agent-ran");
    repo.agentos(&["add", "Typo", "-t", "doc/guide.md", "--id", "typo"])
        .ok();
    let agent = FakeAgent::new(&repo)
        .runs_before_init(&format!("touch {}", marker.display()))
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let reason = repo.read(".agentos/failed/typo.reason");
    assert!(
        reason.contains("preflight") && reason.contains("did you mean `docs/guide.md`?"),
        "{reason}"
    );
    assert!(!marker.exists(), "no agent run was spent");
    // A new file in an existing folder is fine.
    repo.agentos(&[
        "add",
        "New chapter",
        "-t",
        "docs/chapter-2.md",
        "--id",
        "chapter",
    ])
    .ok();
    run_fake(&repo, "echo '# Two' > docs/chapter-2.md").ok();
}

#[test]
fn verify_rechecks_a_worktree_and_exits_1_when_it_rejects() {
    let repo = with_guide();
    repo.agentos(&["add", "Kept", "-t", "README.md", "--id", "kept"])
        .ok();
    let agent = FakeAgent::new(&repo).runs("echo more >> README.md").build();
    repo.agentos_env(&["run", "--keep"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    repo.agentos(&["verify", "kept"]).ok().stdout_has("passed");
    // Someone edits the kept worktree outside the targets: verify now rejects it.
    std::fs::write(repo.path(".agentos/worktrees/kept/stray.txt"), "oops\n").expect("write");
    let run = repo.agentos(&["verify", "kept"]).code(1);
    run.stdout_has("rejected")
        .stdout_has("`stray.txt` is outside the targets");
    repo.agentos(&["verify", "nope"]).code(2);
}

/// `run --jobs N` runs disjoint tasks side by side, and never two whose targets
/// may overlap. Each agent records how many agents were running when it looked.
#[test]
fn jobs_run_disjoint_tasks_together_and_overlapping_ones_apart() {
    let repo = TestRepo::initialised();
    let here = repo.scratch().join("running");
    let counts = repo.scratch().join("counts");
    std::fs::create_dir_all(&here).expect("mkdir");
    let agent = FakeAgent::new(&repo)
        .runs(&format!(
            "touch {h}/$AGENTOS_TASK_ID\ni=0\nwhile [ $i -lt 40 ] && [ $(ls {h} | wc -l) -lt 2 ]; do sleep 0.05; i=$((i+1)); done\nls {h} | wc -l >> {c}",
            h = here.display(),
            c = counts.display()
        ))
        .runs("mkdir -p $AGENTOS_TASK_ID && echo x > $AGENTOS_TASK_ID/f.txt")
        .runs(&format!("rm {}/$AGENTOS_TASK_ID", here.display()))
        .build();
    for id in ["a", "b", "c"] {
        repo.agentos(&["add", id, "--id", id, "-t", &format!("{id}/**")])
            .ok();
    }
    repo.agentos_env(&["run", "--jobs", "3"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    let seen: Vec<u32> = std::fs::read_to_string(&counts)
        .expect("counts")
        .lines()
        .map(|l| l.trim().parse().expect("n"))
        .collect();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().any(|n| *n >= 2),
        "disjoint tasks ran side by side: {seen:?}"
    );
    for id in ["a", "b", "c"] {
        assert!(repo.exists(&format!(".agentos/done/{id}.md")), "{id} done");
    }
    // Overlapping targets (both may touch shared/**): one at a time.
    std::fs::remove_file(&counts).expect("rm");
    for id in ["p", "q"] {
        repo.agentos(&[
            "add",
            id,
            "--id",
            id,
            "-t",
            &format!("{id}/**"),
            "-t",
            "shared/**",
        ])
        .ok();
    }
    repo.agentos_env(&["run", "--jobs", "2"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    let seen: Vec<u32> = std::fs::read_to_string(&counts)
        .expect("counts")
        .lines()
        .map(|l| l.trim().parse().expect("n"))
        .collect();
    assert_eq!(seen, vec![1, 1], "overlapping tasks never run together");
}

#[test]
fn mode_changes_binary_files_and_a_persons_own_edits() {
    let repo = with_guide();
    // A mode change is a change to the target.
    repo.agentos(&["add", "Executable", "-t", "README.md", "--id", "mode"])
        .ok();
    run_fake(&repo, "chmod +x README.md").ok();
    let report = repo.read(".agentos/runs/mode/attempt-1/report.md");
    assert!(
        report.contains("`README.md`: type or mode changed"),
        "{report}"
    );
    // A binary file is reported as such, not dumped into the diff.
    repo.agentos(&["add", "Logo", "-t", "assets/**", "--id", "logo"])
        .ok();
    run_fake(
        &repo,
        "mkdir -p assets && printf 'PNG\\000\\001\\002' > assets/logo.png",
    )
    .ok();
    let report = repo.read(".agentos/runs/logo/attempt-1/report.md");
    assert!(
        report.contains("Binary file `assets/logo.png` added"),
        "{report}"
    );
    // A person editing the main checkout while a task runs never fails the task.
    repo.write(
        "README.md",
        "# Example\n\nThe person's own, uncommitted edit.\n",
    );
    repo.write("notes.txt", "scratch\n");
    repo.agentos(&["add", "Guide", "-t", "docs/guide.md", "--id", "guide"])
        .ok();
    run_fake(&repo, "echo more >> docs/guide.md").ok();
    assert_eq!(
        repo.read("README.md"),
        "# Example\n\nThe person's own, uncommitted edit.\n"
    );
}
