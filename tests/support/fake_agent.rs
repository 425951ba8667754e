//! The one way tests make a fake agent: a builder for a small `sh` script that
//! speaks enough of Claude Code's stream-json for the dispatcher.
//!
//! By default the script announces itself (a `system/init` event with
//! `session_id` "fake" and the folder it runs in), does its steps in order, and
//! reports success (a `result` event, one turn). Every part can be changed:
//!
//! ```ignore
//! let agent = FakeAgent::new(&repo)
//!     .writes("README.md", "Install with `cargo install`.\n")
//!     .reports(2, 0.02, "Fixed it.")
//!     .build();
//! repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)]).ok();
//! ```
use super::TestRepo;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The `system/init` event the dispatcher waits for before it trusts an agent.
const INIT: &str = r#"{"type":"system","subtype":"init","session_id":"fake","cwd":"'"$PWD"'"}"#;

/// How the script ends.
enum Ending {
    /// A `result` event, then exit 0.
    Result(String),
    /// Nothing more: the steps decide how the script ends.
    Nothing,
}

/// A fake agent script under construction; [`FakeAgent::build`] writes it.
#[must_use = "a fake agent does nothing until it is built"]
pub struct FakeAgent {
    folder: PathBuf,
    before_init: Vec<String>,
    init: bool,
    steps: Vec<String>,
    ending: Ending,
    exit: Option<i32>,
}

/// `text` as one word for `sh`, whatever it holds.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl FakeAgent {
    /// An agent that starts (init event), does nothing yet, and reports success.
    pub fn new(repo: &TestRepo) -> FakeAgent {
        FakeAgent {
            folder: repo.dir.path().to_path_buf(),
            before_init: Vec::new(),
            init: true,
            steps: Vec::new(),
            ending: Ending::Result(
                r#"{"type":"result","subtype":"success","is_error":false,"num_turns":1}"#.into(),
            ),
            exit: None,
        }
    }

    /// A plain script: no init event and no result event, only the steps (an
    /// agent that is not Claude Code, or never starts).
    pub fn plain(repo: &TestRepo) -> FakeAgent {
        FakeAgent {
            init: false,
            ending: Ending::Nothing,
            ..FakeAgent::new(repo)
        }
    }

    /// Write `content` to `path` (relative to the worktree, or absolute).
    pub fn writes(self, path: &str, content: &str) -> FakeAgent {
        let line = format!("printf '%s' {} > {}", sh_quote(content), sh_quote(path));
        self.runs(&line)
    }

    /// Run these shell lines, in order with the other steps.
    pub fn runs(mut self, shell: &str) -> FakeAgent {
        self.steps.push(shell.to_string());
        self
    }

    /// Run these shell lines first, before the init event (what an agent does
    /// before it confirms its start).
    pub fn runs_before_init(mut self, shell: &str) -> FakeAgent {
        self.before_init.push(shell.to_string());
        self
    }

    /// Print one line of stream-json (or anything else) on stdout.
    pub fn stream_json(self, line: &str) -> FakeAgent {
        let echo = format!("printf '%s\\n' {}", sh_quote(line));
        self.runs(&echo)
    }

    /// Sleep this many seconds (fractions allowed).
    pub fn sleeps(self, seconds: f64) -> FakeAgent {
        self.runs(&format!("sleep {seconds}"))
    }

    /// End with success after `turns` turns costing `cost_usd`, with this summary.
    pub fn reports(mut self, turns: u32, cost_usd: f64, summary: &str) -> FakeAgent {
        self.ending = Ending::Result(
            serde_json::json!({
                "type": "result", "subtype": "success", "is_error": false,
                "num_turns": turns, "total_cost_usd": cost_usd, "result": summary,
            })
            .to_string(),
        );
        self
    }

    /// End with an error result of this subtype (`error_max_turns`…).
    pub fn reports_error(mut self, subtype: &str, summary: &str) -> FakeAgent {
        self.ending = Ending::Result(
            serde_json::json!({
                "type": "result", "subtype": subtype, "is_error": true, "result": summary,
            })
            .to_string(),
        );
        self
    }

    /// End after the steps without a result event.
    pub fn no_result(mut self) -> FakeAgent {
        self.ending = Ending::Nothing;
        self
    }

    /// Exit with this code at the end.
    pub fn exits(mut self, code: i32) -> FakeAgent {
        self.exit = Some(code);
        self
    }

    /// The script's text.
    pub fn script(&self) -> String {
        let mut text = String::from("#!/bin/sh\n");
        for step in &self.before_init {
            text.push_str(step);
            text.push('\n');
        }
        if self.init {
            text.push_str(&format!("echo '{INIT}'\n"));
        }
        for step in &self.steps {
            text.push_str(step);
            text.push('\n');
        }
        if let Ending::Result(event) = &self.ending {
            text.push_str(&format!("printf '%s\\n' {}\n", sh_quote(event)));
        }
        if let Some(code) = self.exit {
            text.push_str(&format!("exit {code}\n"));
        }
        text
    }

    /// Write the script, executable, into the test's folder; returns its path.
    pub fn build(self) -> String {
        use std::os::unix::fs::PermissionsExt;
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = self.folder.join(format!("fake-agent-{n}.sh"));
        std::fs::write(&path, self.script()).expect("write the fake agent");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make the fake agent executable");
        path.display().to_string()
    }
}
