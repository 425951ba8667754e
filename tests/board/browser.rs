//! The board in a real headless Chromium: a task run by the real Claude Code
//! moving across the columns without a reload, its log and diff, a retry from
//! the page, the friction chart, and hostile text shown, never run.
use super::{add, NOW};
use crate::support::board::BoardProcess;
use crate::support::cdp::{png_size, Browser};
use crate::support::messages_api::{MessagesApi, Reply, Turn};
use crate::support::TestRepo;
use serde_json::json;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Holds the scripted Messages API's answers until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, changed) = &*self.0;
        let guard = open.lock().expect("gate");
        let _ = changed
            .wait_timeout_while(guard, Duration::from_secs(60), |open| !*open)
            .expect("gate");
    }
    fn open(&self) {
        *self.0 .0.lock().expect("gate") = true;
        self.0 .1.notify_all();
    }
}

/// Friction over the chart's window (30 days to NOW) on 4 days, 3 kinds; and
/// one event before the window, which the chart leaves out.
const FRICTION: &[(&str, &str, &str)] = &[
    ("2026-10-01", "timeout", "ancient"),
    ("2026-10-25", "verify-failed", "fix"),
    ("2026-11-02", "timeout", "old"),
    ("2026-11-02", "verify-failed", "old"),
    ("2026-11-15", "agent-error", "old"),
    ("2026-11-20", "verify-failed", "old"),
];

/// Keep a screenshot as `target/tmp/<name>`, and in `$AGENTOS_BOARD_SCREENSHOTS/`
/// when that is set (`docs`, for the README).
fn save(name: &str, png: &[u8]) {
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&out, png).expect("save the screenshot");
    if let Ok(dir) = std::env::var("AGENTOS_BOARD_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&dir).join(name), png).expect("copy the screenshot");
    }
}

fn card_in(state: &str, id: &str) -> String {
    format!("document.querySelector('[data-state={state}] [data-id=\"{id}\"]') !== null")
}

