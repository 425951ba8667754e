//! The memory server as the dispatcher runs it: MCP's streamable HTTP transport
//! on 127.0.0.1 (a port the kernel picks), started once per process the first
//! time a task needs it, so Claude Code connects instead of starting a process
//! per task (measured: a stdio server cost about 170 ms a task, most of it
//! Claude Code spawning, handshaking with and then waiting for the child).
//!
//! Each task gets a [`Grant`]: a bearer secret of 256 random bits that names
//! the task (its file for `current_task`) and is revoked when the grant is
//! dropped, at the end of the agent's run. A request without a live secret gets
//! 401; one that carries an `Origin` (a web page) or names another `Host` (DNS
//! rebinding) gets 403. The secret is never logged: [`Grant`]'s `Debug` hides it
//! and it reaches the agent only in its `--mcp-config` file.
//!
//! Behind the HTTP front, each task's session is the same rmcp server as
//! `git agentos mcp` ([`MemoryServer`]) over an in-memory pipe: a POST carries
//! one JSON-RPC message, checked as the stdio framing checks a line; a request
//! is answered with its answer as `application/json`, a notification or an
//! answer with 202. Requests of one task are taken one at a time. The vault is
//! written by the dispatcher's process, outside the agent's sandbox. Clients of
//! MCP's stateless revision are served too ([`super::stateless`]): Claude Code
//! asks `server/discover` first, then calls tools without a handshake.
use super::framing::{error_line, invalid, MAX_LINE};
use super::mcp::{McpError, MemoryServer, SERVER_NAME};
use super::stateless;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use rmcp::ServiceExt;
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

/// The path the server answers on.
const PATH: &str = "/mcp";

/// How long a request waits for the server's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// One task's right to the server, for as long as it lives.
pub struct Grant {
    secret: String,
    url: String,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("url", &self.url)
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl Grant {
    /// The `--mcp-config` JSON that connects Claude Code to this task's session.
    pub fn config_json(&self) -> String {
        serde_json::json!({
            "mcpServers": {
                SERVER_NAME: {
                    "type": "http",
                    "url": self.url,
                    "headers": { "Authorization": format!("Bearer {}", self.secret) }
                }
            }
        })
        .to_string()
    }

    /// Where the server listens (`http://127.0.0.1:PORT/mcp`).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        self.registry.revoke(&self.secret);
    }
}

/// Grant a task the server (started on first use) with `server` as its session.
pub fn grant(server: MemoryServer) -> Result<Grant, McpError> {
    static SERVICE: OnceLock<Result<Service, String>> = OnceLock::new();
    let service = SERVICE
        .get_or_init(Service::start)
        .as_ref()
        .map_err(|e| McpError(e.clone()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| McpError(format!("cannot draw a secret for the memory server: {e}")))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    service.registry.add(secret.clone(), server);
    Ok(Grant {
        secret,
        url: service.url.clone(),
        registry: service.registry.clone(),
    })
}

/// The running server: its address and the live grants.
struct Service {
    url: String,
    registry: Arc<Registry>,
}

impl Service {
    /// Bind 127.0.0.1 (never another address) and serve on a thread of its own.
    fn start() -> Result<Service, String> {
        let cannot = |e: std::io::Error| format!("cannot start the memory server: {e}");
        let listener = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .map_err(cannot)?;
        listener.set_nonblocking(true).map_err(cannot)?;
        let addr = listener.local_addr().map_err(cannot)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(cannot)?;
        let registry = Arc::new(Registry::default());
        let front = Arc::new(Front {
            registry: registry.clone(),
            host: addr.to_string(),
        });
        std::thread::Builder::new()
            .name("memory-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => return tracing::warn!(error = %e, "memory server stopped"),
                    };
                    let routes = Router::new().route(
                        PATH,
                        post(answer)
                            .get(not_offered)
                            .delete(close)
                            .with_state(front),
                    );
                    if let Err(e) = axum::serve(listener, routes).await {
                        tracing::warn!(error = %e, "memory server stopped");
                    }
                })
            })
            .map_err(cannot)?;
        tracing::debug!(%addr, "memory server listening");
        Ok(Service {
            url: format!("http://{addr}{PATH}"),
            registry,
        })
    }
}

/// The live grants, by secret.
#[derive(Default)]
struct Registry {
    tasks: Mutex<Vec<(String, Arc<Session>)>>,
}

