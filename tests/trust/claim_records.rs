//! Red team 15-02 and 15-07: a claim record is read, never obeyed. A record
//! committed in a cloned repository that names a path as its attempt folder
//! does not make the dispatcher remove it; one that names a path as its agent
//! is not one this dispatcher wrote, and the task is resumed as a fresh claim
//! with its own agent.
use crate::support::{FakeAgent, TestRepo};

/// A task in doing/ with a record written by someone else.
fn plant(repo: &TestRepo, record: &str) {
    repo.write(
        ".agentos/doing/evil.md",
        "+++\ntitle = \"evil\"\ntargets = [\"README.md\"]\n+++\nbody\n",
    );
    repo.write(".agentos/doing/evil.record.json", record);
}

fn precious(repo: &TestRepo) -> std::path::PathBuf {
    let dir = repo.dir.path().join("precious");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("sub/file"), "KEEP\n").expect("write");
    dir
}

fn run(repo: &TestRepo) -> crate::support::Run {
    let agent = FakeAgent::new(repo).writes("README.md", "fixed\n").build();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
}

#[test]
fn an_attempt_folder_named_by_a_record_outside_the_temporary_folder_is_left_alone() {
    for named in ["../precious", "ABSOLUTE"] {
        let repo = TestRepo::initialised();
        let keep = precious(&repo);
        let named = named.replace("ABSOLUTE", &keep.display().to_string());
        plant(
            &repo,
            &format!(
                r#"{{"id":"evil","agent":"default","attempt":1,"pid":4194000,"steps":[],"attempt_dir":{named:?}}}"#
            ),
        );
        let out = run(&repo);
        assert_eq!(
            std::fs::read_to_string(keep.join("sub/file"))
                .ok()
                .as_deref(),
            Some("KEEP\n"),
            "{named} was removed: {out:?}"
        );
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(said.contains("alone: the record names it"), "{said}");
        assert!(repo.exists(".agentos/done/evil.md"), "{out:?}");
    }
}

#[test]
fn a_record_whose_agent_is_a_path_is_not_taken_and_the_task_runs_with_its_own_agent() {
    let repo = TestRepo::initialised();
    let evil = repo.dir.path().join("evil-agent");
    std::fs::create_dir_all(&evil).expect("mkdir");
    std::fs::write(evil.join("AGENT.md"), "EXFILTRATE\n").expect("write");
    plant(
        &repo,
        r#"{"id":"evil","agent":"../../evil-agent","attempt":1,"pid":4194000,"steps":[]}"#,
    );
    let out = run(&repo);
    assert!(repo.exists(".agentos/done/evil.md"), "{out:?}");
    let record = repo.read(".agentos/done/evil.record.json");
    assert!(record.contains(r#""agent": "default""#), "{record}");
    assert!(!record.contains("evil-agent"), "{record}");
}

#[test]
fn a_record_with_another_id_or_a_base_that_is_not_a_commit_is_refused_on_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.record.json");
    for bad in [
        r#"{"id":"other","agent":"default"}"#,
        r#"{"id":"mine","agent":"a/b"}"#,
        r#"{"id":"mine","agent":"default","base_commit":"--upload-pack=x"}"#,
    ] {
        std::fs::write(&path, bad).expect("write");
        let err = git_agentos::queue::read_record(&path).expect_err(bad);
        assert!(err.to_string().contains("mine.record.json"), "{err}");
    }
    std::fs::write(&path, r#"{"id":"mine","agent":"default"}"#).expect("write");
    assert!(git_agentos::queue::read_record(&path)
        .expect("read")
        .is_some());
}
