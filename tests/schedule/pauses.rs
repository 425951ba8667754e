//! Usage and rate limits: the real Claude Code CLI against the scripted
//! Messages API; the task goes back to the front of todo/, the queue pauses
//! until the reset (or a backoff), `resume` ends it, and a kill -9 keeps it.
use crate::support::http::{now_secs, rfc3339};
use crate::support::messages_api::{ApiError, MessagesApi, Reply, Turn};
use crate::support::{wait_until, wait_until_watching, TestRepo};
use serde_json::json;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An API that answers `error()` while `limited` holds, else fixes the README.
fn limited_api(limited: Arc<AtomicBool>, error: fn() -> Reply) -> MessagesApi {
    MessagesApi::start(Arc::new(move |turn: &Turn| {
        if limited.load(Ordering::SeqCst) {
            return error();
        }
        match turn.tool_results {
            0 => Reply::Tool {
                name: "Write".into(),
                input: json!({"file_path": format!("{}/README.md", turn.cwd.clone().unwrap_or_default()),
                    "content": "Install with `cargo install`.\n"}),
            },
            _ => Reply::Text("Done.".into()),
        }
    }))
}

/// Environment for the CLI as a subscriber, who sees a usage limit as one.
fn subscriber_env(repo: &TestRepo, api: &MessagesApi) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = repo
        .claude_env(api)
        .into_iter()
        .filter(|(k, _)| k != "ANTHROPIC_API_KEY")
        .collect();
    env.extend(api.subscriber_env());
    env
}