impl Registry {
    fn add(&self, secret: String, server: MemoryServer) {
        let session = Arc::new(Session {
            server,
            conn: tokio::sync::Mutex::new(None),
        });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push((secret, session));
        }
    }

    fn revoke(&self, secret: &str) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.retain(|(s, _)| s != secret);
        }
    }

    /// The session this secret opens; every secret is compared in full, in
    /// time that does not depend on where they differ.
    fn find(&self, secret: &str) -> Option<Arc<Session>> {
        let tasks = self.tasks.lock().ok()?;
        let mut found = None;
        for (s, session) in tasks.iter() {
            if same(s.as_bytes(), secret.as_bytes()) {
                found = Some(session.clone());
            }
        }
        found
    }
}

/// Equal bytes, compared without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the HTTP handlers share.
struct Front {
    registry: Arc<Registry>,
    /// `127.0.0.1:PORT`: the only `Host` taken.
    host: String,
}

impl Front {
    /// The session of a request that may come in, or why it may not.
    fn admit(&self, headers: &HeaderMap) -> Result<Arc<Session>, Refusal> {
        if headers.contains_key(header::ORIGIN) {
            return Err((
                StatusCode::FORBIDDEN,
                "requests from a web page are refused",
            ));
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if host != Some(self.host.as_str()) {
            return Err((StatusCode::FORBIDDEN, "wrong Host"));
        }
        let secret = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "));
        match secret.and_then(|s| self.registry.find(s)) {
            Some(session) => Ok(session),
            None => Err((
                StatusCode::UNAUTHORIZED,
                "no task holds this secret (a grant lasts as long as its task's agent runs)",
            )),
        }
    }
}

/// A request refused, and why.
type Refusal = (StatusCode, &'static str);

fn refused((status, why): Refusal) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], why).into_response()
}

/// A JSON-RPC error as an HTTP answer.
fn rpc_error(status: StatusCode, code: i64, message: String, id: Value) -> Response {
    let mut body = error_line(code, message, id);
    body.pop(); // the newline
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// POST: one JSON-RPC message.
async fn answer(State(front): State<Arc<Front>>, headers: HeaderMap, body: Bytes) -> Response {
    let session = match front.admit(&headers) {
        Ok(s) => s,
        Err(refusal) => return refused(refusal),
    };
    if body.len() > MAX_LINE {
        let message = format!(
            "Invalid Request: the message is {} bytes; the limit is {MAX_LINE}",
            body.len()
        );
        return rpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32600, message, Value::Null);
    }
    let message: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("Parse error: the body is not JSON ({e})");
            return rpc_error(StatusCode::BAD_REQUEST, -32700, message, Value::Null);
        }
    };
    if !message.is_object() {
        let message = "Invalid Request: send one JSON-RPC message (an object) per request".into();
        return rpc_error(StatusCode::BAD_REQUEST, -32600, message, Value::Null);
    }
    if let Some((why, id)) = invalid(&message) {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            -32600,
            format!("Invalid Request: {why}"),
            id,
        );
    }
    // What rmcp cannot read it drops without a word, and the request would wait
    // for an answer that never comes (holding the task's session): it is read
    // here as rmcp reads it, and refused at once.
    if let Err(e) = <rmcp::model::ClientJsonRpcMessage as serde::Deserialize>::deserialize(&message)
    {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let message = format!("Invalid Request: the memory server cannot read this message: {e}");
        return rpc_error(StatusCode::BAD_REQUEST, -32600, message, id);
    }
    session.exchange(message).await
}

/// GET would open a stream of server messages; this server sends none.
async fn not_offered(State(front): State<Arc<Front>>, headers: HeaderMap) -> Response {
    match front.admit(&headers) {
        Ok(_) => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        Err(refusal) => refused(refusal),
    }
}

/// DELETE: the client ends its session (a new `initialize` starts another).
async fn close(State(front): State<Arc<Front>>, headers: HeaderMap) -> Response {
    match front.admit(&headers) {
        Ok(session) => {
            *session.conn.lock().await = None;
            StatusCode::OK.into_response()
        }
        Err(refusal) => refused(refusal),
    }
}

/// One task's server, and its pipe once a client has initialised it.
struct Session {
    server: MemoryServer,
    conn: tokio::sync::Mutex<Option<Conn>>,
}

/// The rmcp server of a session, over an in-memory pipe: what is written to
/// `requests` it reads as lines; its answers come out of `answers`.
struct Conn {
    requests: DuplexStream,
    answers: BufReader<DuplexStream>,
}

