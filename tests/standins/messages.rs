//! The Messages API stand-in against the real Claude Code CLI (headless, stream
//! JSON): each scripted error ends with the result event recorded at the top of
//! `support/messages_api.rs`, and billed replies add up in `total_cost_usd`.
use crate::support::http::{now_secs, rfc3339};
use crate::support::messages_api::{
    ApiError, MessagesApi, Reply, Turn, RATE_LIMIT_MESSAGE, SPEND_LIMIT_MESSAGE,
    USAGE_LIMIT_MESSAGE,
};
use crate::support::{claude, seal};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// What one headless run printed: its exit code and its stream's events.
struct Session {
    code: i32,
    events: Vec<Value>,
}

impl Session {
    fn result(&self) -> &Value {
        self.events
            .iter()
            .find(|e| e["type"] == "result")
            .unwrap_or_else(|| panic!("no result event in {:#?}", self.events))
    }
    fn of_type(&self, kind: &str, subtype: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["type"] == kind && (subtype.is_empty() || e["subtype"] == subtype))
            .collect()
    }
}

/// `claude -p hi --output-format stream-json --verbose` against `api`, in a
/// fresh HOME and working directory, with `CLAUDE_CODE_MAX_RETRIES=2`, `TZ=UTC`.
fn run(env: &[(String, String)], extra: &[&str]) -> Session {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(claude::binary());
    seal(&mut cmd, dir.path());
    cmd.args([
        "-p",
        "hi",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "acceptEdits",
    ])
    .args(extra)
    .current_dir(dir.path())
    .env("CLAUDE_CODE_MAX_RETRIES", "2")
    .env("TZ", "UTC")
    .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run claude");
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Session {
        code: out.status.code().unwrap_or(-1),
        events,
    }
}

fn api_key_env(api: &MessagesApi) -> Vec<(String, String)> {
    vec![
        ("ANTHROPIC_BASE_URL".into(), api.url.clone()),
        ("ANTHROPIC_API_KEY".into(), "test-key-not-secret".into()),
        (
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
            "1".into(),
        ),
    ]
}

/// One POST to the stand-in over a bare socket: status, headers, body.
fn raw_post(url: &str, body: &str) -> (u16, Vec<(String, String)>, Value) {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        match line.trim_end().split_once(':') {
            Some((k, v)) => headers.push((k.to_ascii_lowercase(), v.trim().to_string())),
            None => break,
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut buf = vec![0; length];
    reader.read_exact(&mut buf).expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&buf).unwrap_or(Value::Null),
    )
}

#[test]
fn a_429_is_shaped_as_anthropic_documents_it() {
    let api = MessagesApi::failing(|| {
        Reply::Error(ApiError::RateLimited {
            retry_after: 7,
            reset: 1_800_000_000,
        })
    });
    let (status, headers, body) = raw_post(&api.url, r#"{"model":"m","messages":[]}"#);
    assert_eq!(status, 429);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("retry-after"), Some("7"));
    for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
        // RFC 3339, as the rate-limit docs give every `-reset`.
        assert_eq!(
            header(&format!("anthropic-ratelimit-{kind}-reset")),
            Some("2027-01-15T08:00:00Z")
        );
        assert!(header(&format!("anthropic-ratelimit-{kind}-limit")).is_some());
        assert!(header(&format!("anthropic-ratelimit-{kind}-remaining")).is_some());
    }
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["message"], RATE_LIMIT_MESSAGE);
    assert_eq!(
        header("request-id"),
        body["request_id"].as_str(),
        "the request id, twice"
    );
    assert!(header("content-type").is_some_and(|t| t.starts_with("application/json")));
}

/// The result every API error ends with, whatever its kind.
#[track_caller]
fn assert_api_error(s: &Session, status: u16, kind: &str, text: &str) {
    let r = s.result();
    assert_eq!(s.code, 1, "the CLI fails");
    assert_eq!(
        (r["subtype"].as_str(), r["is_error"].as_bool()),
        (Some("success"), Some(true)),
        "{r}"
    );
    assert_eq!(
        (r["terminal_reason"].as_str(), r["num_turns"].as_u64()),
        (Some("api_error"), Some(1))
    );
    assert_eq!(r["api_error_status"], status);
    assert_eq!(r["api_error_type"], kind);
    assert_eq!(r["result"], text);
    assert_eq!(r["total_cost_usd"], 0);
}

