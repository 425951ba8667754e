//! The memory server the dispatcher runs for its tasks (MCP over HTTP on
//! loopback, one bearer secret per task): what an agent holding the grant can
//! do, what anyone else gets, and that the secret dies with the task and is
//! written nowhere that lasts.
use crate::support::{search_files, wait_until, wait_until_watching, FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::Duration;

/// Shell for the agent: read the grant from `$AGENTOS_MCP_CONFIG`, try the
/// server with it and without it, and write what came back to `out`.
fn prober(out: &std::path::Path) -> String {
    let out = out.display();
    format!(
        r#"cfg=$(cat "$AGENTOS_MCP_CONFIG")
url=$(printf %s "$cfg" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')
auth=$(printf %s "$cfg" | sed -n 's/.*"Authorization":"\([^"]*\)".*/\1/p')
printf '%s\n%s\n' "$url" "$auth" > '{out}/grant.txt'
ls "$(dirname "$AGENTOS_MCP_CONFIG")" > '{out}/run-dir.txt'
stat -c %a "$AGENTOS_MCP_CONFIG" > '{out}/mode.txt'
post() {{ name=$1; shift; curl -s -o '{out}/'$name.body -w "$name %{{http_code}}\n" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' "$@" >> '{out}/codes.txt'; }}
meta='"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}'
post discover -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":"d1","method":"server/discover","params":{{'"$meta"'}}}}' "$url"
post oldrev -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":"o1","method":"tools/list","params":{{"_meta":{{"io.modelcontextprotocol/protocolVersion":"2024-01-01"}}}}}}' "$url"
post stateless -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":"s1","method":"tools/call","params":{{"name":"current_task","arguments":{{}},'"$meta"'}}}}' "$url"
post floatid -m 10 -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":1.5,"method":"tools/list","params":{{'"$meta"'}}}}' "$url"
post paramslist -m 10 -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":"p1","method":"tools/call","params":[1,2]}}' "$url"
post init -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"probe","version":"1"}}}}}}' "$url"
post initialized -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","method":"notifications/initialized"}}' "$url"
post add -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"memory_add","arguments":{{"text":"Added over HTTP by the agent.","tags":["http"]}}}}}}' "$url"
post task -H "Authorization: $auth" -d '{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"current_task","arguments":{{}}}}}}' "$url"
post notjson -H "Authorization: $auth" -d 'not json' "$url"
post noauth -d '{{"jsonrpc":"2.0","id":4,"method":"tools/list"}}' "$url"
post wrong -H "Authorization: Bearer 00$auth" -d '{{"jsonrpc":"2.0","id":5,"method":"tools/list"}}' "$url"
post origin -H "Authorization: $auth" -H 'Origin: http://evil.example' -d '{{"jsonrpc":"2.0","id":6,"method":"tools/list"}}' "$url"
post host -H "Authorization: $auth" -H 'Host: evil.example' -d '{{"jsonrpc":"2.0","id":7,"method":"tools/list"}}' "$url"
echo "served by $(printf %s "$url" | sed 's|http://\([^:]*\):.*|\1|')" >> '{out}/codes.txt'
ip=$(hostname -I 2>/dev/null | cut -d' ' -f1)
port=$(printf %s "$url" | sed 's|.*:\([0-9]*\)/.*|\1|')
if [ -n "$ip" ]; then curl -s -m 5 -o /dev/null -w "offloopback %{{http_code}}\n" -H "Authorization: $auth" -d '{{}}' "http://$ip:$port/mcp" >> '{out}/codes.txt'; fi
"#
    )
}

