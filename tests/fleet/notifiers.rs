//! Notifiers: executables named for an event, in $AGENTOS_HOME/hooks/ and in a
//! repository's .agentos/hooks/ (untracked only), run with the event as JSON
//! on stdin, in the background, killed after their limit.
use super::{queue, wait_done, Fleet};
use crate::support::{alive, wait_until, FakeAgent};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const TOKEN: &str = "ghp_notifierMustNeverSeeThis0000000000";

fn executable(path: &Path, script: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, script).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

#[test]
fn notifiers_get_the_event_as_json_and_never_the_token() {
    let fleet = Fleet::new(&["web"]);
    let repo = fleet.host();
    let out = &fleet.scratch;
    for event in ["task-done", "task-failed"] {
        executable(
            &fleet.home.join("hooks").join(event),
            &format!(
                "#!/bin/sh\ncat > {0}/{event}.tmp && mv {0}/{event}.tmp {0}/{event}.json\nenv > {0}/{event}.env\n",
                out.display()
            ),
        );
    }
    // A notifier the repository committed is refused; one of its own,
    // untracked, runs.
    executable(
        &repo.path(".agentos/hooks/task-done"),
        &format!("#!/bin/sh\ntouch {}/committed-ran\n", out.display()),
    );
    repo.git(&["add", "-f", ".agentos/hooks/task-done"]);
    repo.git(&["commit", "-q", "-m", "a notifier, committed"]);
    executable(
        &repo.path(".agentos/hooks/task-failed"),
        &format!(
            "#!/bin/sh\ncat > {0}/local.tmp && mv {0}/local.tmp {0}/local.json\n",
            out.display()
        ),
    );
    queue(repo, "good");
    queue(repo, "bad");
    let agent = FakeAgent::new(repo)
        .runs("if [ \"$(basename \"$PWD\")\" = bad ]; then exit 3; fi")
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(1, 0.25, "Fixed it.")
        .build();
    let watch = fleet.watch(
        &[],
        &[("AGENTOS_AGENT_CMD", &agent), ("GITHUB_TOKEN", TOKEN)],
    );
    wait_done(repo, &["good"]);
    for file in [
        "task-done.json",
        "task-failed.json",
        "local.json",
        "task-failed.env",
    ] {
        wait_until(
            Duration::from_secs(30),
            &format!("{file} is written"),
            || out.join(file).exists(),
        );
    }
    let done = read_json(&out.join("task-done.json"));
    assert_eq!(done["event"], "task-done");
    assert_eq!(done["repository_name"], "web");
    assert_eq!(done["repository"], repo.root().display().to_string());
    assert_eq!(done["task"], "good");
    assert_eq!(done["title"], "Fix good");
    assert_eq!(done["state"], "done");
    assert_eq!(done["branch"], "agentos/good");
    assert_eq!(done["cost_usd"], 0.25);
    assert!(done["pull_request"].is_null(), "{done}");
    let failed = read_json(&out.join("task-failed.json"));
    assert_eq!(failed["event"], "task-failed");
    assert_eq!(failed["task"], "bad");
    assert_eq!(failed["state"], "failed");
    assert!(
        failed["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{failed}"
    );
    assert_eq!(read_json(&out.join("local.json")), failed);
    for file in [
        "task-done.json",
        "task-failed.json",
        "task-done.env",
        "task-failed.env",
    ] {
        let text = std::fs::read_to_string(out.join(file)).unwrap_or_default();
        assert!(
            !text.contains(TOKEN),
            "the token reached a notifier's {file}"
        );
    }
    wait_until(Duration::from_secs(30), "the refusal is friction", || {
        std::fs::read_to_string(repo.path(".agentos/friction.jsonl"))
            .is_ok_and(|f| f.contains("notifier-refused") && f.contains("git tracks it"))
    });
    assert!(
        !out.join("committed-ran").exists(),
        "a committed notifier never runs"
    );
    assert_eq!(watch.stop(), Some(0));
}

#[test]
fn a_notifier_that_hangs_is_killed_after_its_limit_and_never_waited_for() {
    let fleet = Fleet::new(&["web"]);
    let repo = fleet.host();
    let pids = fleet.scratch.join("pids");
    executable(
        &fleet.home.join("hooks/task-done"),
        &format!(
            "#!/bin/sh\necho $$ >> {}\nexec sleep 1000\n",
            pids.display()
        ),
    );
    // The second task's agent notes whether the first task's notifier still
    // sleeps when it starts.
    let seen = fleet.scratch.join("seen");
    let agent = FakeAgent::new(repo)
        .runs(&format!(
            "if [ -s {p} ] && [ \"$(cut -d' ' -f3 /proc/$(head -1 {p})/stat)\" = S ]; then echo asleep > {s}; fi",
            p = pids.display(),
            s = seen.display()
        ))
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    queue(repo, "t1");
    let watch = fleet.watch(&[], &[("AGENTOS_AGENT_CMD", &agent)]);
    wait_done(repo, &["t1"]);
    wait_until(Duration::from_secs(30), "the notifier started", || {
        std::fs::read_to_string(&pids).is_ok_and(|p| p.ends_with('\n'))
    });
    queue(repo, "t2");
    wait_done(repo, &["t2"]);
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap_or_default(),
        "asleep\n",
        "the next task ran while the first notifier still slept"
    );
    let first: i32 = std::fs::read_to_string(&pids)
        .expect("pids")
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("a pid");
    wait_until(
        Duration::from_secs(60),
        "the notifier is killed and it is friction",
        || {
            !alive(first)
                && std::fs::read_to_string(repo.path(".agentos/friction.jsonl"))
                    .is_ok_and(|f| f.contains("notifier-timeout"))
        },
    );
    assert_eq!(watch.stop(), Some(0));
}