#[test]
fn the_board_in_a_real_browser() {
    let started = Instant::now();
    let repo = TestRepo::initialised();
    let mut log = String::new();
    for (day, kind, task) in FRICTION {
        log.push_str(
            &json!({"time": format!("{day}T09:00:00Z"), "kind": kind, "task": task, "step": "verify", "message": "boom"})
                .to_string(),
        );
        log.push('\n');
    }
    repo.write(".agentos/friction.jsonl", &log);
    add(
        &repo,
        &[
            "Write the guide",
            "-t",
            "docs/guide.md",
            "--id",
            "guide",
            "--priority",
            "2",
        ],
    );
    add(
        &repo,
        &[
            "Fix the install command",
            "-t",
            "README.md",
            "--id",
            "fix",
            "--priority",
            "1",
        ],
    );
    add(&repo, &["Old", "-t", "README.md", "--id", "old"]);
    repo.agentos_env(&["cancel", "old"], &[("AGENTOS_NOW", NOW)])
        .ok();
    add(
        &repo,
        &[
            "<script>window.pwnedTitle = 1</script>Hostile",
            "-t",
            "README.md",
            "--id",
            "hostile",
            "--body",
            "Shown: <script>alert(1)</script>\n\n<img src=x onerror=\"window.pwnedImage = 1\">\n\n[click](javascript:window.pwnedLink=1)\n",
        ],
    );
    let board = BoardProcess::start(&repo, &[], &[("AGENTOS_NOW", NOW)]);
    let mut browser = Browser::launch();
    let tab = browser.open(&board.url);
    browser.wait_for(&tab, &card_in("todo", "fix"), "`fix` is in To do");
    browser.wait_for(
        &tab,
        "document.body.classList.contains('is-live')",
        "the live stream is open",
    );
    // A reload would forget this.
    browser.eval(&tab, "window.sameDocument = 42");

    // Without the secret: refused, and an action changes nothing.
    let status = browser.eval(
        &tab,
        "fetch('/', {credentials: 'omit'}).then(r => r.status)",
    );
    assert_eq!(status, json!(403));
    let posted = browser.eval(
        &tab,
        "fetch('/r/repo/task/old/retry', {method: 'POST', body: new URLSearchParams({back: 'board'})}).then(r => r.status)",
    );
    assert_eq!(posted, json!(403));
    assert!(repo.exists(".agentos/failed/old.md"));

    // Two runs of the real Claude Code: `guide` straight through, then `fix`,
    // whose scripted API holds its answer until the page has shown it in Doing.
    let quick = MessagesApi::writes(vec![("docs/guide.md".into(), "# Guide\n".into())]);
    let mut env = repo.claude_env(&quick);
    env.push(("AGENTOS_NOW".into(), NOW.into()));
    repo.agentos_with(&["run", "--once", "--no-pr"], &env).ok();
    browser.wait_for(&tab, &card_in("done", "guide"), "`guide` moves to Done");
    let gate = Gate::default();
    let held = gate.clone();
    let api = MessagesApi::start(Arc::new(move |turn: &Turn| {
        held.wait();
        match turn.tool_results {
            0 => Reply::Tool {
                name: "Write".into(),
                input: json!({
                    "file_path": format!("{}/README.md", turn.cwd.clone().unwrap_or_default()),
                    "content": "# Example\n\nInstall with `cargo install`.\n",
                }),
            },
            _ => Reply::Text("Fixed the install command.".into()),
        }
    }));
    let mut env = repo.claude_env(&api);
    env.push(("AGENTOS_NOW".into(), NOW.into()));
    let mut run = repo.cmd(&["run", "--once", "--no-pr"]);
    run.envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut run = run.spawn().expect("spawn run");
    browser.wait_for(&tab, &card_in("doing", "fix"), "`fix` moves to Doing");
    browser.wait_for(
        &tab,
        &card_in("todo", "hostile"),
        "`hostile` stays in To do",
    );
    let task = browser.open(&board.at("/r/repo/task/fix"));
    browser.wait_for(
        &task,
        "document.querySelector('#log .start') !== null",
        "the log shows the agent started",
    );
    browser.eval(&task, "window.sameDocument = 43");
    browser.wait_for(
        &tab,
        "document.querySelector('[data-id=\"fix\"] .latest') !== null",
        "the card shows what the agent does",
    );

    // The board with a task in each column: the chart has a bar per day with
    // friction in the last 30, and the page draws.
    let bars = browser.eval(&tab, "document.querySelectorAll('svg.chart g.bar').length");
    assert_eq!(bars, json!(4), "days with friction in the last 30");
    let segments = browser.eval(
        &tab,
        "document.querySelectorAll('svg.chart rect.seg').length",
    );
    assert_eq!(segments, json!(5), "(day, kind) pairs");
    let shot = browser.screenshot(&tab, true);
    let (width, height) = png_size(&shot);
    assert_eq!(width, 1400);
    assert!(
        height >= 1000 && shot.len() > 30_000,
        "{width}x{height}, {} bytes",
        shot.len()
    );
    save("board.png", &shot);
    gate.open();
    browser.wait_for(&tab, &card_in("done", "fix"), "`fix` moves to Done");
    assert!(run.wait().expect("run").success());
    assert_eq!(
        browser.eval(&tab, "window.sameDocument"),
        json!(42),
        "the board reloaded"
    );

    // The task's page followed along: the log, the state, the diff.
    browser.wait_for(
        &task,
        "document.querySelector('.badge.state-done') !== null",
        "the page says done",
    );
    browser.wait_for(
        &task,
        "document.querySelector('#log .result') !== null",
        "the log shows the agent's result",
    );
    assert_eq!(
        browser.eval(&task, "window.sameDocument"),
        json!(43),
        "the task page reloaded"
    );
    let log_text = browser.eval(&task, "document.getElementById('log').innerText");
    let log_text = log_text.as_str().expect("text");
    assert!(
        log_text.contains("Write") && log_text.contains("README.md"),
        "{log_text}"
    );
    assert!(
        log_text.contains("Fixed the install command."),
        "{log_text}"
    );
    let added = browser.eval(
        &task,
        "[...document.querySelectorAll('pre.diff .add')].map(e => e.textContent).join('\\n')",
    );
    assert!(
        added
            .as_str()
            .expect("text")
            .contains("+Install with `cargo install`."),
        "{added}"
    );
    let removed = browser.eval(
        &task,
        "[...document.querySelectorAll('pre.diff .del')].map(e => e.textContent).join('\\n')",
    );
    assert!(
        removed
            .as_str()
            .expect("text")
            .contains("-Install with `cargo instal`."),
        "{removed}"
    );
    assert_eq!(
        browser.eval(&task, "document.querySelector('dd.turns').textContent"),
        json!("2")
    );
    save("task.png", &browser.screenshot(&task, true));

    // Retry the failed task from the page: back to To do.
    browser.wait_for(&tab, &card_in("failed", "old"), "`old` is in Failed");
    browser.eval(&tab, "window.__navigating = true; document.querySelector('[data-state=failed] [data-id=\"old\"] form.retry button').click()");
    browser.wait_for(
        &tab,
        "window.__navigating === undefined && document.readyState === 'complete'",
        "the retry answers",
    );
    browser.wait_for(&tab, &card_in("todo", "old"), "`old` is back in To do");
    assert!(repo.exists(".agentos/todo/old.md"));

    assert_eq!(
        browser.eval(&tab, "document.querySelectorAll('svg.chart g.bar').length"),
        json!(4),
        "the retry's friction is today's"
    );

    // Hostile text is shown as text and runs nothing.
    let title = browser.eval(
        &tab,
        "document.querySelector('[data-id=\"hostile\"] .title').textContent",
    );
    assert_eq!(
        title,
        json!("<script>window.pwnedTitle = 1</script>Hostile")
    );
    browser.navigate(&task, &board.at("/r/repo/task/hostile"));
    let body = browser.eval(&task, "document.querySelector('.body').innerText");
    assert!(
        body.as_str()
            .expect("text")
            .contains("Shown: <script>alert(1)</script>"),
        "{body}"
    );
    browser.eval(&task, "document.querySelector('.body a').click()");
    let pwned = browser.eval(
        &task,
        "[typeof window.pwnedTitle, typeof window.pwnedImage, typeof window.pwnedLink].join()",
    );
    assert_eq!(pwned, json!("undefined,undefined,undefined"));
    browser.navigate(&task, &board.at("/r/repo/task/..%2F..%2Fetc%2Fpasswd"));
    let refused = browser.eval(&task, "document.body.innerText");
    assert!(
        refused.as_str().expect("text").contains("not a task id"),
        "{refused}"
    );
    assert!(
        browser.dialogs.is_empty(),
        "dialogs opened: {:?}",
        browser.dialogs
    );
    assert!(
        browser.exceptions.is_empty(),
        "scripts threw: {:?}",
        browser.exceptions
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}
