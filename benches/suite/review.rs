//! `watch` following 10 open pull requests where nothing changes: its CPU per
//! hour. Ten tasks are published for real to the GitHub stand-in of the test
//! suite (over a local bare origin), one `sync` reads them all, then `watch`
//! runs with the pass schedule compressed `FACTOR` times through the testing aid
//! `AGENTOS_REVIEW_PASS_BASE` (the one minute becomes 100 ms, the thirty minutes
//! 3 s), which the CPU of a pass does not depend on. Two windows, CPU counted
//! from the kernel: the first hour after a change (the dearest: passes at 1, 3,
//! 7, 15 and 31 minutes), then the hours after it (one pass per pull request
//! every 30 minutes; `BENCH_REVIEW_HOURS` of them, default 1), which carry the
//! goal.
use crate::common::{git, BIN};
use crate::github::GitHubApi;
use crate::idle::{cpu_ns_since, thread_cpu};
use crate::{fixtures, Row};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How much faster than real time the passes come.
const FACTOR: u32 = 600;
const OPEN: usize = 10;
const TOKEN: &str = "ghp_bench_not_a_secret";

pub fn rows(scratch: &Path) -> Vec<Row> {
    let hours: f64 = std::env::var("BENCH_REVIEW_HOURS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|h: &f64| *h > 0.0)
        .unwrap_or(1.0);
    let repo = fixtures::repo(&scratch.join("repo"), 100);
    let bare = scratch.join("origin.git");
    git(
        scratch,
        &["init", "-q", "--bare", "-b", "main", path(&bare)],
    );
    git(&repo, &["remote", "add", "origin", path(&bare)]);
    git(&repo, &["push", "-q", "origin", "main"]);
    let github = GitHubApi::start_with_origin("octo", "widgets", &bare);
    let agent = fixtures::instant_agent(
        &scratch.join("agent.sh"),
        "echo x >> \"$AGENTOS_TASK_ID.txt\"",
    );
    for i in 0..OPEN {
        let id = format!("pr-{i}");
        let target = format!("{id}.txt");
        // `add` records the branch HEAD is on, the pull request's base.
        fixtures::agentos(&repo, &["add", &id, "--id", &id, "--target", &target]);
    }
    let base = Duration::from_secs(60) / FACTOR;
    let env = |cmd: &mut Command| {
        cmd.env("AGENTOS_AGENT_CMD", &agent)
            .env(
                "AGENTOS_REVIEW_PASS_BASE",
                format!("{}ms", base.as_millis()),
            )
            .env("AGENTOS_GITHUB_API", &github.url)
            .env("AGENTOS_GITHUB_REPO", "octo/widgets")
            .env("GITHUB_TOKEN", TOKEN)
            .current_dir(&repo)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    };
    for args in [&["run"][..], &["sync"]] {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        env(&mut cmd);
        let out = cmd.stderr(Stdio::piped()).output().expect("git-agentos");
        assert!(
            out.status.success(),
            "git agentos {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let open = std::fs::read_dir(repo.join(".agentos/review"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(open, OPEN, "{OPEN} pull requests open");
    let mut cmd = Command::new(BIN);
    cmd.arg("watch");
    env(&mut cmd);
    let mut watch = cmd.stderr(Stdio::piped()).spawn().expect("spawn watch");
    fixtures::wait_watching(&mut watch);
    let hour = Duration::from_secs(3600) / FACTOR;
    let first = measure(&watch, &github, &repo, hour);
    let steady = measure(&watch, &github, &repo, hour.mul_f64(hours));
    let _ = Command::new("kill").arg(watch.id().to_string()).status();
    let _ = watch.wait();
    let how = format!("the passes {FACTOR}x faster through `AGENTOS_REVIEW_PASS_BASE`");
    vec![
        Row {
            goal: "— (information)".into(),
            met: true,
            ..Row::limit(
                &format!(
                    "`watch` CPU, {OPEN} open pull requests, the first hour after a change (passes at 1, 3, 7, 15 and 31 min; {} passes, {} requests answered 304, {} charged; {:.1} s with {how})",
                    first.passes, first.not_modified, first.charged, first.wall
                ),
                first.cpu_ms,
                "ms",
                100.0,
            )
        },
        Row::limit(
            &format!(
                "`watch` CPU per hour, {OPEN} open pull requests, nothing changing (a pass every 30 min each; {} passes, {} requests answered 304, {} charged, over {hours} hour(s): {:.1} s with {how})",
                steady.passes, steady.not_modified, steady.charged, steady.wall
            ),
            steady.cpu_ms / hours,
            "ms",
            100.0,
        ),
        Row {
            what: "requests GitHub charged to the rate limit in those hours".into(),
            measured: format!("{}", first.charged + steady.charged),
            baseline: "—".into(),
            ratio: None,
            goal: "0".into(),
            met: first.charged + steady.charged == 0,
        },
    ]
}

/// What `watch` spent over one window.
struct Window {
    cpu_ms: f64,
    wall: f64,
    passes: u64,
    charged: usize,
    not_modified: usize,
}

fn measure(
    watch: &std::process::Child,
    github: &GitHubApi,
    repo: &Path,
    window: Duration,
) -> Window {
    let (charged, not_modified, before) = (github.charged(), github.not_modified(), passes(repo));
    let (cpu0, t0) = (thread_cpu(watch.id()), Instant::now());
    std::thread::sleep(window);
    Window {
        cpu_ms: cpu_ns_since(watch.id(), &cpu0) as f64 / 1e6,
        wall: t0.elapsed().as_secs_f64(),
        passes: passes(repo) - before,
        charged: github.charged() - charged,
        not_modified: github.not_modified() - not_modified,
    }
}

/// The passes made over every open pull request so far (their records say).
fn passes(repo: &Path) -> u64 {
    std::fs::read_dir(repo.join(".agentos/review"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".record.json"))
                .filter_map(|e| std::fs::read(e.path()).ok())
                .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .filter_map(|v| v["review"]["passes"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf8")
}
