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
    redact(&fill(PR_TEMPLATE, &values))
}

/// The template with each `{{name}}` replaced, in one pass: a value is never
/// searched again (a report holding `{{body}}` stays as it is).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, end + 2))
        });
        match value {
            Some((value, used)) => {
                out.push_str(value);
                rest = &after[used..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    /// Each placeholder is filled once: a value holding `{{body}}` or `{{id}}`
    /// (a report, an agent's summary) is never searched again.
    #[test]
    fn the_template_is_filled_in_one_pass() {
        let filled = super::fill(
            "R: {{report}} B: {{body}} {{unknown}} {{",
            &[("report", "says {{body}} and {{id}}"), ("body", "the task")],
        );
        assert_eq!(
            filled,
            "R: says {{body}} and {{id}} B: the task {{unknown}} {{"
        );
    }
}