#[test]
fn a_task_reaches_the_dispatchers_memory_server_with_its_secret_and_nobody_else_does() {
    let repo = TestRepo::initialised();
    let vault = tempfile::tempdir().expect("vault");
    let out = repo.scratch().join("probe");
    std::fs::create_dir_all(&out).expect("mkdir");
    let agent = FakeAgent::new(&repo)
        .runs(&prober(&out))
        .writes("README.md", "probed\n")
        .build();
    let home = vault.path().to_str().expect("utf8");
    let mut watch = repo
        .cmd(&["watch", "--no-pr"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .env("AGENTOS_HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let stderr = wait_until_watching(&mut watch);
    repo.agentos(&[
        "add",
        "Probe the memory server",
        "-t",
        "README.md",
        "--id",
        "probe",
    ])
    .ok();
    wait_until(Duration::from_secs(60), "the probe task is done", || {
        repo.exists(".agentos/done/probe.md")
    });
    let grant = std::fs::read_to_string(out.join("grant.txt")).expect("the agent saw a grant");
    let (url, auth) = grant.trim().split_once('\n').expect("url and secret");
    let secret = auth.strip_prefix("Bearer ").expect("a bearer secret");
    assert_eq!(secret.len(), 64, "256 random bits, in hex");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // With the task over (watch still serving), its secret opens nothing.
    let after = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: {auth}"))
        .args([
            "-d",
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#,
            url,
        ])
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&after.stdout), "401", "revoked");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(watch.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    assert!(watch.wait().expect("wait").success());

    let codes = std::fs::read_to_string(out.join("codes.txt")).expect("codes");
    let mut expected = "discover 200\noldrev 400\nstateless 200\nfloatid 400\nparamslist 400\ninit 200\ninitialized 202\nadd 200\ntask 200\nnotjson 400\n\
                        noauth 401\nwrong 401\norigin 403\nhost 403\nserved by 127.0.0.1\n"
        .to_string();
    if codes.contains("offloopback") {
        // Not listening there at all: no HTTP answer.
        expected.push_str("offloopback 000\n");
    }
    assert_eq!(codes, expected);
    let body =
        |name: &str| std::fs::read_to_string(out.join(format!("{name}.body"))).unwrap_or_default();
    assert!(
        body("init").contains(r#""name":"git-agentos""#),
        "{}",
        body("init")
    );
    // MCP's stateless revision: discovery, then a tool call with no handshake;
    // a revision the server does not speak is told what to send.
    let discover: serde_json::Value = serde_json::from_str(&body("discover")).expect("json");
    assert_eq!(discover["id"], "d1");
    assert_eq!(discover["result"]["resultType"], "complete");
    assert_eq!(
        discover["result"]["supportedVersions"],
        serde_json::json!(["2026-07-28", "2025-11-25"])
    );
    assert_eq!(discover["result"]["serverInfo"]["name"], "git-agentos");
    assert!(discover["result"]["capabilities"]["tools"].is_object());
    assert!(discover["result"]["instructions"]
        .as_str()
        .is_some_and(|i| i.contains("memory_search")));
    assert!(body("oldrev").contains("send `initialize` first, or name protocol version 2026-07-28"));
    // What rmcp could not read is refused at once (curl gave each 10 s; the
    // server's own wait is 60 s), with the request's id.
    assert!(
        body("floatid").contains("cannot read this message"),
        "{}",
        body("floatid")
    );
    assert!(
        body("paramslist").contains(r#""id":"p1""#),
        "{}",
        body("paramslist")
    );
    let stateless: serde_json::Value = serde_json::from_str(&body("stateless")).expect("json");
    assert_eq!(stateless["id"], "s1");
    assert_eq!(stateless["result"]["resultType"], "complete");
    assert!(
        stateless.to_string().contains("Task `probe`"),
        "{stateless}"
    );
    assert!(body("add").contains("Added note"), "{}", body("add"));
    assert!(body("task").contains("Task `probe`"), "{}", body("task"));
    assert!(body("notjson").contains("-32700"), "{}", body("notjson"));
    // The config was the owner's alone, and is gone with the run.
    assert_eq!(
        std::fs::read_to_string(out.join("mode.txt"))
            .expect("mode")
            .trim(),
        "600"
    );
    assert!(std::fs::read_to_string(out.join("run-dir.txt"))
        .expect("ls")
        .contains("mcp.json"));
    let (_, configs) = search_files(&repo.path(".agentos/runs"), "\"mcpServers\"");
    assert!(
        configs.is_empty(),
        "the config outlived the run: {configs:?}"
    );
    // The note went to the vault, written by the dispatcher.
    let notes = repo
        .agentos_env(
            &["memory", "search", "added over http"],
            &[("AGENTOS_HOME", home)],
        )
        .ok()
        .stdout;
    assert!(notes.contains("Added over HTTP by the agent."), "{notes}");
    // The secret is in no log, record, report or output that stays.
    let rest = std::io::read_to_string(stderr).expect("watch's stderr");
    assert!(!rest.contains(secret), "in watch's output");
    let (files, found) = search_files(&repo.path(".agentos"), secret);
    assert!(files > 0);
    assert!(found.is_empty(), "the secret was written to {found:?}");
    let (_, in_vault) = search_files(vault.path(), secret);
    assert!(in_vault.is_empty(), "{in_vault:?}");
}
