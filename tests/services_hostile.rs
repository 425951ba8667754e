//! Issue #16, cases 9–13: the side services under hostile input: the friction
//! log and `friction --enqueue`, ids that are paths, memory notes from odd
//! repository paths, and the MCP server fed bad lines.
use crate::support::{seal, TestRepo, BIN};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn event(kind: &str, step: &str, task: Option<&str>, message: &str) -> String {
    let mut e =
        json!({"time": "2026-01-05T10:00:00Z", "kind": kind, "step": step, "message": message});
    if let Some(task) = task {
        e["task"] = json!(task);
    }
    format!("{e}\n")
}

/// Case 9: a line torn in the middle of a UTF-8 sequence (or not JSON) is skipped
/// and counted; the rest of the log is read by every reader.
#[test]
fn case09_a_torn_utf8_line_in_the_friction_log_is_skipped_and_counted() {
    let repo = TestRepo::initialised();
    let mut log = Vec::new();
    for _ in 0..3 {
        log.extend(event("flaky-test", "verify", None, "test_login timed out").as_bytes());
    }
    log.extend(b"{\"time\":\"2026-01-05T10:00:00Z\",\"kind\":\"caf\xc3");
    log.push(b'\n');
    repo.write(".agentos/friction.jsonl", "");
    std::fs::write(repo.path(".agentos/friction.jsonl"), &log).expect("write");
    let one = repo.agentos(&["friction"]).ok();
    assert!(
        one.stdout.contains("3 events")
            && one
                .stdout
                .contains("1 unreadable line of .agentos/friction.jsonl skipped"),
        "{}",
        one.stdout
    );
    log.extend(b"not json\n");
    std::fs::write(repo.path(".agentos/friction.jsonl"), &log).expect("write");
    repo.agentos(&["friction"])
        .ok()
        .stdout_has("2 unreadable lines of .agentos/friction.jsonl skipped");
    let json = repo.agentos(&["friction", "--json"]).ok().json();
    assert_eq!(json["unreadable_lines"], 2, "{json}");
    assert_eq!(json["total"], 3, "{json}");
    repo.agentos(&["friction", "--enqueue"])
        .ok()
        .stdout_has("queued friction-flaky-test.verify");
}

/// Case 10: `friction --enqueue` writes only valid tasks, under ids that cannot
/// collide, says what blocks one, records an id only once its task is written,
/// and never follows an event's `task` field as a path.
#[test]
fn case10_friction_enqueue_writes_only_valid_tasks_under_distinct_ids() {
    let repo = TestRepo::initialised();
    repo.write(
        "secret/stolen.md",
        "+++\ntitle = \"Elsewhere\"\ntargets = [\"secret/**\"]\n+++\n",
    );
    let mut log = String::new();
    for _ in 0..3 {
        log.push_str(&event("a-b", "c", Some("../../secret/stolen"), "one"));
        log.push_str(&event("a", "b-c", None, "two"));
        log.push_str(&event("odd", "two\nlines", None, "three"));
        log.push_str(&event(&"k".repeat(220), "x", None, "four"));
        log.push_str(&event("taken", "verify", None, "five"));
    }
    repo.write(".agentos/friction.jsonl", &log);
    // A task of the person's that happens to have a friction task's id.
    repo.agentos(&[
        "add",
        "Mine",
        "-t",
        "README.md",
        "--id",
        "friction-taken.verify",
    ])
    .ok();
    let run = repo.agentos(&["friction", "--enqueue"]).ok();
    let out = &run.stdout;
    for id in [
        "friction-a-b.c",
        "friction-a.b-c",
        "friction-odd.two_0alines",
    ] {
        assert!(out.contains(&format!("queued {id}\n")), "{id}: {out}");
        repo.agentos(&["show", id]).ok();
    }
    assert!(
        out.contains("friction-taken.verify: not queued: .agentos/todo/friction-taken.verify.md already has this id"),
        "{out}"
    );
    assert!(
        out.contains("not queued: ") && out.contains("kkkk"),
        "{out}"
    );
    let task = repo.read(".agentos/todo/friction-a-b.c.md");
    assert!(
        !task.contains("secret/**") && task.contains("targets = [\".agentos/agents/**\"]"),
        "an event's task field is an id, never a path: {task}"
    );
    let odd = repo.read(".agentos/todo/friction-odd.two_0alines.md");
    assert!(
        odd.contains("title = \"Reduce friction: odd at step two\\\\nlines (3 times)\""),
        "{odd}"
    );
    let ledger = repo.read(".agentos/friction-enqueued");
    let mut made: Vec<&str> = ledger.lines().collect();
    made.sort();
    assert_eq!(
        made,
        [
            "friction-a-b.c",
            "friction-a.b-c",
            "friction-odd.two_0alines"
        ],
        "only ids whose task was written are remembered"
    );
    // `--add` takes a task id, never a path.
    repo.agentos(&[
        "friction",
        "--add",
        "x",
        "--message",
        "m",
        "--task",
        "../../secret/stolen",
    ])
    .code(2)
    .stderr_has("not a task id");
}