/// `paused` when a rate limit pauses a fleet repository's queue (the real
/// Claude Code CLI meets a 429), `resumed` when `git agentos resume` ends it.
#[test]
fn paused_and_resumed_reach_the_notifiers() {
    use crate::support::messages_api::{MessagesApi, Reply, Turn};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let fleet = Fleet::new(&["web"]);
    let repo = fleet.host();
    for event in ["paused", "resumed"] {
        executable(
            &fleet.home.join("hooks").join(event),
            &format!(
                "#!/bin/sh\ncat > {0}/{event}.tmp && mv {0}/{event}.tmp {0}/{event}.json\n",
                fleet.scratch.display()
            ),
        );
    }
    let limited = Arc::new(AtomicBool::new(true));
    let flag = limited.clone();
    let api = MessagesApi::start(Arc::new(move |turn: &Turn| {
        if flag.load(Ordering::SeqCst) {
            return Reply::rate_limited(1);
        }
        match turn.tool_results {
            0 => Reply::Tool {
                name: "Write".into(),
                input: serde_json::json!({
                    "file_path": format!("{}/README.md", turn.cwd.clone().unwrap_or_default()),
                    "content": "Install with `cargo install`.\n"}),
            },
            _ => Reply::Text("Done.".into()),
        }
    }));
    queue(repo, "t1");
    let mut env = repo.claude_env(&api);
    env.push(("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let watch = fleet.watch(&[], &env);
    let paused = fleet.scratch.join("paused.json");
    wait_until(Duration::from_secs(60), "the paused notifier ran", || {
        paused.exists()
    });
    let event = read_json(&paused);
    assert_eq!(event["event"], "paused");
    assert_eq!(event["repository_name"], "web");
    assert!(
        event["reason"]
            .as_str()
            .is_some_and(|r| r.contains("rate limit")),
        "{event}"
    );
    limited.store(false, Ordering::SeqCst);
    fleet
        .agentos(&["-C", &repo.root().display().to_string(), "resume"])
        .ok();
    let resumed = fleet.scratch.join("resumed.json");
    wait_until(Duration::from_secs(60), "the resumed notifier ran", || {
        resumed.exists()
    });
    assert_eq!(read_json(&resumed)["event"], "resumed");
    wait_done(repo, &["t1"]);
    assert_eq!(watch.stop(), Some(0));
}

/// A notifier that starts something in the background and exits: what it left
/// running is killed with it (its work ends with it), and the task is done.
#[test]
fn what_a_notifier_leaves_running_ends_with_it() {
    let fleet = Fleet::new(&["web"]);
    let repo = fleet.host();
    let pid = fleet.scratch.join("child.pid");
    executable(
        &fleet.home.join("hooks/task-done"),
        &format!(
            "#!/bin/sh\nsleep 1000 &\necho $! > {0}.tmp && mv {0}.tmp {0}\nexit 0\n",
            pid.display()
        ),
    );
    let agent = FakeAgent::new(repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    queue(repo, "t1");
    let watch = fleet.watch(&[], &[("AGENTOS_AGENT_CMD", &agent)]);
    wait_done(repo, &["t1"]);
    wait_until(Duration::from_secs(30), "the notifier ran", || pid.exists());
    let child: i32 = std::fs::read_to_string(&pid)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    wait_until(
        Duration::from_secs(30),
        "the notifier's background child is gone",
        || !alive(child),
    );
    assert_eq!(watch.stop(), Some(0));
}
