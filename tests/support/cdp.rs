//! A real headless Chromium driven over the DevTools protocol (a websocket and
//! JSON messages), for the board's end-to-end tests: open tabs, run JavaScript
//! in them, wait for a condition, take screenshots, and see every JavaScript
//! dialog (`alert`) a page tried to open.
//!
//! Chromium is Debian's `chromium` (`AGENTOS_TEST_CHROMIUM` names another),
//! started with a fresh profile and without the background networking that a
//! closed network refuses.
use serde_json::{json, Value};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// How long one DevTools call may take before the test fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Dialogs pages tried to open (each dismissed at once), as `type: message`.
    pub dialogs: Vec<String>,
    /// Exceptions thrown by pages' scripts.
    pub exceptions: Vec<String>,
    _profile: tempfile::TempDir,
}

/// One tab: a DevTools session attached to a page.
pub struct Tab {
    session: String,
}

/// The Chromium binary.
pub fn chromium() -> String {
    std::env::var("AGENTOS_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

impl Browser {
    /// Start Chromium and connect to it.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().expect("profile folder");
        let child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{}` ({e}): apt-get install -y chromium",
                    chromium()
                )
            });
        // Chromium writes its port and the browser's websocket path here.
        let port_file = profile.path().join("DevToolsActivePort");
        let mut text = String::new();
        crate::support::wait_until(Duration::from_secs(30), "Chromium opens DevTools", || {
            text = std::fs::read_to_string(&port_file).unwrap_or_default();
            text.lines().count() >= 2
        });
        let mut lines = text.lines();
        let port = lines.next().expect("port").trim().to_string();
        let path = lines.next().expect("path").trim().to_string();
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect to DevTools");
        stream
            .set_read_timeout(Some(CALL_TIMEOUT))
            .expect("read timeout");
        let (socket, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
            .expect("DevTools websocket");
        Browser {
            child,
            socket,
            next_id: 1,
            dialogs: Vec::new(),
            exceptions: Vec::new(),
            _profile: profile,
        }
    }

    /// Call a DevTools method (in a tab's session, or on the browser) and
    /// return its result, noting the events that arrive meanwhile.
    pub fn call(&mut self, tab: Option<&Tab>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(tab) = tab {
            message["sessionId"] = json!(tab.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .expect("send to DevTools");
        let deadline = Instant::now() + CALL_TIMEOUT;
        loop {
            assert!(
                Instant::now() < deadline,
                "DevTools did not answer {method}"
            );
            let text = match self.socket.read().expect("read from DevTools") {
                Message::Text(text) => text.to_string(),
                _ => continue,
            };
            let value: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if value["id"] == json!(id) {
                if let Some(error) = value.get("error") {
                    panic!("DevTools {method} failed: {error}");
                }
                return value["result"].clone();
            }
            self.note_event(&value);
        }
    }

    fn note_event(&mut self, event: &Value) {
        match event["method"].as_str() {
            Some("Page.javascriptDialogOpening") => {
                let p = &event["params"];
                self.dialogs
                    .push(format!("{}: {}", p["type"], p["message"]));
                // Dismiss it, or the page would wait for ever.
                let dismiss = json!({"id": 0, "method": "Page.handleJavaScriptDialog",
                    "params": {"accept": false}, "sessionId": event["sessionId"]});
                let _ = self.socket.send(Message::text(dismiss.to_string()));
            }
            Some("Runtime.exceptionThrown") => {
                self.exceptions
                    .push(event["params"]["exceptionDetails"].to_string());
            }
            _ => {}
        }
    }

    /// A new tab on `url`, loaded, in a window of its own (a tab behind another
    /// is hidden, and a hidden board page lets its live stream go).
    pub fn open(&mut self, url: &str) -> Tab {
        let target = self.call(
            None,
            "Target.createTarget",
            json!({"url": "about:blank", "newWindow": true}),
        );
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let tab = Tab {
            session: attached["sessionId"]
                .as_str()
                .expect("session id")
                .to_string(),
        };
        self.call(Some(&tab), "Page.enable", json!({}));
        self.call(Some(&tab), "Runtime.enable", json!({}));
        self.call(
            Some(&tab),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.navigate(&tab, url);
        tab
    }

    /// Load `url` in the tab and wait until it has loaded.
    pub fn navigate(&mut self, tab: &Tab, url: &str) {
        self.eval(tab, "window.__navigating = true");
        self.call(Some(tab), "Page.navigate", json!({"url": url}));
        self.wait_for(
            tab,
            "window.__navigating === undefined && document.readyState === 'complete'",
            &format!("{url} loads"),
        );
    }

    /// The value of a JavaScript expression in the tab (promises awaited).
    pub fn eval(&mut self, tab: &Tab, expression: &str) -> Value {
        let answer = self.call(
            Some(tab),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(details) = answer.get("exceptionDetails") {
            panic!("`{expression}` threw: {details}");
        }
        answer["result"]["value"].clone()
    }

    /// Wait until `expression` is true in the tab; fail, naming `what`, after 30 s.
    #[track_caller]
    pub fn wait_for(&mut self, tab: &Tab, expression: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.eval(tab, expression) == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited 30 s in vain until {what} ({expression})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A PNG of what the tab shows (`full`: the whole page, not only the window).
    pub fn screenshot(&mut self, tab: &Tab, full: bool) -> Vec<u8> {
        use base64::Engine;
        let shot = self.call(
            Some(tab),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": full}),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Width and height of a PNG, from its header.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}
