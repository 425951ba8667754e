//! A scripted stand-in for the Anthropic Messages API, served on loopback, that the
//! real Claude Code CLI talks to (`ANTHROPIC_BASE_URL`). Each request is decoded;
//! the script sees the working directory Claude Code reports, how many tool
//! results the conversation holds and how many requests came before, and picks
//! the next assistant turn, which is sent back as server-sent events exactly as
//! the real API streams them; or an error, as the real API sends it
//! (`{"type":"error","error":{"type":…,"message":…},"request_id":…}`).
//!
//! # What Claude Code 2.1.328 reports for each error (recorded, headless)
//! Run as `claude -p … --output-format stream-json --verbose` with
//! `CLAUDE_CODE_MAX_RETRIES=2`, `TZ=UTC`; `tests/standins/messages.rs` checks
//! all of it but what is marked "by hand". Every one ends with a `result`
//! event with `"subtype": "success"` (sic), `"is_error": true`,
//! `"terminal_reason": "api_error"`, `"num_turns": 1`, `"total_cost_usd": 0`,
//! and the process exits 1.
//! - **429** (`ApiError::RateLimited`, with an API key): the CLI retries, each
//!   retry announced by `{"type":"system","subtype":"api_retry","attempt":N,
//!   "max_retries":2,"retry_delay_ms":…,"error_status":429,"error":"rate_limit"}`,
//!   waiting what `retry-after` says (1 s → ~1.1 s; 3 s → ~3.3 s by hand), then:
//!   `"api_error_status": 429, "api_error_type": "rate_limit_error",
//!   "result": "API Error: Request rejected (429) · <the error's message>"`.
//!   It reports no reset time: neither `retry-after` nor the
//!   `anthropic-ratelimit-*-reset` headers reach the stream.
//! - **529** (`ApiError::Overloaded`): retried the same way (`"error_status":529,
//!   "error":"overloaded"`), then `"api_error_status": 529, "api_error_type":
//!   "overloaded_error", "result": "API Error: Repeated 529 Overloaded errors.
//!   The API is at capacity — this is usually temporary. Try again in a moment.
//!   If it persists, check your inference gateway (127.0.0.1:PORT)."`. (With
//!   `IS_SANDBOX` set in its environment the CLI words it "API Error: 529
//!   Overloaded. This is a server-side issue, usually temporary — try again in a
//!   moment. If it persists, check your inference gateway (…)."; by hand.)
//! - **Usage limit** (`ApiError::UsageLimit`, a subscription's limit: a 429 with
//!   the `anthropic-ratelimit-unified-*` headers the CLI reads; they are not in
//!   Anthropic's public API docs). Only a subscriber sees it as one: run the CLI
//!   with `CLAUDE_CODE_OAUTH_TOKEN` instead of `ANTHROPIC_API_KEY`
//!   (`MessagesApi::subscriber_env`). It is not retried; first comes
//!   `{"type":"rate_limit_event","rate_limit_info":{"status":"rejected",
//!   "resetsAt":<Unix seconds>,"rateLimitType":"five_hour","isUsingOverage":false}}`
//!   (`resetsAt` absent when no reset is sent; `"seven_day"` for the weekly
//!   window), then `"api_error_status": 429, "api_error_type":
//!   "rate_limit_error"` and `"result": "You've hit your 5-hour limit · resets
//!   6:45pm (UTC)"` — the reset in the CLI's local time zone (`TZ`; by hand,
//!   `3:45am (Asia/Tokyo)`), with the date when not today (`resets Nov 28, 6:35pm
//!   (UTC)`), `"You've hit your weekly limit · resets …"` for the weekly window,
//!   and just `"You've hit your 5-hour limit"` without a reset time. With an API
//!   key the same answer reads as a plain 429 (retried, by hand; then `"API
//!   Error: Request rejected (429) · This request would exceed your account's
//!   rate limit. Please try again later."`).
//! - **Spend limit** (`ApiError::SpendLimit`, an API key's usage limit: 400
//!   `invalid_request_error`): no `api_retry` event, though the request is sent
//!   6 times within half a second; then `"api_error_status": 400,
//!   "api_error_type": "invalid_request_error", "result": "API Error: 400 You
//!   have reached your specified API usage limits. You will regain access on
//!   2026-12-01 at 00:00 UTC."`.
//!
//! # Turn and spending caps
//! Against `MessagesApi::loops`: `--max-turns 3` stops after 3 requests
//!   with `"subtype": "error_max_turns", "terminal_reason": "max_turns",
//!   "is_error": true, "num_turns": 4, "errors": ["Reached maximum number of
//!   turns (3)"]` and no `result` text; `--max-budget-usd 1` at $0.30 a turn
//!   stops after the turn that went over (4 requests, `"total_cost_usd": 1.2`)
//!   with `"subtype": "error_max_budget_usd", "terminal_reason":
//!   "budget_exhausted", "errors": ["Reached maximum budget ($1)"]`. Both exit 1.
//!
//! Costs: `Reply::costing` bills output tokens in `message_delta` (and no input
//! tokens); the CLI prices them per model (`OUTPUT_USD_PER_MILLION`) into
//! `total_cost_usd` exactly ($0.25 + $0.50 = 0.75).
use super::http::{self, rfc3339, Request, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// One request, as the script sees it.
pub struct Turn {
    /// From `Primary working directory: PATH` in the request text.
    pub cwd: Option<String>,
    /// How many tool results the conversation holds (0 on the first turn).
    pub tool_results: usize,
    /// How many Messages requests came before this one (retries included).
    pub index: usize,
    pub body: Value,
}

/// The assistant's next turn.
pub enum Reply {
    /// Call one tool, e.g. `Write` with `{"file_path": …, "content": …}`.
    Tool { name: String, input: Value },
    /// Say something and stop.
    Text(String),
    /// The inner reply, billed `output_tokens` output tokens and no input tokens.
    Billed {
        reply: Box<Reply>,
        output_tokens: u64,
    },
    /// An error answer, as the real API sends it.
    Error(ApiError),
}

/// The errors the real API answers with, each with its status and headers.
pub enum ApiError {
    /// 429 `rate_limit_error` with `retry-after` (seconds) and the
    /// `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-*`
    /// headers, the limits resetting at `reset` (Unix seconds; RFC 3339 on the wire).
    RateLimited { retry_after: u64, reset: u64 },
    /// 529 `overloaded_error`.
    Overloaded,
    /// A subscription's usage limit: 429 with `anthropic-ratelimit-unified-status:
    /// rejected` for `window` (`five_hour` or `seven_day`), resetting at
    /// `resets_at` (Unix seconds) when given.
    UsageLimit {
        window: &'static str,
        resets_at: Option<u64>,
    },
    /// An API key's spend limit: 400 `invalid_request_error`, access back on
    /// `regain` (a date, `2026-12-01`).
    SpendLimit { regain: String },
}

/// What Claude Code 2.1.328 bills per million output tokens (measured: one
/// reply of 1,000,000 output tokens and no input, `--model` each).
pub const OUTPUT_USD_PER_MILLION: &[(&str, f64)] = &[
    ("claude-opus-5-5", 20.0),
    ("claude-sonnet-5-5", 10.0),
    ("claude-haiku-5-5", 0.5),
];

impl Reply {
    /// A 429 that clears in `retry_after` seconds.
    pub fn rate_limited(retry_after: u64) -> Reply {
        Reply::Error(ApiError::RateLimited {
            retry_after,
            reset: http::now_secs() + retry_after,
        })
    }
    pub fn overloaded() -> Reply {
        Reply::Error(ApiError::Overloaded)
    }
    /// The 5-hour usage limit, resetting in `secs` seconds (`None`: no time given).
    pub fn usage_limit(secs: Option<u64>) -> Reply {
        Reply::Error(ApiError::UsageLimit {
            window: "five_hour",
            resets_at: secs.map(|s| http::now_secs() + s),
        })
    }
    /// This reply, costing `usd` at the price of the model the request names.
    pub fn costing(self, turn: &Turn, usd: f64) -> Reply {
        let model = turn.body["model"].as_str().unwrap_or_default();
        let price = OUTPUT_USD_PER_MILLION
            .iter()
            .find(|(m, _)| *m == model)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| {
                panic!("no measured price for {model:?}: add it to OUTPUT_USD_PER_MILLION")
            });
        Reply::Billed {
            reply: Box::new(self),
            output_tokens: (usd / price * 1e6).round() as u64,
        }
    }
}

