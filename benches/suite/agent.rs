//! What the orchestrator adds on top of the agent: 10 one-file tasks done by the
//! real Claude Code CLI (node_modules/.bin/claude) against the test suite's
//! scripted Messages API on loopback, `git agentos run` with memory on, next to
//! the floor: the same `claude -p` runs, each in a fresh `git worktree add`,
//! committed by hand. Skipped (no row) when the CLI is not installed.
use crate::common::{git, ms, timed};
use crate::messages_api::{MessagesApi, Reply, Turn};
use crate::{fixtures, Row};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tasks per round.
const TASKS: usize = 10;

/// The pinned CLI, if `npm install` has put it there.
fn claude() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin/claude");
    bin.exists().then_some(bin)
}

/// Rounds of 10 tasks each side (a round takes ~15 s): `BENCH_RUNS`, at most 9
/// (one round's ratio swings by ±10% with the machine; the median of nine
/// holds still).
fn rounds() -> usize {
    crate::runs().min(9)
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let Some(claude) = claude() else {
        eprintln!("bench: agent: node_modules/.bin/claude is missing (npm install); no row");
        return Vec::new();
    };
    // Each task writes its own file (`<id>.txt`, its target), then says it is done.
    let api = MessagesApi::start(Arc::new(|turn: &Turn| {
        let cwd = turn.cwd.clone().unwrap_or_default();
        let id = Path::new(&cwd)
            .file_name()
            .map_or("task".into(), |n| n.to_string_lossy().into_owned());
        match turn.tool_results {
            0 => Reply::Tool {
                name: "Write".into(),
                input: serde_json::json!({
                    "file_path": format!("{cwd}/{id}.txt"),
                    "content": format!("done by {id}\n"),
                }),
            },
            _ => Reply::Text("Done.".into()),
        }
    }));
    let home = scratch.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let env: Vec<(&str, String)> = vec![
        ("HOME", home.display().to_string()),
        ("AGENTOS_HOME", home.join(".agentos").display().to_string()),
        ("ANTHROPIC_BASE_URL", api.url.clone()),
        ("ANTHROPIC_API_KEY", "bench-key-not-secret".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
    ];
    let repo = fixtures::repo(&scratch.join("repo"), 1000);
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    // A first round of each warms the CLI's files into the cache.
    for round in 0..=rounds() {
        for i in 0..TASKS {
            let id = format!("r{round}-t{i}");
            fixtures::drop_task(&repo, &id, &format!("{id}.txt"));
        }
        let mut run = Command::new(crate::common::BIN);
        run.args(["run", "--no-pr"])
            .env("AGENTOS_AGENT_CMD", &claude)
            .current_dir(&repo);
        for (k, v) in &env {
            run.env(k, v);
        }
        let took = timed(&mut run);
        for i in 0..TASKS {
            let done = repo.join(format!(".agentos/done/r{round}-t{i}.md"));
            assert!(done.exists(), "{} done", done.display());
        }
        let by_hand = floor_round(&repo, scratch, &claude, &env, round);
        if round > 0 {
            ours.push(ms(took));
            floor.push(ms(by_hand));
        }
    }
    vec![Row::paired(
        "10 one-file tasks, real Claude Code CLI, memory on (whole run)",
        &ours,
        "claude -p in fresh worktrees, committed by hand",
        &floor,
        1.05,
    )]
}

/// The floor: for each task, `git worktree add`, the same `claude -p` (prompt on
/// stdin, the dispatcher's flags but `--mcp-config`), `git add -A`, `git commit`.
fn floor_round(
    repo: &Path,
    scratch: &Path,
    claude: &Path,
    env: &[(&str, String)],
    round: usize,
) -> Duration {
    let prompt = scratch.join("prompt.txt");
    std::fs::write(
        &prompt,
        "Write the file this task targets, then say you are done.\n",
    )
    .expect("prompt");
    let mut took = Duration::ZERO;
    for i in 0..TASKS {
        let start = Instant::now();
        let id = format!("h{round}-t{i}");
        let path = scratch.join("hand").join(&id);
        let p = path.to_str().expect("utf8");
        git(repo, &["worktree", "add", "-q", "-b", &id, p, "main"]);
        let mut cmd = Command::new(claude);
        // The flags the dispatcher passes (its lockdown and tools), without the
        // memory server.
        cmd.args([
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "acceptEdits",
            "--setting-sources",
            "user",
            "--strict-mcp-config",
            "--settings",
            r#"{"disableAllHooks":true}"#,
            "--allowedTools",
            "Read,Glob,Grep,Bash",
        ])
        .stdin(Stdio::from(std::fs::File::open(&prompt).expect("prompt")))
        .current_dir(&path);
        // A fresh temporary folder, as the dispatcher gives each agent: Claude
        // Code keeps a folder per project under $TMPDIR/claude-<uid>, and a
        // shared /tmp that grows with every run (the suite's, other tools')
        // made this floor drift from 6.1 s to 10.4 s over a morning.
        let tmp = scratch.join("hand-tmp").join(&id);
        std::fs::create_dir_all(&tmp).expect("tmp");
        cmd.env("TMPDIR", &tmp);
        for (k, v) in env {
            cmd.env(k, v);
        }
        timed(&mut cmd);
        assert!(path.join(format!("{id}.txt")).exists(), "{id} written");
        git(&path, &["add", "-A"]);
        git(&path, &["commit", "-q", "-m", &id]);
        took += start.elapsed();
    }
    // Untimed: the round's worktrees go, so that the next round (either side)
    // starts beside the same worktrees as this one did (git agentos reads
    // git's worktree records; ninety left behind would tax its later rounds).
    for i in 0..TASKS {
        let path = scratch.join("hand").join(format!("h{round}-t{i}"));
        git(
            repo,
            &[
                "worktree",
                "remove",
                "--force",
                path.to_str().expect("utf8"),
            ],
        );
    }
    took
}
