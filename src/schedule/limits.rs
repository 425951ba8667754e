//! Recognising that an agent stopped because the model's usage or rate limit was
//! reached, from its stream-json, as Claude Code 2.1.328 reports it (recorded
//! in tests/support/messages_api.rs): every such run ends with a `result` event
//! with `"is_error": true`, `"terminal_reason": "api_error"` and the API's
//! status in `api_error_status`:
//!
//! - a subscription's usage limit: 429, announced first by a `rate_limit_event`
//!   whose `rate_limit_info.status` is `rejected`, with `resetsAt` (Unix
//!   seconds) when the API gave a reset time; the result reads "You've hit
//!   your 5-hour limit · resets 6:45pm (UTC)";
//! - a rate limit: 429 after the CLI's own retries (no reset time reaches the
//!   stream);
//! - overloaded: 529 (`overloaded_error`) after its retries;
//! - an API key's spend limit: 400 "You have reached your specified API usage
//!   limits. You will regain access on 2026-12-01 at 00:00 UTC."
use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// What stopped the agent (or the queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitKind {
    UsageLimit,
    RateLimit,
    Overloaded,
    SpendLimit,
    DailyBudget,
}

impl LimitKind {
    /// How `status` names it: "paused until 03:00 (usage limit)".
    pub fn label(self) -> &'static str {
        match self {
            LimitKind::UsageLimit => "usage limit",
            LimitKind::RateLimit => "rate limit",
            LimitKind::Overloaded => "API overloaded",
            LimitKind::SpendLimit => "API spend limit",
            LimitKind::DailyBudget => "daily budget",
        }
    }
}

/// A limit the agent ran into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub kind: LimitKind,
    /// When it resets, when the API said.
    pub resets_at: Option<Timestamp>,
    /// What the agent said, for the log.
    pub message: String,
}

/// The limit an agent's stream (`agent.jsonl`) ends on, if it ends on one.
pub fn from_stream(path: &Path) -> Option<Limit> {
    let file = std::fs::File::open(path).ok()?;
    let mut resets_at = None;
    let mut rejected = false;
    let mut result: Option<Value> = None;
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        if !(line.contains("\"rate_limit_event\"") || line.contains("\"result\"")) {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match value.get("type").and_then(Value::as_str) {
            Some("rate_limit_event") => {
                let info = &value["rate_limit_info"];
                if info["status"] == "rejected" {
                    rejected = true;
                    resets_at = info["resetsAt"].as_i64().map(Timestamp::from_unix_secs);
                }
            }
            Some("result") => result = Some(value),
            _ => {}
        }
    }
    classify(&result?, rejected, resets_at)
}

/// Judge a `result` event (with what a `rate_limit_event` before it said).
pub fn classify(result: &Value, rejected: bool, resets_at: Option<Timestamp>) -> Option<Limit> {
    if result["is_error"] != true {
        return None;
    }
    let status = result["api_error_status"].as_u64();
    let kind = result["api_error_type"].as_str().unwrap_or_default();
    let text = result["result"].as_str().unwrap_or_default();
    let message = crate::agent::stream::excerpt(text);
    let limit = |kind, resets_at| {
        Some(Limit {
            kind,
            resets_at,
            message: message.clone(),
        })
    };
    if rejected || text.starts_with("You've hit your") {
        return limit(LimitKind::UsageLimit, resets_at);
    }
    match (status, kind) {
        (Some(429), _) | (_, "rate_limit_error") => limit(LimitKind::RateLimit, None),
        (Some(529), _) | (_, "overloaded_error") => limit(LimitKind::Overloaded, None),
        _ if text.contains("reached your specified API usage limits") => {
            limit(LimitKind::SpendLimit, regain(text))
        }
        _ => None,
    }
}

/// "… You will regain access on 2026-12-01 at 00:00 UTC." → that time.
fn regain(text: &str) -> Option<Timestamp> {
    let rest = &text[text.find("regain access on ")? + "regain access on ".len()..];
    let mut words = rest.split_whitespace();
    let day = words.next()?;
    let time = match (words.next(), words.next()) {
        (Some("at"), Some(time)) => time,
        _ => "00:00",
    };
    Timestamp::parse(&format!("{day}T{time}:00Z"))
}

#[cfg(test)]
mod tests;
