//! What issue #13 fixed and added, end to end: the grace of a file just dropped
//! into todo/, the mode of finished task files, untrusted text shown and not
//! obeyed, control characters refused in targets and ids, the `output = "plain"`
//! hint, the clock seam, the "watching" line and the dispatcher's JSON log.
use crate::support::{wait_until, wait_until_watching, FakeAgent, TestRepo};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn good_agent(repo: &TestRepo) -> String {
    FakeAgent::new(repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(1, 0.0, "Fixed it.")
        .build()
}

/// A time far ahead: every file written now is older than the grace.
const LONG_AGO: (&str, &str) = ("AGENTOS_NOW", "2099-01-01T00:00:00Z");

#[test]
fn run_waits_out_the_grace_of_a_file_just_dropped_and_quarantines_it() {
    let repo = TestRepo::initialised();
    repo.write(".agentos/todo/broken.md", "no front matter here\n");
    let started = Instant::now();
    let run = repo.agentos(&["run"]).code(1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the grace is about a second"
    );
    assert!(repo.exists(".agentos/failed/broken.md"), "{run:?}");
    assert!(!repo.exists(".agentos/todo/broken.md"));
    assert!(
        !run.stdout.contains("The queue is empty."),
        "{}",
        run.stdout
    );
    assert!(
        repo.read(".agentos/failed/broken.reason")
            .contains("does not start with a `+++` line"),
        "the reason names what is wrong"
    );
}

#[test]
fn a_finished_task_file_keeps_its_mode() {
    let repo = TestRepo::initialised();
    let agent = good_agent(&repo);
    let failing = FakeAgent::new(&repo).no_result().exits(1).build();
    for id in ["good", "bad"] {
        repo.write(
            &format!(".agentos/todo/{id}.md"),
            "+++\ntitle = \"Fix\"\ntargets = [\"README.md\"]\n+++\n",
        );
        std::fs::set_permissions(
            repo.path(&format!(".agentos/todo/{id}.md")),
            std::fs::Permissions::from_mode(0o640),
        )
        .expect("chmod");
    }
    std::fs::rename(
        repo.path(".agentos/todo/bad.md"),
        repo.path(".agentos/bad.md.later"),
    )
    .expect("hold back");
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    std::fs::rename(
        repo.path(".agentos/bad.md.later"),
        repo.path(".agentos/todo/bad.md"),
    )
    .expect("queue");
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &failing)])
        .code(1);
    for file in [".agentos/done/good.md", ".agentos/failed/bad.md"] {
        let mode = std::fs::metadata(repo.path(file))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640, "{file}");
    }
}

#[test]
fn a_title_with_an_escape_sequence_is_shown_never_obeyed() {
    let repo = TestRepo::initialised();
    repo.write(
        ".agentos/todo/esc.md",
        "+++\ntitle = \"Clear \\u001b[2J the screen\"\ntargets = [\"README.md\"]\n+++\nBody \\u001b]0;title\\u0007 too.\n",
    );
    repo.write(
        ".agentos/todo/escaped-body.md",
        "+++\ntitle = \"Body\"\ntargets = [\"README.md\"]\n+++\nA bell \u{7} and an escape \u{1b}[31m in the body.\n",
    );
    let list = repo.agentos(&["list"]).ok();
    assert!(
        list.stdout.contains("Clear ^[[2J the screen"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains('\u{1b}'), "{:?}", list.stdout);
    let show = repo.agentos(&["show", "esc"]).ok();
    assert!(
        show.stdout.contains("title     Clear ^[[2J the screen"),
        "{}",
        show.stdout
    );
    let body = repo.agentos(&["show", "escaped-body"]).ok();
    assert!(
        body.stdout
            .contains("A bell ^G and an escape ^[[31m in the body."),
        "{}",
        body.stdout
    );
    assert!(!body.stdout.contains('\u{1b}') && !body.stdout.contains('\u{7}'));
    // JSON keeps the text as it is, escaped by JSON.
    let json = repo.agentos(&["list", "--json"]).ok();
    assert!(
        json.stdout.contains(r"Clear \u001b[2J the screen"),
        "{}",
        json.stdout
    );
    let titles: Vec<String> = json
        .json()
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["title"].as_str().map(str::to_string))
        .collect();
    assert!(
        titles.contains(&"Clear \u{1b}[2J the screen".to_string()),
        "{titles:?}"
    );
}

