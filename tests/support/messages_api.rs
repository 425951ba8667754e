//! A scripted stand-in for the Anthropic Messages API, served on loopback, that the
//! real Claude Code CLI talks to (`ANTHROPIC_BASE_URL`). Each request is decoded;
//! the script sees the working directory Claude Code reports and how many tool
//! results the conversation holds, and picks the next assistant turn, which is sent
//! back as server-sent events exactly as the real API streams them.
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (script, seen) = (script.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, script, seen));
            }
        });
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

fn serve(stream: TcpStream, script: Script, seen: Arc<Mutex<Vec<Value>>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let body = if chunked {
            read_chunked(&mut reader)
        } else {
            read_exact(&mut reader, length)
        };
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let response = if request_line.starts_with("POST /v1/messages")
            && !request_line.contains("count_tokens")
        {
            seen.lock().expect("lock").push(value.clone());
            respond(&value, &script)
        } else if request_line.contains("count_tokens") {
            http(
                200,
                "application/json",
                json!({"input_tokens": 10}).to_string().into_bytes(),
            )
        } else {
            http(
                404,
                "application/json",
                br#"{"type":"error","error":{"type":"not_found_error","message":"not here"}}"#
                    .to_vec(),
            )
        };
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}

fn read_exact(reader: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    let _ = reader.read_exact(&mut buf);
    buf
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).unwrap_or(0) == 0 {
            return out;
        }
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if n == 0 {
            let mut end = String::new();
            let _ = reader.read_line(&mut end);
            return out;
        }
        out.extend(read_exact(reader, n));
        let mut crlf = [0u8; 2];
        let _ = reader.read_exact(&mut crlf);
    }
}

fn http(status: u16, content_type: &str, body: Vec<u8>) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n",
        if status == 200 { "OK" } else { "Not Found" },
        body.len()
    )
    .into_bytes();
    out.extend(body);
    out
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

fn respond(body: &Value, script: &Script) -> Vec<u8> {
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
        return http(200, "application/json", msg.to_string().into_bytes());
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
    http(200, "text/event-stream", sse.into_bytes())
}