/// Case 11: `mcp --task` takes an id found in the state folders, never a path.
#[test]
fn case11_mcp_task_is_an_id_in_the_state_folders_never_a_path() {
    let repo = TestRepo::initialised();
    repo.write(
        "secret.md",
        "+++\ntitle = \"Secret\"\ntargets = [\"x\"]\n+++\nthe secret\n",
    );
    for path in ["../../secret", "../doing/../../secret", "/etc/passwd"] {
        let run = repo.agentos(&["mcp", "--task", path]).code(2);
        assert!(
            run.stderr.contains("not a task id") && !run.stdout.contains("the secret"),
            "{path}: {run:?}"
        );
    }
    repo.agentos(&["mcp", "--task", "nope"])
        .code(2)
        .stderr_has("there is no task `nope`");
    let vault = tempfile::tempdir().expect("vault");
    let home = vault.path().to_str().expect("utf8");
    for id in ["../x", "..", "a/b", ".hidden"] {
        repo.agentos_env(&["memory", "rm", id], &[("AGENTOS_HOME", home)])
            .code(2)
            .stderr_has("is not a note id");
    }
}

/// A repository at `path`, with one commit.
fn repo_at(path: &std::path::Path, home: &std::path::Path) {
    std::fs::create_dir_all(path).expect("mkdir");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["commit", "-q", "--allow-empty", "-m", "initial"][..],
    ] {
        let mut cmd = Command::new("git");
        seal(&mut cmd, home);
        assert!(cmd
            .args(args)
            .current_dir(path)
            .status()
            .expect("git")
            .success());
    }
}

/// Case 12: a note added from a repository whose path holds a `+++` line, quotes
/// and newlines reads back whole.
#[test]
fn case12_memory_notes_round_trip_from_any_repository_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let odd = tmp
        .path()
        .join("we\"ird 'name'\n+++\ntags = [\"x\"]\n+++\nrepo\\");
    repo_at(&odd, &home);
    let vault = tmp.path().join("vault");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        seal(&mut cmd, &home);
        let out = cmd
            .args(args)
            .env("AGENTOS_HOME", &vault)
            .current_dir(&odd)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "memory",
        "add",
        "Text with +++\n+++\nand \"quotes\"",
        "--tag",
        "odd",
    ]);
    let notes: Value = serde_json::from_str(&run(&["memory", "list", "--json"])).expect("json");
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{notes}");
    let real = odd.canonicalize().expect("canonical");
    assert_eq!(notes[0]["repo"], real.to_str().expect("utf8"), "{notes}");
    assert_eq!(notes[0]["tags"], json!(["odd"]), "{notes}");
    assert_eq!(
        notes[0]["text"], "Text with +++\n+++\nand \"quotes\"",
        "{notes}"
    );
}

