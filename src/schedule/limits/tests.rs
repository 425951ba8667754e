use super::*;
use serde_json::json;

/// The `result` every API error ends with, as recorded from Claude Code 2.1.328.
fn api_error(status: u64, kind: &str, text: &str) -> Value {
    json!({"type": "result", "subtype": "success", "is_error": true,
        "terminal_reason": "api_error", "num_turns": 1, "total_cost_usd": 0,
        "api_error_status": status, "api_error_type": kind, "result": text})
}

#[test]
fn each_recorded_error_is_recognised() {
    let rate = api_error(
        429,
        "rate_limit_error",
        "API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit",
    );
    assert_eq!(
        classify(&rate, false, None).map(|l| l.kind),
        Some(LimitKind::RateLimit)
    );
    let overloaded = api_error(
        529,
        "overloaded_error",
        "API Error: Repeated 529 Overloaded errors. The API is at capacity",
    );
    assert_eq!(
        classify(&overloaded, false, None).map(|l| l.kind),
        Some(LimitKind::Overloaded)
    );
    let usage = api_error(
        429,
        "rate_limit_error",
        "You've hit your 5-hour limit · resets 6:45pm (UTC)",
    );
    let reset = Timestamp::from_unix_secs(1_800_000_000);
    let limit = classify(&usage, true, Some(reset)).expect("usage limit");
    assert_eq!(
        (limit.kind, limit.resets_at),
        (LimitKind::UsageLimit, Some(reset))
    );
    let no_reset = api_error(429, "rate_limit_error", "You've hit your 5-hour limit");
    assert_eq!(
        classify(&no_reset, false, None),
        Some(Limit {
            kind: LimitKind::UsageLimit,
            resets_at: None,
            message: "You've hit your 5-hour limit".into()
        })
    );
    let spend = api_error(
        400,
        "invalid_request_error",
        "API Error: 400 You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.",
    );
    let limit = classify(&spend, false, None).expect("spend limit");
    assert_eq!(limit.kind, LimitKind::SpendLimit);
    assert_eq!(
        limit.resets_at.map(|t| t.to_string()).as_deref(),
        Some("2026-12-01T00:00:00.000000000Z")
    );
}

#[test]
fn other_outcomes_are_no_limit() {
    let ok = json!({"type": "result", "subtype": "success", "is_error": false, "result": "You've hit your stride"});
    assert_eq!(classify(&ok, false, None), None);
    let turns = json!({"type": "result", "subtype": "error_max_turns", "is_error": true});
    assert_eq!(classify(&turns, false, None), None);
    let bad = api_error(
        400,
        "invalid_request_error",
        "API Error: 400 prompt is too long",
    );
    assert_eq!(classify(&bad, false, None), None);
}

#[test]
fn the_stream_file_is_read_for_the_reset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.jsonl");
    let lines = [
        json!({"type": "system", "subtype": "init", "session_id": "s"}),
        json!({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected",
            "resetsAt": 1_800_000_000u64, "rateLimitType": "five_hour", "isUsingOverage": false}}),
        api_error(
            429,
            "rate_limit_error",
            "You've hit your 5-hour limit · resets 6:45pm (UTC)",
        ),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n")).expect("write");
    let limit = from_stream(&path).expect("limit");
    assert_eq!(limit.kind, LimitKind::UsageLimit);
    assert_eq!(
        limit.resets_at,
        Some(Timestamp::from_unix_secs(1_800_000_000))
    );
    assert_eq!(from_stream(&dir.path().join("missing.jsonl")), None);
}
