//! `git agentos doctor`: one screen that says whether a run can work here.
use super::print_json;
use crate::doctor::{self, Check, Level};
use crate::error::{CmdResult, CommandError};
use crate::term::untrusted;
use serde::Serialize;
use std::path::Path;

/// Check that a run can work here, and say how to fix each miss.
///
/// One line each: git, the repository, the agent CLI and its version, the
/// sandbox (the Landlock ABI the kernel offers), the remote and whether it is
/// on GitHub, whether a token is set (never its value), the post-commit hook,
/// disk space for worktrees and the state folders.
///
/// Exits 0 when nothing fails (warnings are limits worth knowing), 3 otherwise.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Doctor<'a> {
    ok: bool,
    checks: &'a [Check],
}

/// `cli`: the command-line definitions, for the manual check (the pages are
/// generated from them).
pub fn run(dir: &Path, args: Args, cli: &clap::Command) -> CmdResult {
    let checks = doctor::run(dir, cli);
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.level == Level::Fail)
        .map(|c| c.name)
        .collect();
    if args.json {
        print_json(&Doctor {
            ok: failed.is_empty(),
            checks: &checks,
        })?;
    } else {
        out!("{}", untrusted(&text(&checks)));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CommandError::env(format!(
            "{} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

fn text(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let level = match c.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        out.push_str(&format!("{level:<5} {:<11} {}\n", c.name, c.found));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{:<17} fix: {fix}\n", ""));
        }
    }
    let warnings = checks.iter().filter(|c| c.level == Level::Warn).count();
    if checks.iter().all(|c| c.level != Level::Fail) {
        out.push_str(&match warnings {
            0 => "all is well\n".to_string(),
            n => format!("all is well ({n} warning(s))\n"),
        });
    }
    out
}