/// The message of `ApiError::RateLimited` (the API's own wording).
pub const RATE_LIMIT_MESSAGE: &str = "Number of request tokens has exceeded your per-minute rate limit (https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.";

/// The message of `ApiError::UsageLimit`.
pub const USAGE_LIMIT_MESSAGE: &str =
    "This request would exceed your account's rate limit. Please try again later.";

/// The start of `ApiError::SpendLimit`'s message (the date follows).
pub const SPEND_LIMIT_MESSAGE: &str = "You have reached your specified API usage limits.";

pub type Script = Arc<dyn Fn(&Turn) -> Reply + Send + Sync>;

pub struct MessagesApi {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Value>>>,
}

impl MessagesApi {
    pub fn start(script: Script) -> MessagesApi {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let url = http::serve(Arc::new(move |req: &Request| {
            let value: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if req.path.contains("count_tokens") {
                Response::json(200, &json!({"input_tokens": 10}))
            } else if req.method == "POST" && req.path.starts_with("/v1/messages") {
                let index = {
                    let mut seen = seen.lock().expect("lock");
                    seen.push(value.clone());
                    seen.len() - 1
                };
                respond(&value, index, &script)
            } else {
                Response::json(
                    404,
                    &json!({"type": "error", "error": {"type": "not_found_error", "message": "not here"}}),
                )
            }
        }));
        MessagesApi { url, requests }
    }

