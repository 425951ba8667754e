//! Writing a task back as file text, field by field in the order of [`FIELDS`].
use super::{Task, FIELDS};

/// Write a task as file text; `parse(&write(t)) == Ok(t)` for every task.
pub fn write(task: &Task) -> String {
    let mut out = String::from("+++\n");
    for field in FIELDS {
        if let Some(value) = value(task, field) {
            out.push_str(field);
            out.push_str(" = ");
            out.push_str(&value);
            out.push('\n');
        }
    }
    out.push_str("+++\n");
    out.push_str(&task.body);
    out
}

/// A field's value as TOML, or None when the field is left out (unset or default).
fn value(task: &Task, field: &str) -> Option<String> {
    let string = |s: &Option<String>| s.as_deref().map(toml_string);
    let flag = |b: Option<bool>| b.map(|b| b.to_string());
    match field {
        "title" => Some(toml_string(&task.title)),
        "targets" => Some(toml_array(&task.targets)),
        "agent" => string(&task.agent),
        "base" => string(&task.base),
        "base_branch" => string(&task.base_branch),
        "verify" => (!task.verify.is_empty()).then(|| toml_array(&task.verify)),
        "priority" => (task.priority != 0).then(|| task.priority.to_string()),
        "timeout" => string(&task.timeout),
        "enqueued" => task.enqueued.map(|t| t.to_string()),
        "require_all" => flag(task.require_all),
        "draft" => flag(task.draft),
        "labels" => (!task.labels.is_empty()).then(|| toml_array(&task.labels)),
        "triggered_by" => (!task.triggered_by.is_empty()).then(|| toml_array(&task.triggered_by)),
        "source_change" => string(&task.source_change),
        "after" => (!task.after.is_empty()).then(|| toml_array(&task.after)),
        "stack" => flag(task.stack),
        "max_turns" => task.max_turns.map(|n| n.to_string()),
        "max_cost_usd" => task.max_cost_usd.map(|usd| usd.to_toml()),
        _ => None,
    }
}

/// A TOML basic string on one line, whatever the text holds.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", parts.join(", "))
}
