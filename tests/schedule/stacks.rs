//! Stacked tasks: a task after exactly one task starts from its branch head,
//! is judged on its own change, and opens its pull request against that branch.
use crate::publish::{env, with_remote};
use crate::support::github::GitHubApi;
use crate::support::messages_api::{MessagesApi, Reply, Turn};
use crate::support::{FakeAgent, TestRepo};
use serde_json::json;
use std::sync::Arc;

fn record(repo: &TestRepo, id: &str) -> serde_json::Value {
    serde_json::from_str(&repo.read(&format!(".agentos/done/{id}.record.json"))).expect("record")
}

fn rev(repo: &TestRepo, what: &str) -> String {
    repo.git(&["rev-parse", what]).trim().to_string()
}

#[test]
fn a_chain_of_three_runs_in_order_each_from_the_previous_branch() {
    let repo = TestRepo::initialised();
    // Each task writes `<its id>.md`, its only target: a task judged against
    // main instead of its dependency's branch would be rejected.
    let api = MessagesApi::start(Arc::new(|turn: &Turn| {
        let cwd = turn.cwd.clone().unwrap_or_default();
        let id = cwd.rsplit('/').next().unwrap_or_default().to_string();
        match turn.tool_results {
            0 => Reply::Tool {
                name: "Write".into(),
                input: json!({"file_path": format!("{cwd}/{id}.md"), "content": format!("{id}\n")}),
            },
            _ => Reply::Text("Done.".into()),
        }
    }));
    repo.agentos(&["add", "One", "-t", "one.md", "--id", "one"])
        .ok();
    repo.agentos(&[
        "add", "Two", "-t", "two.md", "--id", "two", "--after", "one",
    ])
    .ok();
    repo.agentos(&[
        "add", "Three", "-t", "three.md", "--id", "three", "--after", "two",
    ])
    .ok();
    repo.agentos(&["show", "three"])
        .ok()
        .stdout_has("state     todo (waiting on two)")
        .stdout_has("after     two (stacked: starts from agentos/two)");
    let run = repo
        .agentos_with(&["run", "--no-pr"], &repo.claude_env(&api))
        .ok();
    let order = super::done_order(&run.stdout);
    assert_eq!(order, ["one", "two", "three"], "{}", run.stdout);
    // Each branch is one commit on top of the one before.
    assert_eq!(rev(&repo, "agentos/one^"), rev(&repo, "main"));
    assert_eq!(rev(&repo, "agentos/two^"), rev(&repo, "agentos/one"));
    assert_eq!(rev(&repo, "agentos/three^"), rev(&repo, "agentos/two"));
    let files = repo.git(&["ls-tree", "--name-only", "agentos/three"]);
    for f in ["README.md", "one.md", "two.md", "three.md"] {
        assert!(files.lines().any(|l| l == f), "{f} in {files}");
    }
    let two = record(&repo, "two");
    assert_eq!(two["base_commit"], rev(&repo, "agentos/one").as_str());
    assert_eq!(two["stack_base"], "agentos/one");
    assert!(record(&repo, "one")["stack_base"].is_null());
}

#[test]
fn a_stacked_pull_request_goes_against_its_dependencys_branch() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    let agent = FakeAgent::new(&repo)
        .runs("echo \"$AGENTOS_TASK_ID\" > \"$AGENTOS_TASK_ID.md\"")
        .build();
    let mut env = env(&repo, &api);
    env.retain(|(k, _)| k != "AGENTOS_AGENT_CMD");
    env.push(("AGENTOS_AGENT_CMD".into(), agent));
    repo.agentos(&["add", "Schema", "-t", "schema.md", "--id", "schema"])
        .ok();
    repo.agentos(&[
        "add", "API", "-t", "api.md", "--id", "api", "--after", "schema",
    ])
    .ok();
    repo.agentos(&[
        "add",
        "Docs",
        "-t",
        "docs.md",
        "--id",
        "docs",
        "--after",
        "schema",
        "--no-stack",
    ])
    .ok();
    repo.agentos_with(&["run"], &env).ok();
    let pulls = api.pulls();
    let base_of = |head: &str| {
        pulls
            .iter()
            .find(|p| p["head"]["ref"] == head)
            .map(|p| p["base"]["ref"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(base_of("agentos/schema").as_deref(), Some("main"));
    assert_eq!(base_of("agentos/api").as_deref(), Some("agentos/schema"));
    assert_eq!(
        base_of("agentos/docs").as_deref(),
        Some("main"),
        "--no-stack"
    );
    assert_eq!(rev(&repo, "agentos/docs^"), rev(&repo, "main"));
}