    /// A script that writes `content` to `rel` (relative to the agent's working
    /// directory, or absolute when it starts with `/`), then says it is done.
    pub fn writes(files: Vec<(String, String)>) -> MessagesApi {
        MessagesApi::start(Arc::new(move |turn: &Turn| {
            match files.get(turn.tool_results) {
                Some((path, content)) => {
                    let cwd = turn.cwd.clone().unwrap_or_default();
                    let file_path = if path.starts_with('/') {
                        path.clone()
                    } else {
                        format!("{cwd}/{path}")
                    };
                    Reply::Tool {
                        name: "Write".into(),
                        input: json!({"file_path": file_path, "content": content}),
                    }
                }
                None => Reply::Text("Done: the change is made.".into()),
            }
        }))
    }

    /// A script that answers every request with the same error.
    pub fn failing(error: impl Fn() -> Reply + Send + Sync + 'static) -> MessagesApi {
        MessagesApi::start(Arc::new(move |_: &Turn| error()))
    }

    /// A script that never ends: tool call after tool call (a read-only `Glob`),
    /// each turn costing `usd_per_turn`; for turn and spending caps.
    pub fn loops(usd_per_turn: f64) -> MessagesApi {
        MessagesApi::start(Arc::new(move |turn: &Turn| {
            Reply::Tool {
                name: "Glob".into(),
                input: json!({"pattern": format!("turn-{}-*", turn.tool_results)}),
            }
            .costing(turn, usd_per_turn)
        }))
    }

    /// The `Primary working directory` of every request seen.
    pub fn cwds(&self) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .filter_map(primary_cwd)
            .collect()
    }

    /// How many Messages requests came in.
    pub fn count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }

    /// Environment for the real CLI as a subscriber (OAuth token, no API key):
    /// the only way it reads a usage limit as one.
    pub fn subscriber_env(&self) -> Vec<(String, String)> {
        vec![
            ("ANTHROPIC_BASE_URL".into(), self.url.clone()),
            (
                "CLAUDE_CODE_OAUTH_TOKEN".into(),
                "sk-ant-oat01-test-not-secret".into(),
            ),
            (
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
                "1".into(),
            ),
        ]
    }
}

/// The text of every content block of every message, and the system prompt.
pub fn all_text(body: &Value) -> String {
    let mut text = String::new();
    let mut collect = |v: &Value| {
        if let Some(s) = v.as_str() {
            text.push_str(s);
            text.push('\n');
        }
    };
    match body.get("system") {
        Some(Value::Array(blocks)) => blocks.iter().for_each(|b| collect(&b["text"])),
        Some(other) => collect(other),
        None => {}
    }
    for message in body["messages"].as_array().into_iter().flatten() {
        match &message["content"] {
            Value::Array(blocks) => blocks.iter().for_each(|b| collect(&b["text"])),
            other => collect(other),
        }
    }
    text
}

pub fn primary_cwd(body: &Value) -> Option<String> {
    let text = all_text(body);
    let at = text.find("Primary working directory: ")? + "Primary working directory: ".len();
    Some(text[at..].lines().next()?.trim().to_string())
}

