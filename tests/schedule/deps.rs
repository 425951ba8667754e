//! Dependencies: `after`, waiting and blocked tasks, cycles and unknown ids.
use crate::support::{FakeAgent, TestRepo};

fn add(repo: &TestRepo, id: &str, after: &[&str]) -> crate::support::Run {
    let mut args = vec!["add", id, "-t", "README.md", "--id", id, "--no-stack"];
    for a in after {
        args.extend(["--after", a]);
    }
    repo.agentos(&args)
}

fn claimed_at(repo: &TestRepo, id: &str) -> String {
    let text = repo.read(&format!(".agentos/done/{id}.record.json"));
    let record: serde_json::Value = serde_json::from_str(&text).expect("record");
    record["claimed_at"]
        .as_str()
        .expect("claimed_at")
        .to_string()
}

#[test]
fn a_failed_dependency_blocks_and_a_retry_unblocks() {
    let repo = TestRepo::initialised();
    add(&repo, "schema", &[]).ok();
    add(&repo, "api", &["schema"]).ok();
    add(&repo, "docs", &["api"]).ok();
    add(&repo, "nothing", &["missing"])
        .code(2)
        .stderr_has("field `after`: `missing` is no task in todo/, doing/, done/ or failed/");
    repo.agentos(&["list"])
        .ok()
        .stdout_has("api  (waiting on schema)")
        .stdout_has("docs  (waiting on api)");

    let failing = FakeAgent::new(&repo)
        .reports_error("error_during_execution", "it broke")
        .exits(1)
        .build();
    let run = repo
        .agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &failing)])
        .code(1);
    run.stdout_has("failed  schema")
        .stdout_has("held    api: blocked: schema failed")
        .stdout_has("held    docs: blocked: schema failed (through api)");
    assert_eq!(repo.files_in(".agentos/todo"), ["api.md", "docs.md"]);
    repo.agentos(&["status"])
        .ok()
        .stdout_has("held        api: blocked: schema failed\n")
        .stdout_has("held        docs: blocked: schema failed (through api)\n");
    let json = repo.agentos(&["status", "--json"]).ok().json();
    assert_eq!(json["held"][0]["id"], "api");
    assert_eq!(json["held"][0]["kind"], "blocked");
    assert_eq!(json["held"][0]["failed"], "schema");
    repo.agentos(&["show", "docs"])
        .ok()
        .stdout_has("todo (blocked: schema failed (through api))");

    repo.agentos(&["retry", "schema"]).ok();
    let good = FakeAgent::new(&repo)
        .runs("echo \"$AGENTOS_TASK_ID\" >> README.md")
        .build();
    let run = repo
        .agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &good)])
        .ok();
    run.stdout_has("done    schema")
        .stdout_has("done    api")
        .stdout_has("done    docs");
    let (s, a, d) = (
        claimed_at(&repo, "schema"),
        claimed_at(&repo, "api"),
        claimed_at(&repo, "docs"),
    );
    assert!(s < a && a < d, "in order: {s} {a} {d}");
}

#[test]
fn a_cycle_is_refused_at_add_and_quarantined_when_hand_written() {
    let repo = TestRepo::initialised();
    let hand = |id: &str, after: &str| {
        repo.write(
            &format!(".agentos/todo/{id}.md"),
            &format!("+++\ntitle = \"{id}\"\ntargets = [\"README.md\"]\nafter = [{after}]\n+++\n"),
        )
    };
    // c waits on d, which does not exist yet; adding d after c closes a cycle.
    hand("c", "\"d\"");
    add(&repo, "d", &["c"])
        .code(2)
        .stderr_has("the tasks wait on each other in a cycle: d → c → d");
    add(&repo, "e", &["e"])
        .code(2)
        .stderr_has("in a cycle: e → e");
    assert!(!repo.exists(".agentos/todo/d.md"));

    hand("x", "\"y\"");
    hand("y", "\"x\"");
    hand("free", "");
    let status = repo.agentos(&["status"]).ok();
    status.stdout_has("invalid     .agentos/todo/x.md: field `after`: the tasks wait on each other in a cycle: x → y → x");
    let agent = FakeAgent::new(&repo).runs("echo done >> README.md").build();
    let run = repo
        .agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    run.stdout_has("done    free");
    for (id, what) in [
        ("x", "x → y → x"),
        ("y", "y → x → y"),
        ("c", "`d` is no task in todo/, doing/, done/ or failed/"),
    ] {
        let reason = repo.read(&format!(".agentos/failed/{id}.reason"));
        assert!(reason.contains(what), "{id}: {reason}");
    }
    // Quarantined byte for byte.
    assert_eq!(
        repo.read(".agentos/failed/x.md"),
        "+++\ntitle = \"x\"\ntargets = [\"README.md\"]\nafter = [\"y\"]\n+++\n"
    );
}

#[test]
fn the_hook_reads_an_after_trailer() {
    let repo = TestRepo::initialised();
    add(&repo, "schema", &[]).ok();
    repo.agentos(&["hooks", "install"]).ok();
    repo.write("notes.md", "x\n");
    repo.git(&["add", "notes.md"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "Plan\n\nAgentos-Task: Write the API\nAgentos-Targets: README.md\nAgentos-After: schema",
    ]);
    crate::support::wait_until(
        std::time::Duration::from_secs(20),
        "the hook queues the task",
        || repo.exists(".agentos/todo/write-the-api.md"),
    );
    let text = repo.read(".agentos/todo/write-the-api.md");
    assert!(text.contains("after = [\"schema\"]"), "{text}");
    repo.agentos(&["list"])
        .ok()
        .stdout_has("Write the API  (waiting on schema)");
}
