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
    let values = [
        ("report", report.trim_end()),
        ("agent", agent),
        ("outcome", outcome),
        ("summary", quoted.trim_end()),
        ("id", id),
        ("body", task_body.trim_end()),
    ];
    // One pass: a report or summary holding `{{body}}` stays that text.
    redact(&crate::hooks::templates::substitute(PR_TEMPLATE, &values))
}

#[cfg(test)]
mod tests {
    /// Each placeholder is filled once: a value holding `{{body}}` or `{{id}}`
    /// (a report, an agent's summary) is never searched again.
    #[test]
    fn the_template_is_filled_in_one_pass() {
        let filled = super::body(
            "t1",
            "the task",
            "says {{body}} and {{id}}",
            "default",
            "success",
            "{{report}} {{unknown}} {{",
        );
        assert!(filled.starts_with("the task\n"), "{filled}");
        assert!(filled.contains("\nsays {{body}} and {{id}}\n"), "{filled}");
        assert!(filled.contains("> {{report}} {{unknown}} {{\n"), "{filled}");
        assert!(filled.ends_with("Agentos-Task: t1\n"), "{filled}");
        assert_eq!(filled.matches("the task").count(), 1, "{filled}");
    }
}
