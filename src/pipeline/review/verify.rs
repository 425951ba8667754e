//! The round's verify step: the same verifier as the task's, over the whole
//! change the pull request makes now (from where it meets its base branch to
//! the round's commit), bound by the task's targets, with the verify commands.
//! A rejected change stops the round: nothing is pushed, and the reply says why.
use super::{round, Outcome};
use crate::path_error::PathError;
use crate::pipeline::verify::{markdown, verify_task_from, Subject};
use crate::pipeline::TaskRun;
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<Outcome, QueueError> {
    let r = round(run).clone();
    let (Some(commit), Some(base_tip)) = (r.commit.clone(), r.base_tip.clone()) else {
        return Ok(Outcome::Done); // the agent changed nothing: nothing to verify
    };
    let from = match run.ws.repo.merge_base(&base_tip, &commit) {
        Ok(from) => from,
        Err(e) => return Ok(Outcome::Stop(format!("verify: {e}"))),
    };
    let run_dir = run.run_dir()?;
    let verified = verify_task_from(
        &Subject {
            repo: &run.ws.repo,
            id: &run.entry.id,
            task: &run.task,
            record: &run.record,
            agent: &run.agent,
            worktree: &run.worktree,
            log_dir: &run_dir,
            stop: &|| false,
        },
        &from,
    );
    let report = match verified {
        Ok(report) => report,
        Err(e) => return Ok(Outcome::Stop(format!("verify: {e}"))),
    };
    let path = run_dir.join("report.md");
    crate::durable::write(&path, markdown(&report).as_bytes())
        .map_err(PathError::at("write", &path))?;
    let rel = run.ws.rel(&path).into_owned();
    super::review(run).verify_base = Some(from);
    run.record.report = Some(rel.clone());
    let r = round(run);
    r.report = Some(rel);
    if report.passed {
        r.verdict = Some(verdict_line(&report));
        Ok(Outcome::Done)
    } else {
        let reason = report.reason();
        r.verdict = Some(reason.clone());
        Ok(Outcome::Stop(reason))
    }
}

/// `passed: 4 rules held, `cargo test` passed`.
fn verdict_line(report: &crate::pipeline::verify::Report) -> String {
    let mut out = format!("passed ({} rules held", report.rules.len());
    let commands: Vec<String> = report
        .commands
        .iter()
        .map(|c| format!("`{}` passed", c.command))
        .collect();
    if !commands.is_empty() {
        out.push_str(&format!("; {}", commands.join(", ")));
    }
    out.push(')');
    out
}
