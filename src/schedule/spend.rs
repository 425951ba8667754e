//! What the agents spent: one line per agent run with a cost, appended to
//! `.agentos/runs/spend.jsonl` when its result is recorded (whatever the run's
//! outcome), so `status` sums today's and this week's spend without reading
//! every record; and the daily budget (`[budget] daily_usd` in config.toml),
//! which pauses the queue until local midnight once the day's spend reaches it.
use super::limits::{Limit, LimitKind};
use super::pause::{self, Pause};
use crate::clock::Timestamp;
use crate::queue::Tree;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

/// One agent run's spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spent {
    pub at: Timestamp,
    pub task: String,
    pub attempt: u32,
    pub usd: f64,
}

pub fn path(tree: &Tree) -> PathBuf {
    tree.runs_dir().join("spend.jsonl")
}

/// Append one run's spend (nothing when it cost nothing). A failure to write is
/// logged: it never fails the task.
pub fn note(tree: &Tree, spent: &Spent) {
    if spent.usd <= 0.0 || !spent.usd.is_finite() {
        return;
    }
    let append = || -> std::io::Result<()> {
        let mut line = serde_json::to_string(spent).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path(tree))?;
        file.write_all(line.as_bytes())?;
        file.sync_data()
    };
    if let Err(e) = append() {
        tracing::warn!("cannot record the spend in {}: {e}", path(tree).display());
    }
}

/// Today's and this week's spend (local days; weeks start on Monday).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    pub today_usd: f64,
    pub week_usd: f64,
}

/// Sum the ledger as of `now`. Unreadable lines are skipped.
pub fn totals(tree: &Tree, now: Timestamp) -> Totals {
    let Ok(text) = std::fs::read_to_string(path(tree)) else {
        return Totals::default();
    };
    let (day, week) = (now.local_day_start(), now.local_week_start());
    let mut out = Totals::default();
    for spent in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Spent>(l).ok())
    {
        if spent.at > now || !spent.usd.is_finite() {
            continue;
        }
        if spent.at >= week {
            out.week_usd += spent.usd;
        }
        if spent.at >= day {
            out.today_usd += spent.usd;
        }
    }
    out
}

/// When today's spend has reached `daily_usd`, pause the queue until local
/// midnight (unless a person resumed a budget pause today). Returns the pause.
pub fn check_budget(tree: &Tree, daily_usd: f64, now: Timestamp) -> Option<Pause> {
    let spent = totals(tree, now).today_usd;
    if spent < daily_usd {
        return None;
    }
    if pause::load(tree).budget_resumed_on.as_deref() == Some(now.local_day().as_str()) {
        return None;
    }
    let limit = Limit {
        kind: LimitKind::DailyBudget,
        resets_at: Some(now.next_local_midnight()),
        message: format!("spent ${spent:.2} today, the daily budget is ${daily_usd:.2}"),
    };
    match pause::pause_for(tree, &limit, None, now) {
        Ok(pause) => {
            crate::friction::note(
                tree,
                crate::friction::Event::new(
                    "rate-limited",
                    "claim",
                    &format!("{}; {}", limit.message, pause.describe(now)),
                ),
            );
            Some(pause)
        }
        Err(e) => {
            tracing::warn!("cannot write {}: {e}", pause::path(tree).display());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_and_this_week_in_local_days_and_the_budget_pauses_until_midnight() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        std::fs::create_dir_all(tree.runs_dir()).expect("runs");
        let t = |s: &str| Timestamp::parse(s).expect("time");
        // 2026-11-26 is a Thursday; the week began on Monday the 23rd.
        for (at, usd) in [
            ("2026-11-22T23:00:00Z", 8.0),
            ("2026-11-24T10:00:00Z", 1.0),
            ("2026-11-26T01:00:00Z", 0.5),
            ("2026-11-26T09:00:00Z", 0.75),
            ("2026-11-27T09:00:00Z", 9.0),
        ] {
            note(
                &tree,
                &Spent {
                    at: t(at),
                    task: "t".into(),
                    attempt: 1,
                    usd,
                },
            );
        }
        let now = t("2026-11-26T10:00:00Z");
        // The tests' local zone is the machine's; these hold in any zone west
        // of +09:00 and east of -10:00.
        let totals = totals(&tree, now);
        assert_eq!(totals.today_usd, 1.25);
        assert_eq!(totals.week_usd, 2.25);
        assert_eq!(check_budget(&tree, 2.0, now), None);
        let pause = check_budget(&tree, 1.25, now).expect("paused");
        assert_eq!(pause.kind, LimitKind::DailyBudget);
        assert_eq!(pause.until, now.next_local_midnight());
        assert_eq!(
            pause.message,
            "spent $1.25 today, the daily budget is $1.25"
        );
        // Resumed today: not paused again until tomorrow.
        pause::resume(&tree, now).expect("resume");
        assert_eq!(check_budget(&tree, 1.25, now), None);
    }
}
