//! The pull request's body, from `templates/pr.md`.
use super::redact;

const PR_TEMPLATE: &str = include_str!("../../templates/pr.md");

/// The pull request's body: the task, the verification report, the agent's
/// summary and the `Agentos-Task:` marker. The token never survives into it.
pub fn body(
    id: &str,
    task_body: &str,
    report: &str,
    agent: &str,
    outcome: &str,
    summary: &str,
) -> String {
    let quoted: String = summary.lines().map(|l| format!("> {l}\n")).collect();
    redact(
        &PR_TEMPLATE
            .replace("{{report}}", report.trim_end())
            .replace("{{agent}}", agent)
            .replace("{{outcome}}", outcome)
            .replace("{{summary}}", quoted.trim_end())
            .replace("{{id}}", id)
            .replace("{{body}}", task_body.trim_end()),
    )
}
