//! The prompt an agent receives: its instructions, the task, and the rules.
use crate::task::Task;
use std::path::Path;

const TEMPLATE: &str = include_str!("../../templates/prompt.md");

/// Compose the prompt from the agent's AGENT.md and the task.
pub fn compose(instructions: &str, task: &Task, id: &str, base: &str, worktree: &Path) -> String {
    let targets: Vec<String> = task.targets.iter().map(|t| format!("- `{t}`")).collect();
    let body = if task.body.trim().is_empty() {
        "(no further description)"
    } else {
        task.body.trim_end()
    };
    TEMPLATE
        .replace("{{instructions}}", instructions.trim_end())
        .replace("{{title}}", &task.title)
        .replace("{{branch}}", &format!("agentos/{id}"))
        .replace("{{base}}", base)
        .replace("{{worktree}}", &worktree.display().to_string())
        .replace("{{targets}}", &targets.join("\n"))
        .replace("{{body}}", body)
}