impl Conn {
    fn start(server: MemoryServer) -> Conn {
        let (requests, server_in) = tokio::io::duplex(64 * 1024);
        let (server_out, answers) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            // Ends when `requests` is dropped: a new initialize, DELETE, or
            // the grant revoked.
            if let Ok(running) = server.serve((server_in, server_out)).await {
                let _ = running.waiting().await;
            }
        });
        Conn {
            requests,
            answers: BufReader::new(answers),
        }
    }

    /// Pass one message on; the answer with `id`, when it is a request.
    async fn send(&mut self, message: &Value, id: Option<&Value>) -> Result<Option<Value>, String> {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        self.requests
            .write_all(&line)
            .await
            .map_err(|e| format!("the memory server stopped: {e}"))?;
        let Some(id) = id else {
            return Ok(None);
        };
        loop {
            let mut answer = String::new();
            match self.answers.read_line(&mut answer).await {
                Ok(0) => return Err("the memory server stopped".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("the memory server stopped: {e}")),
            }
            // Anything else it says (a notification) has no one to go to.
            if let Ok(v) = serde_json::from_str::<Value>(&answer) {
                if v.get("id") == Some(id) {
                    return Ok(Some(v));
                }
            }
        }
    }
}

impl Session {
    async fn exchange(&self, message: Value) -> Response {
        let id = message
            .get("method")
            .and_then(|_| message.get("id"))
            .cloned();
        if stateless::is_discover(&message) {
            let answer = stateless::discover(&self.server, &id.unwrap_or(Value::Null));
            return json_answer(&answer);
        }
        let is_stateless = stateless::named_version(&message) == Some(stateless::STATELESS);
        let mut conn = self.conn.lock().await;
        if message.get("method").and_then(Value::as_str) == Some("initialize") {
            *conn = Some(Conn::start(self.server.clone()));
        } else if is_stateless && conn.is_none() {
            match self.open_for(&message).await {
                Ok(fresh) => *conn = Some(fresh),
                Err(why) => {
                    let message = format!("Internal error: {why}");
                    return rpc_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        -32603,
                        message,
                        id.unwrap_or(Value::Null),
                    );
                }
            }
        }
        let Some(live) = conn.as_mut() else {
            let message = format!(
                "Invalid Request: send `initialize` first, or name protocol version {} in `params._meta`",
                stateless::STATELESS
            );
            return rpc_error(
                StatusCode::BAD_REQUEST,
                -32600,
                message,
                id.unwrap_or(Value::Null),
            );
        };
        match tokio::time::timeout(ANSWER_WAIT, live.send(&message, id.as_ref())).await {
            Ok(Ok(Some(answer))) if is_stateless => json_answer(&stateless::complete(answer)),
            Ok(Ok(Some(answer))) => json_answer(&answer),
            Ok(Ok(None)) => StatusCode::ACCEPTED.into_response(),
            Ok(Err(why)) => {
                *conn = None;
                let message = format!("Internal error: {why}; send `initialize` again");
                rpc_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    -32603,
                    message,
                    id.unwrap_or(Value::Null),
                )
            }
            Err(_) => {
                *conn = None;
                let message = format!(
                    "Internal error: no answer within {}s",
                    ANSWER_WAIT.as_secs()
                );
                rpc_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    -32603,
                    message,
                    id.unwrap_or(Value::Null),
                )
            }
        }
    }

    /// A session opened for a stateless request: the handshake its revision
    /// does without, made here with the client's name and capabilities.
    async fn open_for(&self, message: &Value) -> Result<Conn, String> {
        let mut fresh = Conn::start(self.server.clone());
        let (initialize, initialized) = stateless::handshake(message);
        let handshake = async {
            let id = Value::String(stateless::HANDSHAKE_ID.into());
            match fresh.send(&initialize, Some(&id)).await? {
                Some(answer) if answer.get("result").is_some() => {}
                other => {
                    let why = other
                        .as_ref()
                        .and_then(|a| a.pointer("/error/message"))
                        .and_then(Value::as_str)
                        .unwrap_or("no answer");
                    return Err(format!(
                        "the memory server refused a session for this client ({why}); check `io.modelcontextprotocol/clientInfo` and `clientCapabilities` in `_meta`"
                    ));
                }
            }
            fresh.send(&initialized, None).await.map(|_| ())
        };
        match tokio::time::timeout(ANSWER_WAIT, handshake).await {
            Ok(Ok(())) => Ok(fresh),
            Ok(Err(why)) => Err(why),
            Err(_) => Err(format!(
                "the memory server did not open a session within {}s",
                ANSWER_WAIT.as_secs()
            )),
        }
    }
}

/// A JSON-RPC answer as an HTTP 200.
fn json_answer(answer: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}
