//! An agent's stream as a person reads it: each stream-json line turned into
//! what happened (it started, said something, called a tool, got a result, was
//! denied, finished), for `logs` and the board. Where the attempts' streams live:
//! `runs/<id>/attempt-<n>/agent.jsonl`.
use super::stream::{self, excerpt};
use crate::queue::Denial;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One thing the agent did, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// It started on the task.
    Start {
        session: Option<String>,
        cwd: Option<String>,
        model: Option<String>,
    },
    /// What it said.
    Text(String),
    /// A tool call: the tool and what it was called on (a path, a command…).
    Tool { name: String, detail: String },
    /// A tool's answer, cut to its first lines; `error` when the tool refused or
    /// failed (Claude Code's denials arrive this way too); `refused`: every line
    /// of the whole answer that reports a write refused (by the sandbox or the
    /// file's permissions), whether or not the tool failed.
    ToolResult {
        text: String,
        error: bool,
        refused: Vec<String>,
    },
    /// A note from the CLI itself (an API retry, a rate limit…).
    Notice(String),
    /// How it ended: outcome, turns and cost, its summary, what was denied.
    Result {
        outcome: String,
        error: bool,
        summary: Option<String>,
        denials: Vec<Denial>,
    },
    /// A line that is not stream-json.
    NotJson(String),
}

/// The most lines of a tool's answer shown.
const RESULT_LINES: usize = 6;

/// What one line of the stream says (nothing, for events of no interest).
pub fn items(line: &str) -> Vec<Item> {
    let line = line.trim();
    if line.is_empty() {
        return Vec::new();
    }
    let value: Value = match serde_json::from_str(line) {
        Ok(value @ Value::Object(_)) => value,
        _ => return vec![Item::NotJson(excerpt(line))],
    };
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    match (text("type").as_deref(), text("subtype")) {
        (None, _) => vec![Item::NotJson(excerpt(line))],
        (Some("system"), Some(sub)) if sub == "init" => vec![Item::Start {
            session: text("session_id"),
            cwd: text("cwd"),
            model: text("model"),
        }],
        (Some("system"), Some(sub)) => vec![Item::Notice(notice(&sub, &value))],
        (Some("assistant"), _) => content(&value).iter().filter_map(said).collect(),
        (Some("user"), _) => content(&value).iter().filter_map(answered).collect(),
        (Some("rate_limit_event"), _) => vec![Item::Notice(format!(
            "rate limit: {}",
            excerpt(&value["rate_limit_info"].to_string())
        ))],
        (Some("result"), _) => {
            let r = stream::result(&value);
            vec![Item::Result {
                outcome: r.describe(),
                error: r.is_error,
                summary: r.summary,
                denials: r.permission_denials,
            }]
        }
        _ => Vec::new(),
    }
}

