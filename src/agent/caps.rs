//! Spending caps of one agent run: `max_turns` and `max_cost_usd` (the task's,
//! else agent.toml's). Claude Code enforces them itself (`--max-turns`,
//! `--max-budget-usd`) and says so in its result (`error_max_turns`,
//! `error_max_budget_usd`); for any other agent that speaks stream-json the
//! dispatcher keeps the [`Meter`] and ends the agent once it passes a cap.
use super::config::AgentConfig;
use crate::queue::AgentResult;
use serde_json::Value;
use std::collections::HashSet;

/// The caps of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Caps {
    pub max_turns: Option<u64>,
    pub max_cost_usd: Option<f64>,
}

impl Caps {
    pub fn any(&self) -> bool {
        self.max_turns.is_some() || self.max_cost_usd.is_some()
    }
}

/// `stopped at $2.04, over its $2.00 cap (max_cost_usd)`.
pub fn over_cost(spent: f64, cap: f64) -> String {
    format!("stopped at ${spent:.2}, over its ${cap:.2} cap (max_cost_usd)")
}

/// `stopped at its cap of 3 turns (max_turns)`.
pub fn over_turns(cap: u64) -> String {
    format!("stopped at its cap of {cap} turns (max_turns)")
}

/// The reason a run Claude Code stopped at one of our caps fails with, if it
/// stopped at one (a stop we set no cap for keeps the agent's own words).
pub fn reason(result: &AgentResult, caps: Caps) -> Option<String> {
    match result.subtype.as_str() {
        "error_max_budget_usd" => caps
            .max_cost_usd
            .map(|cap| over_cost(result.total_cost_usd.unwrap_or_default(), cap)),
        "error_max_turns" => caps.max_turns.map(over_turns),
        _ => None,
    }
}

/// What an agent other than Claude Code has spent so far, read from its
/// stream: a turn per assistant message (by `message.id`; an event without
/// one counts on its own), the cost from the latest `total_cost_usd` any
/// event carries (a running total).
#[derive(Debug, Default)]
pub struct Meter {
    caps: Caps,
    messages: HashSet<String>,
    turns: u64,
    cost: Option<f64>,
}

/// Claude Code's flags for an agent's caps: it keeps them itself (and reports
/// which one stopped it).
pub fn claude_flags(agent: &AgentConfig) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(turns) = agent.max_turns {
        flags.extend(["--max-turns".to_string(), turns.to_string()]);
    }
    if let Some(usd) = agent.max_cost_usd {
        flags.extend(["--max-budget-usd".to_string(), usd.to_string()]);
    }
    flags
}

impl Meter {
    /// The meter of an agent other than Claude Code with a cap; None otherwise.
    pub fn for_agent(agent: &AgentConfig) -> Option<Meter> {
        let caps = Caps {
            max_turns: agent.max_turns,
            max_cost_usd: agent.max_cost_usd,
        };
        (!agent.is_claude && caps.any()).then(|| Meter::new(caps))
    }

    pub fn new(caps: Caps) -> Meter {
        Meter {
            caps,
            ..Meter::default()
        }
    }

    /// Read one line of the stream; once a cap is passed, the reason to stop
    /// and the run so far as a result.
    pub fn observe(&mut self, line: &str) -> Option<(String, AgentResult)> {
        let stop = self.passed(line)?;
        Some((stop, self.result("stopped_at_cap")))
    }

    fn passed(&mut self, line: &str) -> Option<String> {
        if !self.caps.any() {
            return None;
        }
        let value: Value = serde_json::from_str(line).ok()?;
        if value["type"] == "assistant" {
            match value["message"]["id"].as_str() {
                Some(id) => {
                    if self.messages.insert(id.to_string()) {
                        self.turns += 1;
                    }
                }
                None => self.turns += 1,
            }
        }
        if let Some(cost) = value["total_cost_usd"].as_f64() {
            self.cost = Some(cost);
        }
        match (self.caps, self.cost) {
            (
                Caps {
                    max_cost_usd: Some(cap),
                    ..
                },
                Some(spent),
            ) if spent > cap => Some(over_cost(spent, cap)),
            (
                Caps {
                    max_turns: Some(cap),
                    ..
                },
                _,
            ) if self.turns > cap => Some(over_turns(cap)),
            _ => None,
        }
    }

    /// The run so far, as a result (the agent sent none: it was stopped).
    pub fn result(&self, subtype: &str) -> AgentResult {
        AgentResult {
            subtype: subtype.into(),
            is_error: true,
            num_turns: Some(self.turns),
            total_cost_usd: self.cost,
            ..AgentResult::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_stops_past_a_cap_and_not_at_it() {
        let caps = Caps {
            max_turns: Some(2),
            max_cost_usd: Some(2.0),
        };
        let mut m = Meter::new(caps);
        let turn = |id: &str, cost: f64| {
            format!(
                r#"{{"type":"assistant","message":{{"id":"{id}","content":[]}},"total_cost_usd":{cost}}}"#
            )
        };
        assert_eq!(m.passed(&turn("a", 1.0)), None);
        assert_eq!(m.passed(&turn("a", 1.5)), None, "one message, one turn");
        assert_eq!(m.passed(&turn("b", 2.0)), None, "at the caps");
        assert_eq!(
            m.passed(&turn("c", 2.04)),
            Some("stopped at $2.04, over its $2.00 cap (max_cost_usd)".into())
        );
        let mut m = Meter::new(Caps {
            max_turns: Some(2),
            max_cost_usd: None,
        });
        m.passed(r#"{"type":"assistant"}"#);
        m.passed(r#"{"type":"assistant"}"#);
        assert_eq!(
            m.passed(r#"{"type":"assistant"}"#),
            Some("stopped at its cap of 2 turns (max_turns)".into())
        );
        assert_eq!(m.result("error_max_turns").num_turns, Some(3));
        assert_eq!(Meter::new(Caps::default()).passed(&turn("x", 99.0)), None);
    }

    #[test]
    fn claude_codes_own_stops_read_as_the_caps() {
        let caps = Caps {
            max_turns: Some(3),
            max_cost_usd: Some(1.0),
        };
        let budget = AgentResult {
            subtype: "error_max_budget_usd".into(),
            total_cost_usd: Some(1.2),
            ..AgentResult::default()
        };
        assert_eq!(
            reason(&budget, caps).as_deref(),
            Some("stopped at $1.20, over its $1.00 cap (max_cost_usd)")
        );
        let turns = AgentResult {
            subtype: "error_max_turns".into(),
            num_turns: Some(4),
            ..AgentResult::default()
        };
        assert_eq!(
            reason(&turns, caps).as_deref(),
            Some("stopped at its cap of 3 turns (max_turns)")
        );
        assert_eq!(reason(&AgentResult::default(), caps), None);
        assert_eq!(reason(&turns, Caps::default()), None, "not our cap");
    }
}
