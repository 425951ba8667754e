//! Spending caps: `max_turns` and `max_cost_usd` (Claude Code's own flags, the
//! dispatcher's meter for other agents), and the daily budget.
use crate::support::messages_api::MessagesApi;
use crate::support::{FakeAgent, TestRepo};

fn reason(repo: &TestRepo, id: &str) -> String {
    repo.read(&format!(".agentos/failed/{id}.reason"))
}

#[test]
fn max_turns_and_max_cost_usd_stop_a_looping_claude_code() {
    let repo = TestRepo::initialised();
    // The agent's default cap; a task's own caps win over it.
    let toml = ".agentos/agents/default/agent.toml";
    let text = std::fs::read_to_string(repo.path(toml)).unwrap_or_default();
    repo.write(toml, &format!("max_turns = 3\n{text}"));
    repo.agentos(&["add", "Turns", "-t", "README.md", "--id", "turns"])
        .ok();
    repo.agentos(&[
        "add",
        "Budget",
        "-t",
        "README.md",
        "--id",
        "budget",
        "--max-turns",
        "10",
        "--max-cost-usd",
        "1",
    ])
    .ok();
    repo.agentos(&["show", "budget"])
        .ok()
        .stdout_has("max turns 10\n")
        .stdout_has("max cost  $1.00\n");
    let api = MessagesApi::loops(0.3);
    repo.agentos_with(&["run", "--no-pr"], &repo.claude_env(&api))
        .code(1);
    assert_eq!(
        reason(&repo, "turns"),
        "stopped at its cap of 3 turns (max_turns)\n"
    );
    assert_eq!(
        reason(&repo, "budget"),
        "stopped at $1.20, over its $1.00 cap (max_cost_usd)\n"
    );
    assert_eq!(api.count(), 3 + 4, "3 turns, then the 4 that reached $1.20");
    repo.agentos(&["status"])
        .ok()
        .stdout_has("spent       $2.10 today, $2.10 this week\n");
}

#[test]
fn another_agent_is_stopped_by_the_dispatcher_once_it_passes_its_cap() {
    let repo = TestRepo::initialised();
    let agent = FakeAgent::new(&repo)
        .runs(
            r#"i=0; while true; do i=$((i+1)); printf '{"type":"assistant","message":{"id":"m%s","content":[]},"total_cost_usd":%s.5}\n' $i $i; sleep 0.05; done"#,
        )
        .no_result()
        .build();
    repo.agentos(&[
        "add",
        "Loop",
        "-t",
        "README.md",
        "--id",
        "loop",
        "--max-cost-usd",
        "2",
    ])
    .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1)
        .stdout_has("failed  loop: stopped at $2.50, over its $2.00 cap (max_cost_usd)");
    let record: serde_json::Value =
        serde_json::from_str(&repo.read(".agentos/failed/loop.record.json")).expect("record");
    assert_eq!(record["agent_result"]["total_cost_usd"], 2.5);
    assert_eq!(record["agent_result"]["num_turns"], 2);
    repo.agentos(&[
        "add",
        "Turns",
        "-t",
        "README.md",
        "--id",
        "turns",
        "--max-turns",
        "4",
    ])
    .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1)
        .stdout_has("failed  turns: stopped at its cap of 4 turns (max_turns)");
}

#[test]
fn the_daily_budget_pauses_the_queue_until_local_midnight() {
    let repo = TestRepo::initialised();
    let config = repo.read(".agentos/config.toml");
    repo.write(
        ".agentos/config.toml",
        &format!("{config}\n[budget]\ndaily_usd = 1.0\n"),
    );
    let agent = FakeAgent::new(&repo)
        .runs("echo \"$AGENTOS_TASK_ID\" >> README.md")
        .reports(1, 0.6, "Done.")
        .build();
    for id in ["a", "b", "c"] {
        repo.agentos(&["add", id, "-t", "README.md", "--id", id])
            .ok();
    }
    let env = |now: &'static str| {
        [
            ("AGENTOS_AGENT_CMD", agent.as_str()),
            ("TZ", "UTC"),
            ("AGENTOS_NOW", now),
        ]
    };
    let thursday = "2026-11-26T10:00:00Z";
    repo.agentos_env(&["run", "--no-pr"], &env(thursday))
        .ok()
        .stdout_has("done    a\ndone    b\n")
        .stdout_has("The queue is paused until Nov 27 00:00 (daily budget)");
    assert_eq!(repo.files_in(".agentos/todo"), ["c.md"]);
    repo.agentos_env(&["status"], &env(thursday))
        .ok()
        .stdout_has("spent       $1.20 today, $1.20 this week (daily budget $1.00)\n")
        .stdout_has(
            "pause       paused until Nov 27 00:00 (daily budget); `git agentos resume` ends it\n",
        )
        .stdout_has("            spent $1.20 today, the daily budget is $1.00\n");
    assert!(repo
        .read(".agentos/friction.jsonl")
        .contains("\"rate-limited\""));
    // Past midnight the day's spend starts again; the week's goes on.
    let friday = "2026-11-27T00:00:01Z";
    repo.agentos_env(&["run", "--no-pr"], &env(friday))
        .ok()
        .stdout_has("done    c\n");
    repo.agentos_env(&["status"], &env(friday))
        .ok()
        .stdout_has("spent       $0.60 today, $1.80 this week (daily budget $1.00)\n");
}