#[test]
fn a_429_is_retried_as_retry_after_says_then_reported() {
    let api = MessagesApi::failing(|| Reply::rate_limited(1));
    let s = run(&api_key_env(&api), &[]);
    let retries = s.of_type("system", "api_retry");
    assert_eq!(
        (retries.len(), api.count()),
        (2, 3),
        "two retries: three requests"
    );
    for r in &retries {
        assert_eq!(
            (r["error_status"].as_u64(), r["error"].as_str()),
            (Some(429), Some("rate_limit"))
        );
        assert!(
            r["retry_delay_ms"].as_u64().is_some_and(|ms| ms >= 1000),
            "retry-after honoured: {r}"
        );
    }
    let text = format!("API Error: Request rejected (429) · {RATE_LIMIT_MESSAGE}");
    assert_api_error(&s, 429, "rate_limit_error", &text);
    assert!(
        s.of_type("rate_limit_event", "").is_empty(),
        "no reset time reaches the stream"
    );
}

#[test]
fn a_529_is_retried_then_reported_as_overloaded() {
    let api = MessagesApi::failing(Reply::overloaded);
    let s = run(&api_key_env(&api), &[]);
    let retries = s.of_type("system", "api_retry");
    assert_eq!(retries.len(), 2);
    assert!(retries
        .iter()
        .all(|r| r["error_status"] == 529 && r["error"] == "overloaded"));
    let gateway = api.url.trim_start_matches("http://");
    // Without IS_SANDBOX in the environment (the test seals it out): the CLI
    // names the repeated 529s.
    let text = format!(
        "API Error: Repeated 529 Overloaded errors. The API is at capacity — this is usually temporary. Try again in a moment. If it persists, check your inference gateway ({gateway})."
    );
    assert_api_error(&s, 529, "overloaded_error", &text);
}

#[test]
fn a_request_that_clears_on_retry_goes_on() {
    let api = MessagesApi::start(Arc::new(|turn: &Turn| match turn.index {
        0 => Reply::overloaded(),
        _ => Reply::Text("Recovered.".into()),
    }));
    let s = run(&api_key_env(&api), &[]);
    assert_eq!(
        (s.code, api.count(), s.of_type("system", "api_retry").len()),
        (0, 2, 1)
    );
    assert_eq!(
        (
            s.result()["is_error"].as_bool(),
            s.result()["result"].as_str()
        ),
        (Some(false), Some("Recovered."))
    );
}

/// How the CLI shows a reset time in UTC: `6:45pm`, after `Nov 28, ` when
/// the day is not today.
fn shown(at: u64) -> String {
    let (h, m) = (at % 86_400 / 3600, at % 3600 / 60);
    let clock = format!(
        "{}:{m:02}{}",
        (h + 11) % 12 + 1,
        if h < 12 { "am" } else { "pm" }
    );
    if at / 86_400 == now_secs() / 86_400 {
        return clock;
    }
    let date = rfc3339(at);
    let month: usize = date[5..7].parse().expect("month");
    let names = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {}, {clock}",
        names[month - 1],
        date[8..10].trim_start_matches('0')
    )
}

#[test]
fn a_usage_limit_stops_a_subscriber_at_once_with_its_reset_time() {
    // Whole minutes, never on the hour: the CLI shows hours and minutes.
    let mut soon = now_secs() / 60 * 60 + 600;
    if soon % 3600 < 60 {
        soon += 60;
    }
    let cases = [
        (
            "five_hour",
            Some(soon),
            format!(
                "You've hit your 5-hour limit · resets {} (UTC)",
                shown(soon)
            ),
        ),
        (
            "seven_day",
            Some(soon + 3 * 86_400),
            format!(
                "You've hit your weekly limit · resets {} (UTC)",
                shown(soon + 3 * 86_400)
            ),
        ),
        (
            "five_hour",
            None,
            "You've hit your 5-hour limit".to_string(),
        ),
    ];
    for (window, resets_at, text) in cases {
        let api =
            MessagesApi::failing(move || Reply::Error(ApiError::UsageLimit { window, resets_at }));
        let s = run(&api.subscriber_env(), &[]);
        assert_eq!(api.count(), 1, "{window}: not retried");
        let events = s.of_type("rate_limit_event", "");
        let info = &events
            .first()
            .unwrap_or_else(|| panic!("{window}: no rate_limit_event"))["rate_limit_info"];
        assert_eq!(
            (info["status"].as_str(), info["rateLimitType"].as_str()),
            (Some("rejected"), Some(window))
        );
        assert_eq!(
            info["resetsAt"].as_u64(),
            resets_at,
            "{window}: the reset, in Unix seconds"
        );
        assert_api_error(&s, 429, "rate_limit_error", &text);
    }
}

