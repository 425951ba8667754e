//! The performance suite: `cargo bench` builds its own fixtures (a 1,000-file and
//! a 10,000-file repository, 10,000 queued tasks, a local bare remote), measures
//! what git agentos exists for next to what a person would otherwise run, in the
//! same run on the same machine, and prints one table: each row a median over
//! repeated runs, its baseline, the ratio, the goal and whether it is met.
//!
//! `BENCH_IDLE_SECS` shortens the idle window (default 60); `BENCH_RUNS` sets the
//! repetitions (default 15); `BENCH_REVIEW_HOURS` the compressed hours the review
//! section measures (default 1); `BENCH_KEEP=1` keeps the scratch folder (its
//! path is printed) so the task records of a run can be read afterwards.
mod agent;
#[path = "../common/mod.rs"]
mod common;
mod fixtures;
mod fleet;
mod hook;
mod idle;
mod pickup;
mod queue;
mod review;
mod sandbox;
mod start;
mod task;
mod verify;
mod worktree;

/// The GitHub stand-in of the test suite (and the HTTP server under it), for
/// the review section.
#[allow(dead_code, unused_imports)]
#[path = "../../tests/support/github/mod.rs"]
mod github;
#[allow(dead_code)]
#[path = "../../tests/support/http.rs"]
mod http;
/// The scripted Messages API the real Claude Code CLI talks to, for the agent section.
#[allow(dead_code)]
#[path = "../../tests/support/messages_api.rs"]
mod messages_api;

/// A section of the suite: builds its fixtures in a scratch folder, returns rows.
type Section = fn(&std::path::Path) -> Vec<Row>;

/// One line of the table.
pub struct Row {
    pub what: String,
    pub measured: String,
    pub baseline: String,
    pub ratio: Option<f64>,
    pub goal: String,
    pub met: bool,
}

impl Row {
    /// A row measured against a baseline: met when the ratio is at most `max`.
    pub fn ratio(what: &str, ours_ms: f64, base_what: &str, base_ms: f64, max: f64) -> Row {
        let ratio = ours_ms / base_ms;
        Row {
            what: what.into(),
            measured: format!("{ours_ms:.1} ms"),
            baseline: format!("{base_what}: {base_ms:.1} ms"),
            ratio: Some(ratio),
            goal: format!("at most {max:.2}x"),
            met: ratio <= max,
        }
    }

    /// A row measured against a baseline in rounds taken in turn: the ratio is
    /// the median of each round's own ratio (a machine that drifts between
    /// rounds moves both sides of a pair alike), the times the medians of each side.
    pub fn paired(what: &str, ours: &[f64], base_what: &str, base: &[f64], max: f64) -> Row {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ratio = median(ours.iter().zip(base).map(|(o, b)| o / b).collect());
        let pairs: Vec<String> = ours
            .iter()
            .zip(base)
            .map(|(o, b)| format!("{:.2}", o / b))
            .collect();
        Row {
            what: format!("{what} (rounds in turn: {})", pairs.join(", ")),
            measured: format!("{:.1} ms", median(ours.to_vec())),
            baseline: format!("{base_what}: {:.1} ms", median(base.to_vec())),
            ratio: Some(ratio),
            goal: format!("at most {max:.2}x"),
            met: ratio <= max,
        }
    }

    /// A row with an absolute goal.
    pub fn limit(what: &str, value: f64, unit: &str, max: f64) -> Row {
        Row {
            what: what.into(),
            measured: format!("{value:.2} {unit}"),
            baseline: "—".into(),
            ratio: None,
            goal: format!("under {max} {unit}"),
            met: value < max,
        }
    }
}

pub fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(15)
}

fn main() {
    if common::listing() {
        return;
    }
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    let mut dir = tempfile::tempdir().expect("tempdir");
    if std::env::var_os("BENCH_KEEP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("bench: scratch kept at {}", dir.path().display());
    }
    let mut rows: Vec<Row> = Vec::new();
    let sections: [(&str, Section); 12] = [
        ("start", start::rows),
        ("agent", agent::rows),
        ("idle", idle::rows),
        ("fleet", fleet::rows),
        ("review", review::rows),
        ("pickup", pickup::rows),
        ("sandbox", sandbox::rows),
        ("worktree", worktree::rows),
        ("task", task::rows),
        ("verify", verify::rows),
        ("hook", hook::rows),
        ("queue", queue::rows),
    ];
    for (name, section) in sections {
        if wanted(name) {
            eprintln!("bench: {name}…");
            let scratch = dir.path().join(name);
            std::fs::create_dir_all(&scratch).expect("mkdir");
            rows.extend(section(&scratch));
        }
    }
    println!(
        "\n{} cores, median of {} runs per row unless it says otherwise\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs()
    );
    println!("| what | measured | baseline | ratio | goal | met |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.what,
            r.measured,
            r.baseline,
            r.ratio.map_or("—".into(), |x| format!("{x:.2}x")),
            r.goal,
            if r.met { "yes" } else { "no" }
        );
    }
}