#[test]
fn a_target_or_id_holding_a_control_character_is_rejected_with_a_reason() {
    let repo = TestRepo::initialised();
    repo.write(
        ".agentos/todo/nul.md",
        "+++\ntitle = \"NUL\"\ntargets = [\"a\\u0000b\"]\n+++\n",
    );
    let list = repo.agentos(&["list"]).ok();
    assert!(list.stdout.contains("invalid"), "{}", list.stdout);
    repo.agentos_env(&["run"], &[LONG_AGO]).code(1);
    let reason = repo.read(".agentos/failed/nul.reason");
    assert!(
        reason.contains("field `targets`: target `a\\0b` holds a control character (U+0000)"),
        "{reason}"
    );
    assert!(
        !reason.contains('\0'),
        "the reason never carries the byte itself"
    );
}

#[test]
fn an_agent_that_does_not_speak_stream_json_is_pointed_at_output_plain() {
    let repo = TestRepo::initialised();
    let silent = FakeAgent::plain(&repo)
        .runs("printf 'fixed\\n' >/dev/null")
        .exits(0)
        .build();
    repo.agentos(&["add", "Quiet", "-t", "README.md"]).ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &silent)])
        .code(1);
    let reason = repo.read(".agentos/failed/quiet.reason");
    assert!(
        reason.contains("the agent exited successfully before it started (no system/init event)"),
        "the reason it always had: {reason}"
    );
    assert!(
        reason.contains("set `output = \"plain\"` in .agentos/agents/default/agent.toml"),
        "{reason}"
    );
}

#[test]
fn agentos_now_pins_the_times_written_and_a_bad_one_is_refused() {
    let repo = TestRepo::initialised();
    let agent = good_agent(&repo);
    let now = ("AGENTOS_NOW", "2030-01-02T03:04:05Z");
    repo.agentos_env(&["add", "Pinned", "-t", "README.md"], &[now])
        .ok();
    assert!(repo
        .read(".agentos/todo/pinned.md")
        .contains("enqueued = 2030-01-02T03:04:05.000000000Z"));
    repo.agentos_env(&["run", "--no-pr"], &[now, ("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    let record: serde_json::Value =
        serde_json::from_str(&repo.read(".agentos/done/pinned.record.json")).expect("json");
    assert_eq!(record["claimed_at"], "2030-01-02T03:04:05.000000000Z");
    assert_eq!(record["finished_at"], "2030-01-02T03:04:05.000000000Z");
    repo.agentos_env(&["list"], &[("AGENTOS_NOW", "tomorrow")])
        .code(2)
        .stderr_has("AGENTOS_NOW `tomorrow` is not a date and time with an offset");
}

#[test]
fn watch_says_when_it_is_ready_and_logs_json_lines() {
    let repo = TestRepo::initialised();
    let agent = good_agent(&repo);
    let mut watch = repo
        .cmd(&["watch", "--no-pr"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let _stderr = wait_until_watching(&mut watch);
    repo.agentos(&["add", "Logged", "-t", "README.md"]).ok();
    wait_until(Duration::from_secs(20), "watch ran the task", || {
        repo.exists(".agentos/done/logged.md")
    });
    let _ = std::process::Command::new("kill")
        .arg(watch.id().to_string())
        .status();
    watch.wait().expect("watch stops");
    let log = repo.read(".agentos/runs/dispatcher.log");
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let claimed = events
        .iter()
        .find(|e| e["fields"]["message"] == "claimed")
        .expect("a claimed event");
    assert_eq!(claimed["fields"]["id"], "logged");
    let step_done = events
        .iter()
        .find(|e| e["fields"]["message"] == "done" && e["fields"]["step"] == "agent")
        .expect("the agent step journalled");
    let spans = step_done["spans"].as_array().expect("spans");
    assert!(
        spans
            .iter()
            .any(|s| s["name"] == "task" && s["id"] == "logged"),
        "the event carries its task's span: {step_done}"
    );
}