fn content(value: &Value) -> &[Value] {
    value
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn notice(subtype: &str, value: &Value) -> String {
    match subtype {
        "api_retry" => format!(
            "API retry {} of {} ({})",
            value["attempt"],
            value["max_retries"],
            value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("error")
        ),
        other => other.replace('_', " "),
    }
}

/// A block of an assistant message: text, or a tool call.
fn said(block: &Value) -> Option<Item> {
    match block.get("type")?.as_str()? {
        "text" => {
            let text = block.get("text")?.as_str()?.trim();
            (!text.is_empty()).then(|| Item::Text(text.to_string()))
        }
        "tool_use" => {
            let name = block.get("name").and_then(Value::as_str).unwrap_or("tool");
            let input = block.get("input").cloned().unwrap_or(Value::Null);
            Some(Item::Tool {
                name: name.to_string(),
                detail: tool_detail(&input),
            })
        }
        _ => None,
    }
}

/// What a tool call is about, in a few words: its path, command or pattern.
fn tool_detail(input: &Value) -> String {
    [
        "file_path",
        "notebook_path",
        "path",
        "command",
        "pattern",
        "url",
        "query",
    ]
    .iter()
    .find_map(|k| input.get(*k).and_then(Value::as_str))
    .map(excerpt)
    .unwrap_or_default()
}

/// A block of a user message: a tool's answer.
fn answered(block: &Value) -> Option<Item> {
    if block.get("type")?.as_str()? != "tool_result" {
        return None;
    }
    let text = match block.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    let refused = super::denials::refusals(&text)
        .into_iter()
        .map(|r| r.line)
        .collect();
    let mut lines: Vec<&str> = text.lines().collect();
    let more = lines.len().saturating_sub(RESULT_LINES);
    lines.truncate(RESULT_LINES);
    let mut text = lines.join("\n");
    if more > 0 {
        text.push_str(&format!("\n… {more} more lines"));
    }
    Some(Item::ToolResult {
        text,
        refused,
        error: block
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The folder of a task's latest attempt (`runs/<id>/attempt-<n>`, highest n).
pub fn latest_attempt(runs: &Path, id: &str) -> Option<PathBuf> {
    attempts(runs, id).pop().map(|(_, path)| path)
}

/// The folder of a task's latest agent run: its latest revision round whose
/// agent ran (`runs/<id>/round-<n>` with an `agent.jsonl`), else its latest
/// attempt.
pub fn latest_run(runs: &Path, id: &str) -> Option<PathBuf> {
    numbered(runs, id, "round-")
        .into_iter()
        .rev()
        .find(|(_, p)| p.join("agent.jsonl").exists())
        .map(|(_, p)| p)
        .or_else(|| latest_attempt(runs, id))
}

/// Every attempt folder of a task, oldest first, with its number.
pub fn attempts(runs: &Path, id: &str) -> Vec<(u32, PathBuf)> {
    numbered(runs, id, "attempt-")
}

/// Every revision-round folder of a task, oldest first, with its number.
pub fn rounds(runs: &Path, id: &str) -> Vec<(u32, PathBuf)> {
    numbered(runs, id, "round-")
}

/// The folders `runs/<id>/<prefix><n>`, by n.
fn numbered(runs: &Path, id: &str, prefix: &str) -> Vec<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(runs.join(id))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix(prefix)?
                .parse::<u32>()
                .ok()
                .map(|n| (n, e.path()))
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_reads_as_what_happened() {
        let lines = [
            r#"{"type":"system","subtype":"init","session_id":"s","cwd":"/w","model":"m"}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Fixing it."},{"type":"tool_use","name":"Write","input":{"file_path":"/w/README.md","content":"x"}}]}}"#,
            r#"{"type":"user","message":{"content":[{"type":"tool_result","content":"denied: outside the folder","is_error":true}]}}"#,
            r#"{"type":"system","subtype":"api_retry","attempt":1,"max_retries":2,"error":"overloaded"}"#,
            r#"{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.5,"result":"Done.","permission_denials":[{"tool_name":"Write","tool_input":{"file_path":"/etc/x"}}]}"#,
            "not json",
            r#"{"type":"future"}"#,
        ];
        let all: Vec<Item> = lines.iter().flat_map(|l| items(l)).collect();
        assert_eq!(
            all[0],
            Item::Start {
                session: Some("s".into()),
                cwd: Some("/w".into()),
                model: Some("m".into())
            }
        );
        assert_eq!(all[1], Item::Text("Fixing it.".into()));
        assert_eq!(
            all[2],
            Item::Tool {
                name: "Write".into(),
                detail: "/w/README.md".into()
            }
        );
        assert_eq!(
            all[3],
            Item::ToolResult {
                text: "denied: outside the folder".into(),
                error: true,
                refused: Vec::new(),
            }
        );
        assert_eq!(all[4], Item::Notice("API retry 1 of 2 (overloaded)".into()));
        match &all[5] {
            Item::Result {
                outcome, denials, ..
            } => {
                assert_eq!(outcome, "success, 2 turns, $0.5000");
                assert_eq!(denials[0].path.as_deref(), Some("/etc/x"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(all[6], Item::NotJson("not json".into()));
        assert_eq!(all.len(), 7);
    }

    #[test]
    fn long_tool_answers_are_cut() {
        let text: Vec<String> = (1..=10).map(|n| format!("line {n}")).collect();
        let line = serde_json::json!({"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":text.join("\n")}]}]}}).to_string();
        match &items(&line)[..] {
            [Item::ToolResult { text, error, .. }] => {
                assert!(!error);
                assert!(text.starts_with("line 1\n") && text.ends_with("… 4 more lines"));
            }
            other => panic!("{other:?}"),
        }
    }
}