/// An error as the API sends it: status, JSON body with a `request_id`, and
/// the `request-id` header beside the error's own.
fn error_response(error: &ApiError, index: usize) -> Response {
    let request_id = format!("req_standin{index:06}");
    let (status, kind, message, mut headers) = match error {
        ApiError::RateLimited { retry_after, reset } => {
            let reset = rfc3339(*reset);
            let mut headers = vec![("retry-after".to_string(), retry_after.to_string())];
            let limits = [
                ("50", "requests"),
                ("40000", "tokens"),
                ("40000", "input-tokens"),
                ("8000", "output-tokens"),
            ];
            for (limit, kind) in limits {
                let remaining = if kind == "output-tokens" { limit } else { "0" };
                headers.push((format!("anthropic-ratelimit-{kind}-limit"), limit.into()));
                headers.push((
                    format!("anthropic-ratelimit-{kind}-remaining"),
                    remaining.into(),
                ));
                headers.push((format!("anthropic-ratelimit-{kind}-reset"), reset.clone()));
            }
            (
                429,
                "rate_limit_error",
                RATE_LIMIT_MESSAGE.to_string(),
                headers,
            )
        }
        ApiError::Overloaded => (
            529,
            "overloaded_error",
            "Overloaded".to_string(),
            Vec::new(),
        ),
        ApiError::UsageLimit { window, resets_at } => {
            let short = if *window == "seven_day" { "7d" } else { "5h" };
            let mut headers = vec![
                (
                    "anthropic-ratelimit-unified-status".to_string(),
                    "rejected".to_string(),
                ),
                (
                    format!("anthropic-ratelimit-unified-{short}-status"),
                    "rejected".into(),
                ),
                (
                    "anthropic-ratelimit-unified-representative-claim".into(),
                    window.to_string(),
                ),
            ];
            if let Some(at) = resets_at {
                headers.push(("anthropic-ratelimit-unified-reset".into(), at.to_string()));
                headers.push((
                    format!("anthropic-ratelimit-unified-{short}-reset"),
                    at.to_string(),
                ));
            }
            (
                429,
                "rate_limit_error",
                USAGE_LIMIT_MESSAGE.to_string(),
                headers,
            )
        }
        ApiError::SpendLimit { regain } => (
            400,
            "invalid_request_error",
            format!("{SPEND_LIMIT_MESSAGE} You will regain access on {regain} at 00:00 UTC."),
            Vec::new(),
        ),
    };
    headers.push(("request-id".into(), request_id.clone()));
    let mut response = Response::json(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}),
    );
    response.headers = headers;
    response
}

fn respond(body: &Value, index: usize, script: &Script) -> Response {
    let tool_results = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .filter(|b| b["type"] == "tool_result")
        .count();
    let turn = Turn {
        cwd: primary_cwd(body),
        tool_results,
        index,
        body: body.clone(),
    };
    let (reply, billed) = match script(&turn) {
        Reply::Error(e) => return error_response(&e, index),
        Reply::Billed {
            reply,
            output_tokens,
        } => (*reply, Some(output_tokens)),
        reply => (reply, None),
    };
    let (input_tokens, output_tokens) = billed.map_or((10, 5), |out| (0, out));
    let model = body["model"].as_str().unwrap_or("claude-test").to_string();
    let id = format!("msg_{tool_results}");
    if body["stream"] != true {
        let content = match &reply {
            Reply::Tool { name, input } => {
                json!([{"type": "tool_use", "id": "toolu_x", "name": name, "input": input}])
            }
            Reply::Text(t) => json!([{"type": "text", "text": t}]),
            _ => json!([{"type": "text", "text": ""}]),
        };
        let msg = json!({"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}});
        return Response::json(200, &msg);
    }
    let (block, delta, stop) = match reply {
        Reply::Tool { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_{tool_results}"), "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            "tool_use",
        ),
        Reply::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
            "end_turn",
        ),
        _ => panic!("a billed reply wraps a tool call or a text, once"),
    };
    let events = [
        json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": block}),
        json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {"output_tokens": output_tokens}}),
        json!({"type": "message_stop"}),
    ];
    let mut sse = String::new();
    for e in events {
        sse.push_str(&format!(
            "event: {}\ndata: {}\n\n",
            e["type"].as_str().unwrap_or("ping"),
            e
        ));
    }
    Response {
        status: 200,
        content_type: "text/event-stream",
        body: sse.into_bytes(),
        headers: Vec::new(),
    }
}
