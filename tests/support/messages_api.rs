//! A scripted stand-in for the Anthropic Messages API, served on loopback, that the
//! real Claude Code CLI talks to (`ANTHROPIC_BASE_URL`). Each request is decoded;
//! the script sees the working directory Claude Code reports and how many tool
//! results the conversation holds, and picks the next assistant turn, which is sent
//! back as server-sent events exactly as the real API streams them.
use super::http::{self, Request, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// One request, as the script sees it.
pub struct Turn {
    /// From `Primary working directory: PATH` in the request text.
    pub cwd: Option<String>,
    /// How many tool results the conversation holds (0 on the first turn).
    pub tool_results: usize,
    pub body: Value,
}

/// The assistant's next turn.
pub enum Reply {
    /// Call one tool, e.g. `Write` with `{"file_path": …, "content": …}`.
    Tool { name: String, input: Value },
    /// Say something and stop.
    Text(String),
}

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
                seen.lock().expect("lock").push(value.clone());
                respond(&value, &script)
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

    /// The `Primary working directory` of every request seen.
    pub fn cwds(&self) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .filter_map(primary_cwd)
            .collect()
    }
}

/// The text of every content block of every message, and the system prompt.
fn all_text(body: &Value) -> String {
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

fn respond(body: &Value, script: &Script) -> Response {
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
        body: body.clone(),
    };
    let reply = script(&turn);
    let model = body["model"].as_str().unwrap_or("claude-test").to_string();
    let id = format!("msg_{tool_results}");
    if body["stream"] != true {
        let content = match &reply {
            Reply::Text(t) => json!([{"type": "text", "text": t}]),
            Reply::Tool { name, input } => {
                json!([{"type": "tool_use", "id": "toolu_x", "name": name, "input": input}])
            }
        };
        let msg = json!({"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": "end_turn", "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 5}});
        return Response::json(200, &msg);
    }
    let (block, delta, stop) = match reply {
        Reply::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
            "end_turn",
        ),
        Reply::Tool { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_{tool_results}"), "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            "tool_use",
        ),
    };
    let events = [
        json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": block}),
        json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 5}}),
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