#[test]
fn with_an_api_key_a_usage_limit_reads_as_a_plain_429() {
    let api = MessagesApi::failing(|| Reply::usage_limit(Some(600)));
    let mut env = api_key_env(&api);
    env.push(("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()));
    let s = run(&env, &[]);
    let text = format!("API Error: Request rejected (429) · {USAGE_LIMIT_MESSAGE}");
    assert_api_error(&s, 429, "rate_limit_error", &text);
    assert!(s.of_type("rate_limit_event", "").is_empty());
}

#[test]
fn a_spend_limit_is_reported_with_the_day_access_returns() {
    let api = MessagesApi::failing(|| {
        Reply::Error(ApiError::SpendLimit {
            regain: "2026-12-01".into(),
        })
    });
    let s = run(&api_key_env(&api), &[]);
    let text = format!(
        "API Error: 400 {SPEND_LIMIT_MESSAGE} You will regain access on 2026-12-01 at 00:00 UTC."
    );
    assert_api_error(&s, 400, "invalid_request_error", &text);
    assert!(
        s.of_type("system", "api_retry").is_empty(),
        "no retry announced"
    );
    assert_eq!(api.count(), 6, "yet the CLI sends the request 6 times");
}

#[test]
fn billed_replies_add_up_in_total_cost_usd() {
    let api = MessagesApi::start(Arc::new(|turn: &Turn| match turn.tool_results {
        0 => Reply::Tool {
            name: "Glob".into(),
            input: json!({"pattern": "*"}),
        }
        .costing(turn, 0.25),
        _ => Reply::Text("Done.".into()).costing(turn, 0.5),
    }));
    let s = run(&api_key_env(&api), &[]);
    let r = s.result();
    assert_eq!(
        (s.code, r["subtype"].as_str(), r["num_turns"].as_u64()),
        (0, Some("success"), Some(2))
    );
    let cost = r["total_cost_usd"].as_f64().expect("cost");
    assert!((cost - 0.75).abs() < 1e-9, "$0.25 + $0.50, got {cost}");
}

#[test]
fn a_looping_script_is_stopped_by_max_turns_and_by_max_budget_usd() {
    let api = MessagesApi::loops(0.1);
    let s = run(&api_key_env(&api), &["--max-turns", "3"]);
    let r = s.result();
    assert_eq!((s.code, api.count()), (1, 3), "three turns, then stopped");
    assert_eq!(
        (r["subtype"].as_str(), r["terminal_reason"].as_str()),
        (Some("error_max_turns"), Some("max_turns"))
    );
    assert_eq!(r["errors"], json!(["Reached maximum number of turns (3)"]));
    assert_eq!(
        (r["is_error"].as_bool(), r["num_turns"].as_u64()),
        (Some(true), Some(4))
    );
    assert!((r["total_cost_usd"].as_f64().unwrap_or(0.0) - 0.3).abs() < 1e-9);

    let api = MessagesApi::loops(0.3);
    let s = run(&api_key_env(&api), &["--max-budget-usd", "1"]);
    let r = s.result();
    assert_eq!(
        (s.code, api.count()),
        (1, 4),
        "stopped by the turn that went over $1"
    );
    assert_eq!(
        (r["subtype"].as_str(), r["terminal_reason"].as_str()),
        (Some("error_max_budget_usd"), Some("budget_exhausted"))
    );
    assert_eq!(r["errors"], json!(["Reached maximum budget ($1)"]));
    assert!((r["total_cost_usd"].as_f64().unwrap_or(0.0) - 1.2).abs() < 1e-9);
}
