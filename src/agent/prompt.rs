//! The prompt an agent receives: its instructions, the task, and the rules.
use crate::task::Task;
use std::path::Path;

const TEMPLATE: &str = include_str!("../../templates/prompt.md");

const MEMORY: &str = "
## Memory

Notes from people and earlier agents live in a shared memory, not in this prompt.
Before you start, search it with the `memory_search` tool of the `agentos` MCP
server (for the topics your instructions name, and for the words of this task);
`current_task` returns this task's file. When you learn something the next agent
should know (a convention, a pitfall), record it with `memory_add`.
";

/// Compose the prompt from the agent's AGENT.md and the task; `memory` when the
/// agent has the memory server.
pub fn compose(
    instructions: &str,
    task: &Task,
    id: &str,
    base: &str,
    worktree: &Path,
    memory: bool,
) -> String {
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
        .replace("{{memory}}", if memory { MEMORY } else { "" })
        .replace("{{body}}", body)
}
