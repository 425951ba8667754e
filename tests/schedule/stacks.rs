//! Stacked tasks: a task after exactly one task starts from its branch head,
//! is judged on its own change, and opens its pull request against that branch.
use crate::publish::{env, with_remote, TOKEN};
use crate::support::git_remotes::{bare, git_in};
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

/// A script under which each task's agent writes `<its id>.md` (the id read
/// off its worktree's folder), then says it is done.
fn writes_own_file() -> MessagesApi {
    MessagesApi::start(Arc::new(|turn: &Turn| {
        let cwd = turn.cwd.clone().unwrap_or_default();
        let id = cwd.rsplit('/').next().unwrap_or_default().to_string();
        match turn.tool_results {
            0 => Reply::Tool {
                name: "Write".into(),
                input: json!({"file_path": format!("{cwd}/{id}.md"), "content": format!("{id}\n")}),
            },
            _ => Reply::Text("Done.".into()),
        }
    }))
}

#[test]
fn a_chain_of_three_runs_in_order_each_from_the_previous_branch() {
    let repo = TestRepo::initialised();
    // Each task writes `<its id>.md`, its only target: a task judged against
    // main instead of its dependency's branch would be rejected.
    let api = writes_own_file();
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
    let api = GitHubApi::start_with_origin("octo", "widgets", &repo.dir.path().join("remote.git"));
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
    // `docs` is not stacked: it waits until `schema` is merged.
    repo.agentos_with(&["run"], &env)
        .ok()
        .stdout_has("held    docs: waiting on schema");
    let base_of = |head: &str| {
        api.pulls()
            .iter()
            .find(|p| p["head"]["ref"] == head)
            .map(|p| p["base"]["ref"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(base_of("agentos/schema").as_deref(), Some("main"));
    assert_eq!(base_of("agentos/api").as_deref(), Some("agentos/schema"));
    assert_eq!(base_of("agentos/docs"), None);
    api.merge(1, "octocat");
    repo.agentos_with(&["sync"], &env).ok();
    repo.agentos_with(&["run"], &env).ok();
    assert_eq!(
        base_of("agentos/docs").as_deref(),
        Some("main"),
        "--no-stack"
    );
    assert_eq!(rev(&repo, "agentos/docs^"), rev(&repo, "main"));
}

/// `schema`, then `api` stacked on it, published by the real Claude Code CLI
/// to the GitHub stand-in over a bare origin: both in review/, `api`'s pull
/// request against `agentos/schema`.
struct Stacked {
    repo: TestRepo,
    origin: std::path::PathBuf,
    github: GitHubApi,
    claude: MessagesApi,
    env: Vec<(String, String)>,
    printed: String,
}

impl Stacked {
    fn published() -> Stacked {
        let repo = TestRepo::initialised();
        let origin = bare(repo.dir.path(), "origin");
        repo.git(&["remote", "add", "origin", origin.to_str().expect("utf8")]);
        repo.git(&["push", "-q", "origin", "main"]);
        let github = GitHubApi::start_with_origin("octo", "widgets", &origin);
        let claude = writes_own_file();
        let mut env = repo.claude_env(&claude);
        env.extend([
            ("AGENTOS_GITHUB_API".into(), github.url.clone()),
            ("AGENTOS_GITHUB_REPO".into(), "octo/widgets".into()),
            ("GITHUB_TOKEN".into(), TOKEN.into()),
        ]);
        let mut s = Stacked {
            repo,
            origin,
            github,
            claude,
            env,
            printed: String::new(),
        };
        s.origin_git(&["config", "core.logAllRefUpdates", "always"]);
        s.repo
            .agentos(&["add", "Schema", "-t", "schema.md", "--id", "schema"])
            .ok();
        s.repo
            .agentos(&[
                "add", "API", "-t", "api.md", "--id", "api", "--after", "schema",
            ])
            .ok();
        // The stacked task starts once its dependency is in review (its pull
        // request open), not only once it merged.
        let run = s.agentos(&["run"], None);
        assert!(s.repo.exists(".agentos/review/schema.md"), "{}", s.printed);
        assert!(s.repo.exists(".agentos/review/api.md"), "{}", s.printed);
        assert_eq!(run.code, 0, "{}", s.printed);
        assert_eq!(s.pull("agentos/api")["base"]["ref"], "agentos/schema");
        assert_eq!(s.origin_rev("agentos/api^"), s.origin_rev("agentos/schema"));
        assert_eq!(s.record()["stack_base"], "agentos/schema");
        s
    }

    /// `git agentos ARGS`, killed at `fault` when one is named.
    fn agentos(&mut self, args: &[&str], fault: Option<&str>) -> crate::support::Run {
        let mut env = self.env.clone();
        if let Some(point) = fault {
            env.push(("AGENTOS_FAULT".into(), point.into()));
        }
        let run = self.repo.agentos_with(args, &env);
        self.printed.push_str(&run.stdout);
        self.printed.push_str(&run.stderr);
        run
    }

    fn origin_git(&self, args: &[&str]) -> String {
        git_in(&self.origin, args).trim().to_string()
    }

    fn origin_rev(&self, what: &str) -> String {
        self.origin_git(&["rev-parse", what])
    }

    /// How many times origin's `agentos/api` was updated.
    fn api_pushes(&self) -> usize {
        self.origin_git(&["reflog", "show", "--format=%H", "refs/heads/agentos/api"])
            .lines()
            .count()
    }

    fn pull(&self, head: &str) -> serde_json::Value {
        self.github
            .pulls()
            .into_iter()
            .find(|p| p["head"]["ref"] == head)
            .expect("a pull request")
    }

    fn number(&self, head: &str) -> u64 {
        self.pull(head)["number"].as_u64().expect("number")
    }

    /// `api`'s record, in review/.
    fn record(&self) -> serde_json::Value {
        serde_json::from_str(&self.repo.read(".agentos/review/api.record.json")).expect("record")
    }

    /// `api` moved onto main: its pull request against main, its one commit
    /// on `merged`, its record no longer stacked, pushed exactly once more.
    fn assert_moved_onto(&self, merged: &str) {
        assert_eq!(self.pull("agentos/api")["base"]["ref"], "main");
        assert_eq!(self.origin_rev("main"), merged);
        let tip = self.origin_rev("agentos/api");
        assert_eq!(self.origin_rev("agentos/api^"), merged);
        assert_eq!(rev(&self.repo, "agentos/api"), tip, "the local branch too");
        let files = self.repo.git(&["ls-tree", "--name-only", &tip]);
        for f in ["README.md", "schema.md", "api.md"] {
            assert!(files.lines().any(|l| l == f), "{f} in {files}");
        }
        let record = self.record();
        assert!(record["stack_base"].is_null(), "{record}");
        assert!(record["restack"].is_null(), "{record}");
        assert_eq!(record["base_commit"], merged);
        assert_eq!(record["pushed_commit"], tip.as_str());
        assert_eq!(self.api_pushes(), 2, "published, then moved: one push each");
    }

    /// The token is in nothing printed, no file, no request to either API.
    fn assert_no_token(&self) {
        assert!(!self.printed.contains(TOKEN), "the token was printed");
        let (searched, found) = crate::support::search_files(self.repo.dir.path(), TOKEN);
        assert!(found.is_empty(), "the token is in {found:?}");
        assert!(searched > 20, "searched {searched} files");
        for (_, _, body) in &self.github.state.lock().expect("lock").requests {
            assert!(!body.contains(TOKEN), "a request carried the token");
        }
        for body in self.claude.requests.lock().expect("lock").iter() {
            assert!(!body.to_string().contains(TOKEN), "the agent saw the token");
        }
    }
}

#[test]
fn a_stacked_pull_request_moves_onto_the_base_branch_once_its_dependency_merges() {
    let mut s = Stacked::published();
    let api_number = s.number("agentos/api");
    let merged = s.github.merge(s.number("agentos/schema"), "octocat");
    let sync = s.agentos(&["sync"], None);
    let said = format!("{}{}", sync.stdout, sync.stderr);
    assert_eq!(sync.code, 0, "{said}");
    assert!(s.repo.exists(".agentos/done/schema.md"), "{said}");
    assert!(s.repo.exists(".agentos/review/api.md"), "{said}");
    assert!(
        said.contains(&format!(
            "agentos/api rebased onto main, pushed (with lease), pull request #{api_number} now against main"
        )),
        "{said}"
    );
    s.assert_moved_onto(&merged);

    // A second pass moves nothing and pushes nothing.
    let again = s.agentos(&["sync"], None);
    assert!(!again.stderr.contains("rebased onto"), "{}", again.stderr);
    s.assert_moved_onto(&merged);
    let patches = s
        .github
        .requests_to("PATCH", &format!("/pulls/{api_number}"));
    assert_eq!(patches, 1);
    s.assert_no_token();
}

#[test]
fn a_dispatcher_killed_while_moving_a_stacked_branch_resumes_without_a_second_push() {
    for point in ["restack-rebased", "restack-pushed"] {
        let mut s = Stacked::published();
        let merged = s.github.merge(s.number("agentos/schema"), "octocat");
        let killed = s.agentos(&["sync"], Some(point));
        assert_ne!(killed.code, 0, "killed at {point}: {}", s.printed);
        assert!(
            s.record()["restack"].is_object(),
            "journalled before {point}"
        );
        let sync = s.agentos(&["sync"], None);
        assert_eq!(sync.code, 0, "{}", s.printed);
        s.assert_moved_onto(&merged);
        s.assert_no_token();
    }
}

#[test]
fn a_stacked_branch_that_conflicts_with_its_base_is_left_for_a_person() {
    let mut s = Stacked::published();
    let api_number = s.number("agentos/api");
    let merged = s.github.merge(s.number("agentos/schema"), "octocat");
    // Someone adds an api.md of their own to main after the merge.
    let person = s.repo.dir.path().join("person");
    let git = |args: &[&str], dir: &std::path::Path| {
        let mut cmd = std::process::Command::new("git");
        crate::support::seal(&mut cmd, &s.repo.home);
        let out = cmd.args(args).current_dir(dir).output().expect("git");
        assert!(out.status.success(), "{args:?}");
    };
    git(
        &["clone", "-q", s.origin.to_str().expect("utf8"), "person"],
        s.repo.dir.path(),
    );
    std::fs::write(person.join("api.md"), "not the same\n").expect("write");
    git(&["add", "-A"], &person);
    git(&["commit", "-q", "-m", "Their own api.md"], &person);
    git(&["push", "-q", "origin", "main"], &person);
    let tip = s.origin_rev("agentos/api");
    let sync = s.agentos(&["sync"], None);
    assert_eq!(sync.code, 0, "{}", s.printed);
    assert!(
        sync.stderr
            .contains("rebasing agentos/api onto main conflicts in `api.md`"),
        "{}",
        sync.stderr
    );
    // Nothing moved: the branch, the pull request's base, the record.
    assert_ne!(s.origin_rev("main"), merged);
    assert_eq!(s.origin_rev("agentos/api"), tip);
    assert_eq!(s.api_pushes(), 1);
    assert_eq!(s.pull("agentos/api")["base"]["ref"], "agentos/schema");
    assert_eq!(s.record()["stack_base"], "agentos/schema");
    assert_eq!(s.record()["restack"]["conflicts"][0], "api.md");
    // A person is asked, once.
    assert!(s
        .github
        .labels(api_number)
        .contains(&"agentos:needs-human".to_string()));
    s.agentos(&["sync"], None);
    let asked: Vec<String> = s
        .github
        .posted(api_number)
        .into_iter()
        .filter(|c| c.contains("conflicts in `api.md`"))
        .collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let friction = s.repo.read(".agentos/friction.jsonl");
    assert!(friction.contains("restack-conflict"), "{friction}");
    s.assert_no_token();
}
