//! MCP's stateless revision (2026-07-28) on the memory server's HTTP front:
//! `server/discover` answered, and requests that carry their protocol version
//! in `_meta` served without the `initialize` handshake.
//!
//! Claude Code (2.1.328) probes every HTTP server with `server/discover` first.
//! Refused, it falls back to `initialize`, `notifications/initialized`, a GET
//! for a stream and then `tools/list`: measured about 55 ms more per task than
//! `server/discover` followed by `tools/list`. Behind the front the session is
//! still the rmcp server of the older revision, so a stateless request that
//! finds no session opens one with a handshake made here, in process, and its
//! answer is marked `"resultType":"complete"` as the revision asks.
use rmcp::ServerHandler;
use serde_json::{json, Value};

/// The stateless revision this server speaks.
pub const STATELESS: &str = "2026-07-28";

/// The revision a session of the rmcp server speaks after `initialize`.
pub const HANDSHAKE: &str = "2025-11-25";

/// Where a stateless request names its revision (in `params._meta`).
const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// The id of the handshake made on a stateless client's behalf; a client's own
/// ids never reach the session while it is answered.
pub const HANDSHAKE_ID: &str = "agentos-stateless-initialize";

/// The revision a request names in its `_meta`, if it names one.
pub fn named_version(message: &Value) -> Option<&str> {
    message
        .get("params")?
        .get("_meta")?
        .get(VERSION_KEY)?
        .as_str()
}

/// True for `server/discover`.
pub fn is_discover(message: &Value) -> bool {
    message.get("method").and_then(Value::as_str) == Some("server/discover")
}

/// The answer to `server/discover`: the same identity, capabilities and
/// instructions `initialize` gives, and both revisions.
pub fn discover(server: &impl ServerHandler, id: &Value) -> Value {
    let info = serde_json::to_value(server.get_info()).unwrap_or_default();
    let mut result = json!({
        "resultType": "complete",
        "supportedVersions": [STATELESS, HANDSHAKE],
        "capabilities": info.get("capabilities").cloned().unwrap_or_else(|| json!({})),
        "serverInfo": info.get("serverInfo").cloned().unwrap_or_else(|| json!({})),
    });
    if let Some(instructions) = info.get("instructions") {
        result["instructions"] = instructions.clone();
    }
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// The `initialize` and `notifications/initialized` that open a session for a
/// stateless request, with the client's name and capabilities from its `_meta`.
pub fn handshake(message: &Value) -> (Value, Value) {
    let meta = message.get("params").and_then(|p| p.get("_meta"));
    let field = |key: &str, default: Value| {
        meta.and_then(|m| m.get(key))
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or(default)
    };
    let initialize = json!({
        "jsonrpc": "2.0",
        "id": HANDSHAKE_ID,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE,
            "capabilities": field("io.modelcontextprotocol/clientCapabilities", json!({})),
            "clientInfo": field(
                "io.modelcontextprotocol/clientInfo",
                json!({"name": "stateless-client", "version": "0"}),
            ),
        }
    });
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    (initialize, initialized)
}

/// Mark a successful answer as complete (the stateless revision's `resultType`).
pub fn complete(mut answer: Value) -> Value {
    if let Some(result) = answer.get_mut("result").and_then(Value::as_object_mut) {
        result
            .entry("resultType")
            .or_insert_with(|| Value::String("complete".into()));
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_revision_in_meta() {
        let modern = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
            "params": {"_meta": {VERSION_KEY: STATELESS}}});
        assert_eq!(named_version(&modern), Some(STATELESS));
        let legacy = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        assert_eq!(named_version(&legacy), None);
        let odd = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
            "params": {"_meta": {VERSION_KEY: 7}}});
        assert_eq!(named_version(&odd), None);
    }

    #[test]
    fn the_handshake_carries_the_clients_name_and_capabilities() {
        let message = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "current_task",
        "_meta": {
            VERSION_KEY: STATELESS,
            "io.modelcontextprotocol/clientInfo": {"name": "claude-code", "version": "2"},
            "io.modelcontextprotocol/clientCapabilities": {"roots": {}},
        }}});
        let (init, done) = handshake(&message);
        assert_eq!(init["id"], HANDSHAKE_ID);
        assert_eq!(init["params"]["protocolVersion"], HANDSHAKE);
        assert_eq!(init["params"]["clientInfo"]["name"], "claude-code");
        assert_eq!(init["params"]["capabilities"], json!({"roots": {}}));
        assert_eq!(done["method"], "notifications/initialized");
        // A client that names nothing still gets a well-formed handshake.
        let (init, _) = handshake(&json!({"method": "tools/list"}));
        assert_eq!(init["params"]["clientInfo"]["name"], "stateless-client");
        assert_eq!(init["params"]["capabilities"], json!({}));
    }

    #[test]
    fn only_a_result_is_marked_complete() {
        let ok = complete(json!({"id": 1, "result": {"tools": []}}));
        assert_eq!(ok["result"]["resultType"], "complete");
        let err = complete(json!({"id": 1, "error": {"code": -32601}}));
        assert!(err.get("result").is_none());
        assert!(err["error"].get("resultType").is_none());
    }
}
