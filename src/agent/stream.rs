//! Claude Code's `stream-json` output: the events git agentos acts on.
//!
//! The stream starts with `{"type":"system","subtype":"init",…}` and ends with
//! `{"type":"result",…}`. Every other event is only looked at for progress (the
//! agent's last action) and for the paths its tools wrote; unknown types are ignored.
pub use crate::queue::{AgentResult, Denial};
use serde_json::Value;

/// What one line of the agent's output means to the runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The agent started on the task.
    Init {
        session_id: Option<String>,
        cwd: Option<String>,
    },
    /// A tool call, e.g. `Write README.md`; `path` when it writes a file.
    Action {
        summary: String,
        writes: Option<String>,
    },
    /// What the agent's tools answered (every `tool_result` of a `user` event,
    /// their text joined), scanned for writes the sandbox refused.
    ToolResult { text: String },
    /// The final outcome.
    Result(AgentResult),
    /// A valid event the runner has no use for.
    Other,
}

/// Why a line is not an event.
#[derive(Debug, Clone, PartialEq)]
pub struct NotAnEvent(pub String);

/// Read one line of output. Blank lines are `Other`; anything that is not a JSON
/// object with a string `type` is an error (the agent is not speaking stream-json).
pub fn parse_line(line: &str) -> Result<Event, NotAnEvent> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Event::Other);
    }
    let value: Value = serde_json::from_str(line).map_err(|_| NotAnEvent(excerpt(line)))?;
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Err(NotAnEvent(excerpt(line)));
    };
    let str_field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(match kind {
        "system" if value.get("subtype").and_then(Value::as_str) == Some("init") => Event::Init {
            session_id: str_field(&value, "session_id"),
            cwd: str_field(&value, "cwd"),
        },
        "result" => Event::Result(result(&value)),
        "assistant" => action(&value).unwrap_or(Event::Other),
        "user" => tool_results(&value).unwrap_or(Event::Other),
        _ => Event::Other,
    })
}

/// The outcome a `result` event reports.
pub fn result(value: &Value) -> AgentResult {
    let str_field = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    AgentResult {
        subtype: str_field("subtype").unwrap_or_default(),
        is_error: value
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        num_turns: value.get("num_turns").and_then(Value::as_u64),
        total_cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
        session_id: str_field("session_id"),
        summary: str_field("result"),
        permission_denials: value
            .get("permission_denials")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(denial).collect())
            .unwrap_or_default(),
    }
}

fn denial(v: &Value) -> Denial {
    Denial {
        tool_name: v
            .get("tool_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        path: v.get("tool_input").and_then(tool_path),
    }
}

/// The file a tool call names (Write, Edit, NotebookEdit, Read…).
fn tool_path(input: &Value) -> Option<String> {
    ["file_path", "notebook_path", "path"]
        .iter()
        .find_map(|k| input.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

const WRITING_TOOLS: [&str; 4] = ["Write", "Edit", "MultiEdit", "NotebookEdit"];

fn action(value: &Value) -> Option<Event> {
    let content = value.get("message")?.get("content")?.as_array()?;
    let tool = content
        .iter()
        .rev()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("tool_use"))?;
    let name = tool.get("name").and_then(Value::as_str).unwrap_or("tool");
    let input = tool.get("input").cloned().unwrap_or(Value::Null);
    let path = tool_path(&input);
    let detail = path
        .clone()
        .or_else(|| input.get("command").and_then(Value::as_str).map(excerpt));
    Some(Event::Action {
        summary: match detail {
            Some(d) => format!("{name} {d}"),
            None => name.to_string(),
        },
        writes: path.filter(|_| WRITING_TOOLS.contains(&name)),
    })
}

/// The text of every `tool_result` block of a `user` event (a string, or a
/// list of `text` blocks).
fn tool_results(value: &Value) -> Option<Event> {
    let content = value.get("message")?.get("content")?.as_array()?;
    let mut text = String::new();
    for block in content
        .iter()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("tool_result"))
    {
        match block.get("content") {
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if let Some(s) = part.get("text").and_then(Value::as_str) {
                        text.push_str(s);
                        text.push('\n');
                    }
                }
            }
            _ => {}
        }
        text.push('\n');
    }
    (!text.is_empty()).then_some(Event::ToolResult { text })
}

/// The first 80 characters of a line, for messages.
pub fn excerpt(line: &str) -> String {
    let one_line = line.replace(['\n', '\r'], " ");
    match one_line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_init_actions_and_result() {
        let init = r#"{"type":"system","subtype":"init","cwd":"/w","session_id":"s1","tools":[]}"#;
        assert_eq!(
            parse_line(init),
            Ok(Event::Init {
                session_id: Some("s1".into()),
                cwd: Some("/w".into())
            })
        );
        let write = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Write","input":{"file_path":"/w/a.md","content":"x"}}]}}"#;
        assert_eq!(
            parse_line(write),
            Ok(Event::Action {
                summary: "Write /w/a.md".into(),
                writes: Some("/w/a.md".into())
            })
        );
        let result = r#"{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.5,"result":"Done.","session_id":"s1","permission_denials":[{"tool_name":"Write","tool_input":{"file_path":"/etc/x"}}]}"#;
        match parse_line(result) {
            Ok(Event::Result(r)) => {
                assert!(!r.is_error);
                assert_eq!(r.num_turns, Some(2));
                assert_eq!(r.summary.as_deref(), Some("Done."));
                assert_eq!(r.permission_denials[0].path.as_deref(), Some("/etc/x"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tool_results_are_read_whatever_their_shape() {
        let plain = r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"bash: x: Permission denied","is_error":false}]}}"#;
        assert_eq!(
            parse_line(plain),
            Ok(Event::ToolResult {
                text: "bash: x: Permission denied\n".into()
            })
        );
        let blocks = r#"{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}}"#;
        assert_eq!(
            parse_line(blocks),
            Ok(Event::ToolResult {
                text: "a\nb\n\n".into()
            })
        );
        let prompt = r#"{"type":"user","message":{"content":[{"type":"text","text":"hi"}]}}"#;
        assert_eq!(parse_line(prompt), Ok(Event::Other));
    }

    #[test]
    fn unknown_events_are_ignored_and_garbage_is_not() {
        assert_eq!(
            parse_line(r#"{"type":"future_thing","x":1}"#),
            Ok(Event::Other)
        );
        assert_eq!(parse_line(""), Ok(Event::Other));
        assert!(parse_line("hello there").is_err());
        assert!(parse_line("[1,2]").is_err());
    }
}
