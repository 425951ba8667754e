//! Memory as a service (the vault, the CLI, the MCP server) and the friction log.
use crate::support::messages_api::{MessagesApi, Reply, Turn};
use crate::support::{seal, FakeAgent, TestRepo, BIN};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// An MCP client over the stdio of `git-agentos mcp`.
struct Mcp {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
    next: u64,
}

impl Mcp {
    fn start(repo: &TestRepo, vault_home: &std::path::Path, extra: &[&str]) -> Mcp {
        let mut cmd = Command::new(BIN);
        seal(&mut cmd, &repo.home);
        let mut child = cmd
            .arg("mcp")
            .args(extra)
            .env("AGENTOS_HOME", vault_home)
            .current_dir(repo.root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mcp");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut mcp = Mcp {
            child,
            out,
            next: 1,
        };
        let init = mcp.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}),
        );
        assert_eq!(init["serverInfo"]["name"], "git-agentos", "{init}");
        assert!(init["capabilities"]["tools"].is_object(), "{init}");
        mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        mcp
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{message}").expect("write");
        stdin.flush().expect("flush");
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(
                self.out.read_line(&mut line).expect("read") > 0,
                "server closed"
            );
            let v: Value = serde_json::from_str(&line).expect("JSON-RPC line");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{v}");
                return v["result"].clone();
            }
        }
    }

    fn call(&mut self, tool: &str, arguments: Value) -> (String, bool) {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let text = r["content"][0]["text"].as_str().unwrap_or("").to_string();
        (text, r["isError"] == true)
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[test]
fn a_note_added_in_one_repository_is_found_from_another_by_the_cli_and_over_mcp() {
    let vault = tempfile::tempdir().expect("vault");
    let home = vault.path().to_str().expect("utf8").to_string();
    let env = [("AGENTOS_HOME", home.as_str())];
    let one = TestRepo::initialised();
    let other = TestRepo::initialised();
    let id = one
        .agentos_env(
            &[
                "memory",
                "add",
                "Integration tests need a running postgres; start it with `make db`.",
                "--tag",
                "testing",
            ],
            &env,
        )
        .ok()
        .stdout
        .trim()
        .to_string();
    one.agentos_env(&["memory", "add", "Releases are cut on Tuesdays."], &env)
        .ok();
    // The note is a plain Markdown file a person can read.
    let file = std::fs::read_to_string(vault.path().join("memory").join(format!("{id}.md")))
        .expect("note file");
    assert!(
        file.starts_with("+++\n") && file.contains("tags = [\"testing\"]"),
        "{file}"
    );
    // Found from the other repository, ranked first, with where it came from.
    let found = other
        .agentos_env(
            &["memory", "search", "how do I run the tests", "--json"],
            &env,
        )
        .ok();
    let hits: Value = serde_json::from_str(&found.stdout).expect("json");
    assert_eq!(hits[0]["id"], id.as_str(), "{hits}");
    let source = one.root().canonicalize().expect("canonical");
    assert_eq!(hits[0]["repo"], source.to_str().expect("utf8"));
    assert_eq!(hits.as_array().map(Vec::len), Some(1), "{hits}");

    // Over MCP from the other repository: list the tools, search, add.
    let mut mcp = Mcp::start(&other, vault.path(), &[]);
    let tools = mcp.request("tools/list", json!({}));
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for tool in ["memory_search", "memory_add", "current_task"] {
        assert!(names.contains(&tool), "{names:?}");
    }
    let (text, is_error) = mcp.call("memory_search", json!({"query": "postgres tests"}));
    assert!(
        !is_error && text.contains("make db") && text.contains(&id),
        "{text}"
    );
    let (text, is_error) = mcp.call(
        "memory_add",
        json!({"text": "The API client retries 5xx itself.", "tags": ["api"]}),
    );
    assert!(!is_error, "{text}");
    let (text, is_error) = mcp.call("current_task", json!({}));
    assert!(
        is_error && text.contains("not started for a task"),
        "{text}"
    );
    drop(mcp);
    one.agentos_env(&["memory", "search", "retries"], &env)
        .ok()
        .stdout_has("The API client retries 5xx itself.");

    // Started for a task, it returns the task's file.
    other
        .agentos(&[
            "add",
            "Document the API",
            "-t",
            "docs/api.md",
            "--id",
            "api-docs",
        ])
        .ok();
    let mut mcp = Mcp::start(&other, vault.path(), &["--task", "api-docs"]);
    let (text, is_error) = mcp.call("current_task", json!({}));
    assert!(
        !is_error && text.contains("Document the API") && text.contains("docs/api.md"),
        "{text}"
    );
    drop(mcp);

    // rm removes exactly that note.
    one.agentos_env(&["memory", "rm", &id], &env).ok();
    let list = one.agentos_env(&["memory", "list", "--json"], &env).ok();
    let notes: Value = serde_json::from_str(&list.stdout).expect("json");
    assert_eq!(notes.as_array().map(Vec::len), Some(2), "{notes}");
    one.agentos_env(&["memory", "rm", &id], &env)
        .code(2)
        .stderr_has("memory list");
}

#[test]
fn real_claude_code_receives_the_memory_server_and_queries_it() {
    let repo = TestRepo::initialised();
    repo.agentos(&[
        "memory",
        "add",
        "The install command is `cargo install --locked git-agentos`.",
        "--tag",
        "install",
    ])
    .ok();
    let api = MessagesApi::start(Arc::new(|turn: &Turn| match turn.tool_results {
        0 => Reply::Tool {
            name: "mcp__agentos__memory_search".into(),
            input: json!({"query": "install command"}),
        },
        1 => Reply::Tool {
            name: "Write".into(),
            input: json!({
                "file_path": format!("{}/README.md", turn.cwd.clone().unwrap_or_default()),
                "content": "# Example\n\nInstall with `cargo install --locked git-agentos`.\n"
            }),
        },
        _ => Reply::Text("Done.".into()),
    }));
    repo.agentos(&[
        "add",
        "Fix the install command",
        "-t",
        "README.md",
        "--id",
        "fix",
    ])
    .ok();
    repo.agentos_with(&["run"], &repo.claude_env(&api)).ok();
    let requests = api.requests.lock().expect("lock").clone();
    let first = &requests[0];
    // Claude Code started the server and offers its tools (2.1 lists MCP tools as
    // deferred ones, by name, next to the server's instructions).
    let text = first.to_string();
    for tool in ["memory_search", "memory_add", "current_task"] {
        assert!(
            text.contains(&format!("mcp__agentos__{tool}")),
            "{tool} offered"
        );
    }
    assert!(text.contains("Search memory_search before you start"));
    // The tool result the agent got back holds the note.
    let second = requests
        .iter()
        .find(|r| r.to_string().contains("tool_result"))
        .expect("a request with the tool result");
    assert!(
        second
            .to_string()
            .contains("cargo install --locked git-agentos"),
        "the memory search answered: {second}"
    );
    assert!(repo.exists(".agentos/done/fix.md"));
    // The prompt told it how.
    assert!(first.to_string().contains("memory_search"));
}

#[test]
fn three_failed_tasks_become_friction_and_one_task_once() {
    let repo = TestRepo::initialised();
    let agent = FakeAgent::plain(&repo)
        .stream_json("not json at all")
        .exits(1)
        .build();
    for n in 1..=3 {
        repo.agentos(&[
            "add",
            &format!("Task {n}"),
            "-t",
            "README.md",
            "--id",
            &format!("t{n}"),
        ])
        .ok();
    }
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let lines: Vec<Value> = repo
        .read(".agentos/friction.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        assert_eq!(line["kind"], "agent-error");
        assert_eq!(line["step"], "agent");
        assert_eq!(line["attempt"], 1);
        assert!(line["message"]
            .as_str()
            .unwrap_or("")
            .contains("stream-json"));
    }
    let summary: Value =
        serde_json::from_str(&repo.agentos(&["friction", "--json"]).ok().stdout).expect("json");
    assert_eq!(summary["total"], 3);
    assert_eq!(summary["recurring"][0]["count"], 3);
    repo.agentos(&["friction"]).ok().stdout_has("agent-error");

    repo.agentos(&["friction", "--enqueue"])
        .ok()
        .stdout_has("queued friction-agent-error.agent");
    let task = repo.read(".agentos/todo/friction-agent-error.agent.md");
    assert!(
        task.contains("3 times") && task.contains("t1") && task.contains("stream-json"),
        "{task}"
    );
    // A valid task, targeting where the failing tasks worked.
    repo.agentos(&["show", "friction-agent-error.agent"])
        .ok()
        .stdout_has("README.md");
    repo.agentos(&["friction", "--enqueue"])
        .ok()
        .stdout_has("nothing queued");
    // Even after it ran and left todo/.
    std::fs::remove_file(repo.path(".agentos/todo/friction-agent-error.agent.md")).expect("rm");
    repo.agentos(&["friction", "--enqueue"])
        .ok()
        .stdout_has("nothing queued");
    // A retry is friction too.
    repo.agentos(&["retry", "t1"]).ok();
    repo.agentos(&["friction", "--since", "1h"])
        .ok()
        .stdout_has("retry");
}

#[test]
fn two_processes_appending_at_once_lose_no_line() {
    let repo = TestRepo::initialised();
    let writer = |name: &str| {
        let mut cmd = Command::new("sh");
        seal(&mut cmd, &repo.home);
        cmd.arg("-c")
            .arg(format!(
                "i=0; while [ $i -lt 60 ]; do i=$((i+1)); \"{BIN}\" friction --add flaky-test --message \"{name} $i\" || exit 1; done"
            ))
            .current_dir(repo.root())
            .spawn()
            .expect("spawn")
    };
    let (mut a, mut b) = (writer("a"), writer("b"));
    assert!(a.wait().expect("wait").success() && b.wait().expect("wait").success());
    let text = repo.read(".agentos/friction.jsonl");
    let messages: std::collections::HashSet<String> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("every line whole");
            v["message"].as_str().expect("message").to_string()
        })
        .collect();
    assert_eq!(text.lines().count(), 120);
    for name in ["a", "b"] {
        for i in 1..=60 {
            assert!(messages.contains(&format!("{name} {i}")), "{name} {i} lost");
        }
    }
}