/// Case 13: the MCP server answers a line that is not JSON with a -32700 parse
/// error and an oversize line with a clear error, and keeps serving.
#[test]
fn case13_the_mcp_server_answers_every_line_and_keeps_serving() {
    let repo = TestRepo::initialised();
    let vault = tempfile::tempdir().expect("vault");
    let mut cmd = Command::new(BIN);
    seal(&mut cmd, &repo.home);
    let mut child = cmd
        .arg("mcp")
        .env("AGENTOS_HOME", vault.path())
        .current_dir(repo.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mcp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut read = || {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "server closed");
        serde_json::from_str::<Value>(&line).expect("a JSON-RPC line")
    };
    writeln!(
        stdin,
        "{{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"initi"
    )
    .expect("write");
    let answer = read();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    assert_eq!(answer["id"], Value::Null, "{answer}");
    stdin
        .write_all(b"\xff\xfe not even UTF-8\n")
        .expect("write");
    assert_eq!(read()["error"]["code"], -32700);
    // 50 MB on one line, written while the server reads (and discards) it.
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1024 * 1024];
        stdin
            .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"")
            .expect("write");
        for _ in 0..50 {
            stdin.write_all(&chunk).expect("write");
        }
        stdin.write_all(b"\"}\n").expect("write");
        stdin
    });
    let answer = read();
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("1 MiB"), "{answer}");
    let mut stdin = writer.join().expect("writer");
    // Still serving: the handshake and a tool list.
    let init = json!({"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    writeln!(stdin, "{init}").expect("write");
    let answer = read();
    assert_eq!(answer["id"], 3, "{answer}");
    assert_eq!(answer["result"]["serverInfo"]["name"], "git-agentos");
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .expect("write");
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"})
    )
    .expect("write");
    let answer = read();
    assert_eq!(answer["id"], 4, "{answer}");
    assert!(answer["result"]["tools"].is_array(), "{answer}");
    drop(stdin);
    assert!(child.wait().expect("wait").success());
}

/// The MCP server for `repo`, its vault in `vault`.
fn mcp(repo: &TestRepo, vault: &std::path::Path) -> std::process::Child {
    let mut cmd = Command::new(BIN);
    seal(&mut cmd, &repo.home);
    cmd.arg("mcp")
        .env("AGENTOS_HOME", vault)
        .current_dir(repo.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mcp")
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Red-team 08: a client that writes 2 MiB of bad lines and reads nothing:
/// the server keeps a few answers, counts the rest (they have no id a client
/// could match) and says how many in one answer; its memory stays small.
#[test]
fn f08_the_mcp_server_holds_few_answers_for_a_client_that_does_not_read() {
    let repo = TestRepo::initialised();
    let vault = tempfile::tempdir().expect("vault");
    let mut child = mcp(&repo, vault.path());
    let mut stdin = child.stdin.take().expect("stdin");
    let chunk = b"x\n".repeat(1 << 18);
    for _ in 0..4 {
        stdin.write_all(&chunk).expect("the server keeps reading");
    }
    stdin.flush().expect("flush");
    let rss = rss_kib(child.id());
    assert!(rss < 64 * 1024, "the server holds {rss} KiB");
    drop(stdin);
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(&l.expect("read")).expect("json"))
        .collect();
    // What the pipe holds (64 KiB), the 64 waiting, and a few counts.
    assert!(lines.len() < 2000, "{} answers", lines.len());
    let said: usize = lines
        .iter()
        .map(|a| {
            let message = a["error"]["message"].as_str().unwrap_or_default();
            match message.split_once(" more lines") {
                Some((n, _)) => n
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
                None => 1,
            }
        })
        .sum();
    assert_eq!(said, 1 << 20, "every line is answered or counted");
    // No handshake was made: the server says so as it ends.
    let _ = child.wait();
}

/// Red-team 09 and 11: a FIFO, a link to /dev/zero and a file whose name holds
/// terminal escapes, named like notes: `memory list` and the server's
/// memory_search skip them at once and say so, with the name made visible.
#[test]
fn f09_f11_odd_files_in_the_vault_are_skipped_at_once() {
    let repo = TestRepo::initialised();
    let vault = tempfile::tempdir().expect("vault");
    let env = [("AGENTOS_HOME", vault.path().to_str().expect("utf-8"))];
    repo.agentos_env(
        &[
            "memory",
            "add",
            "Run make db before the tests",
            "--tag",
            "testing",
        ],
        &env,
    )
    .ok();
    let notes = vault.path().join("memory");
    nix::unistd::mkfifo(
        &notes.join("planted.md"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("fifo");
    std::os::unix::fs::symlink("/dev/zero", notes.join("zero.md")).expect("link");
    std::fs::write(
        notes.join("x\u{1b}]0;OWNED\u{7}\u{1b}[2J.md"),
        "not a note\n",
    )
    .expect("write");
    let listed = repo.agentos_env(&["memory", "list"], &env).ok();
    assert!(listed.stdout.contains("Run make db"), "{}", listed.stdout);
    assert!(!listed.stderr.contains('\u{1b}'), "{:?}", listed.stderr);
    for name in ["planted.md", "zero.md", "OWNED"] {
        assert!(listed.stderr.contains(name), "{name}: {}", listed.stderr);
    }
    let mut child = mcp(&repo, vault.path());
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    for message in [
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "memory_search", "arguments": {"query": "tests"}}}),
    ] {
        writeln!(stdin, "{message}").expect("write");
    }
    let mut ids = Vec::new();
    while ids.len() < 2 {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "server closed");
        let answer: Value = serde_json::from_str(&line).expect("json");
        if answer["id"] == 1 {
            assert!(answer.to_string().contains("make db"), "{answer}");
        }
        ids.push(answer["id"].clone());
    }
    drop(stdin);
    assert!(child.wait().expect("wait").success());
}