fn with(env: &[(String, String)], more: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn pause_json(repo: &TestRepo) -> serde_json::Value {
    repo.agentos(&["status", "--json"]).ok().json()["pause"].clone()
}

const RESET_IN: u64 = 3600;
static RESET: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn usage_limit() -> Reply {
    Reply::Error(ApiError::UsageLimit {
        window: "five_hour",
        resets_at: Some(*RESET.get_or_init(|| now_secs() + RESET_IN)),
    })
}

#[test]
fn a_429_pauses_the_queue_and_the_task_goes_back_to_the_front() {
    let repo = TestRepo::initialised();
    let limited = Arc::new(AtomicBool::new(true));
    let api = limited_api(limited.clone(), || Reply::rate_limited(1));
    repo.agentos(&["add", "First", "-t", "README.md", "--id", "first"])
        .ok();
    repo.agentos(&["add", "Second", "-t", "README.md", "--id", "second"])
        .ok();
    let env = with(&repo.claude_env(&api), &[("CLAUDE_CODE_MAX_RETRIES", "0")]);
    let run = repo.agentos_with(&["run", "--no-pr"], &env).ok();
    run.stdout_has("paused  first: back at the front of todo/, no attempt spent")
        .stdout_has("The queue is paused until ")
        .stdout_has(" (rate limit); `git agentos resume` ends the pause.");
    assert_eq!(api.count(), 1, "the second task never started");
    assert!(repo.files_in(".agentos/failed").is_empty());
    assert!(repo.files_in(".agentos/doing").is_empty());
    assert_eq!(repo.files_in(".agentos/todo"), ["first.md", "second.md"]);
    let kept = repo.files_in(".agentos/runs/first");
    assert!(
        kept.iter().any(|f| f.starts_with("record-paused-")),
        "{kept:?}"
    );
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(friction.contains("\"rate-limited\""), "{friction}");
    // No reset time reaches the stream after a 429: the first backoff, 5 minutes.
    let pause = pause_json(&repo);
    assert_eq!(pause["kind"], "rate-limit");
    assert_eq!(pause["task"], "first");
    let at = |k: &str| {
        pause[k]
            .as_str()
            .expect("time")
            .parse::<jiff::Timestamp>()
            .expect("time")
            .as_second()
    };
    assert_eq!(at("until") - at("since"), 300);
    repo.agentos(&["status"])
        .ok()
        .stdout_has("pause       paused until ")
        .stdout_has(" (rate limit); `git agentos resume` ends it\n")
        .stdout_has("            first: API Error: Request rejected (429)");

    // A more urgent task queued meanwhile still runs after the one sent back.
    repo.agentos(&[
        "add",
        "Urgent",
        "-t",
        "README.md",
        "--id",
        "urgent",
        "--priority",
        "5",
    ])
    .ok();
    let listed: Vec<String> = repo
        .agentos(&["list", "--state", "todo"])
        .ok()
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    assert_eq!(
        listed,
        ["first", "urgent", "second"],
        "list shows the order of work"
    );
    let still = repo.agentos_with(&["run", "--no-pr"], &env).ok();
    still.stdout_has("The queue is paused until ");
    assert_eq!(api.count(), 1, "nothing runs during the pause");
    // At the end of the backoff (the clock seam, no waiting) the queue runs.
    limited.store(false, Ordering::SeqCst);
    let later = rfc3339(at("until") as u64 + 1);
    let run = repo
        .agentos_with(&["run", "--no-pr"], &with(&env, &[("AGENTOS_NOW", &later)]))
        .ok();
    let order = super::done_order(&run.stdout);
    assert_eq!(order, ["first", "urgent", "second"], "{}", run.stdout);
}

#[test]
fn a_usage_limit_pauses_until_its_reset_and_resume_ends_it_early() {
    let repo = TestRepo::initialised();
    let limited = Arc::new(AtomicBool::new(true));
    let api = limited_api(limited.clone(), usage_limit);
    let env = subscriber_env(&repo, &api);
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    repo.agentos_with(&["run", "--no-pr"], &env)
        .ok()
        .stdout_has(" (usage limit); `git agentos resume` ends the pause.");
    let reset = *RESET.get().expect("the API answered");
    let pause = pause_json(&repo);
    assert_eq!(pause["kind"], "usage-limit");
    assert_eq!(
        pause["until"].as_str().map(|t| &t[..19]),
        Some(&rfc3339(reset)[..19]),
        "paused until the reset the API gave"
    );
    assert!(pause["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("You've hit your 5-hour limit · resets ")));
    // A minute before the reset, still paused; a second after it, it runs again
    // (and, still limited, pauses for the first backoff: the reset has passed).
    let before = rfc3339(reset - 60);
    repo.agentos_with(
        &["run", "--no-pr"],
        &with(&env, &[("AGENTOS_NOW", &before)]),
    )
    .ok()
    .stdout_has("The queue is paused until ");
    assert_eq!(api.count(), 1);
    let after = rfc3339(reset + 1);
    repo.agentos_with(&["run", "--no-pr"], &with(&env, &[("AGENTOS_NOW", &after)]))
        .ok()
        .stdout_has("paused  fix: back at the front of todo/");
    assert_eq!(api.count(), 2);
    assert_eq!(
        pause_json(&repo)["until"].as_str().map(|t| &t[..19]),
        Some(&rfc3339(reset + 1 + 300)[..19])
    );
    // resume ends it early.
    repo.agentos(&["resume"])
        .ok()
        .stdout_has("resumed: the queue was paused until ")
        .stdout_has("(usage limit); tasks start again");
    assert!(pause_json(&repo).is_null());
    repo.agentos(&["resume"])
        .ok()
        .stdout_has("the queue is not paused");
    limited.store(false, Ordering::SeqCst);
    repo.agentos_with(&["run", "--no-pr"], &env)
        .ok()
        .stdout_has("done    fix");
}

#[test]
fn a_paused_watch_sleeps_until_resume_and_kill_9_keeps_the_pause() {
    let repo = TestRepo::initialised();
    let limited = Arc::new(AtomicBool::new(true));
    let api = limited_api(limited.clone(), usage_limit);
    let env = subscriber_env(&repo, &api);
    let spawn_watch = || {
        let mut cmd = repo.cmd(&["watch", "--no-pr"]);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn watch")
    };
    let mut watch = spawn_watch();
    let _stderr = wait_until_watching(&mut watch);
    let paused_on = |id: &str| {
        pause_json(&repo)["task"] == id && repo.exists(&format!(".agentos/todo/{id}.md"))
    };
    repo.agentos(&["add", "One", "-t", "README.md", "--id", "one"])
        .ok();
    wait_until(Duration::from_secs(60), "the watch paused", || {
        paused_on("one")
    });
    assert_eq!(api.count(), 1);
    // resume wakes the sleeping watch at once.
    limited.store(false, Ordering::SeqCst);
    repo.agentos(&["resume"]).ok();
    wait_until(Duration::from_secs(60), "the watch ran the task", || {
        repo.exists(".agentos/done/one.md")
    });
    // Paused again, then killed: the pause and the task survive.
    limited.store(true, Ordering::SeqCst);
    repo.agentos(&["add", "Two", "-t", "README.md", "--id", "two"])
        .ok();
    wait_until(Duration::from_secs(60), "paused again", || paused_on("two"));
    watch.kill().expect("kill -9");
    watch.wait().expect("reap");
    // A child the killed watch was starting (its low-priority pool thread's
    // git, not yet exec'd on a loaded machine) may hold the lock's file for a
    // moment: the lock is free once it has gone, not necessarily at once.
    let status = || repo.agentos(&["status"]).ok().stdout;
    wait_until(
        Duration::from_secs(60),
        "the killed watch's lock free",
        || status().contains("dispatcher  not running"),
    );
    assert!(
        status().contains("pause       paused until "),
        "{}",
        status()
    );
    let requests = api.count();
    repo.agentos_with(&["run", "--no-pr"], &env)
        .ok()
        .stdout_has("The queue is paused until ");
    assert_eq!(api.count(), requests, "still paused after the kill");
    assert!(repo.files_in(".agentos/doing").is_empty());
    assert!(repo.files_in(".agentos/failed").is_empty());
    limited.store(false, Ordering::SeqCst);
    repo.agentos(&["resume"]).ok();
    repo.agentos_with(&["run", "--no-pr"], &env)
        .ok()
        .stdout_has("done    two");
}

#[test]
fn an_overloaded_api_pauses_for_the_first_backoff() {
    let repo = TestRepo::initialised();
    let api = MessagesApi::failing(Reply::overloaded);
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    let env = with(&repo.claude_env(&api), &[("CLAUDE_CODE_MAX_RETRIES", "0")]);
    repo.agentos_with(&["run", "--no-pr"], &env)
        .ok()
        .stdout_has("paused  fix: back at the front of todo/")
        .stdout_has(" (API overloaded); `git agentos resume` ends the pause.");
    assert_eq!(pause_json(&repo)["kind"], "overloaded");
    assert!(repo.files_in(".agentos/failed").is_empty());
    assert_eq!(repo.files_in(".agentos/todo"), ["fix.md"]);
}