/// Red-team 16: an invalid request whose id can be read is answered with that id.
#[test]
fn f16_invalid_requests_are_answered_with_their_id() {
    let repo = TestRepo::initialised();
    let vault = tempfile::tempdir().expect("vault");
    let mut child = mcp(&repo, vault.path());
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    for line in [
        r#"{"jsonrpc":"1.0","id":4,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":"five"}"#,
        r#"{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}"#,
    ] {
        writeln!(stdin, "{line}").expect("write");
    }
    let mut answers = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "server closed");
        answers.push(serde_json::from_str::<Value>(&line).expect("json"));
    }
    let ids: Vec<&Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(
        ids,
        [&json!(4), &json!("five"), &Value::Null],
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|a| a["error"]["code"] == -32600),
        "{answers:?}"
    );
    drop(stdin);
    let _ = child.wait();
}

/// Red-team 15: a reader that stops early ends a command quietly, never with a
/// panic.
#[test]
fn f15_a_closed_pipe_ends_a_command_quietly() {
    let repo = TestRepo::initialised();
    for _ in 0..20 {
        repo.agentos(&[
            "add",
            "A task with a long enough title to fill the pipe",
            "--target",
            "README.md",
        ]);
    }
    for args in [
        &["hooks", "status"][..],
        &["list"][..],
        &["status"][..],
        &["--help"][..],
    ] {
        let mut cmd = Command::new("sh");
        seal(&mut cmd, &repo.home);
        let out = cmd
            .arg("-c")
            .arg("\"$@\" 2>&1 >/dev/full | cat; \"$@\" | true; \"$@\" | head -c1 >/dev/null")
            .arg("sh")
            .arg(BIN)
            .args(args)
            .current_dir(repo.root())
            .output()
            .expect("sh");
        let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(!said.contains("panicked"), "{args:?}: {said}");
    }
}

/// Red-team 17: a note's tags are capped (32), deduplicated in linear time.
#[test]
fn f17_a_note_has_at_most_32_tags() {
    let repo = TestRepo::initialised();
    let vault = tempfile::tempdir().expect("vault");
    let env = [("AGENTOS_HOME", vault.path().to_str().expect("utf-8"))];
    let mut args = vec!["memory", "add", "tagged"];
    for _ in 0..33 {
        args.extend(["--tag", "x"]);
    }
    repo.agentos_env(&args, &env)
        .code(2)
        .stderr_has("33 tags; the limit is 32");
}
