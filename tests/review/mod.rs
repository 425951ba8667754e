//! The pull-request loop (issue #17), end to end: a task published to the GitHub
//! stand-in (whose branches are those of a bare origin), then reviews, comments,
//! checks, conflicts, pushes, merges and closes scripted on it, and `sync` (or
//! `watch`) answering them with revision rounds run by the real Claude Code CLI
//! against the scripted Messages API.
mod board;
mod bounds;
mod kills;
mod passes;
mod races;
mod rounds;
mod settle;
mod snapshots;
mod watch;

use crate::publish::TOKEN;
use crate::support::git_remotes::bare;
use crate::support::github::GitHubApi;
use crate::support::messages_api::{all_text, MessagesApi, Reply, Turn};
use crate::support::{Run, TestRepo};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// The task every scenario publishes.
pub const ID: &str = "fix";
pub const BRANCH: &str = "agentos/fix";
/// What the first run writes into README.md.
pub const FIXED: &str = "# Example\n\nInstall with `cargo install`.\n";

/// A repository with an origin, the GitHub stand-in over it, and an agent.
pub struct Scenario {
    pub repo: TestRepo,
    pub origin: PathBuf,
    pub github: GitHubApi,
    pub claude: Option<MessagesApi>,
    /// The agent command when it is a fake one.
    pub fake: Option<String>,
    /// Everything the commands printed.
    pub printed: String,
}

/// What the agent writes in each run: `None` for the task's first run, `Some(n)`
/// for revision round n.
pub type Writes = Arc<dyn Fn(Option<u32>) -> Vec<(String, String)> + Send + Sync>;

/// The round a request is for, read off the prompt, counting all the task's
/// rounds (`# Revision round 1 of 3` counts within the bound, and then the
/// prompt also says `Round 4 of this task in all`).
pub fn round_of(body: &Value) -> Option<u32> {
    let text = all_text(body);
    let number = |marker: &str| {
        let at = text.find(marker)? + marker.len();
        text[at..].split_whitespace().next()?.parse().ok()
    };
    number("(Round ").or_else(|| number("# Revision round "))
}

/// A Messages API script: each run writes its files, one Write call per file,
/// then says it is done.
pub fn claude(writes: Writes) -> MessagesApi {
    MessagesApi::start(Arc::new(move |turn: &Turn| {
        let files = writes(round_of(&turn.body));
        match files.get(turn.tool_results) {
            Some((path, content)) => Reply::Tool {
                name: "Write".into(),
                input: json!({
                    "file_path": format!("{}/{path}", turn.cwd.clone().unwrap_or_default()),
                    "content": content,
                }),
            },
            None => Reply::Text(format!(
                "Done: wrote {}.",
                files
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }))
}

/// README.md as round `n` leaves it.
pub fn readme_round(n: u32) -> String {
    format!("# Example\n\nInstall with `cargo install --locked` (round {n}).\n")
}

/// The usual script: the first run fixes the README, round n rewrites it.
pub fn readme_rounds() -> Writes {
    Arc::new(|round| match round {
        None => vec![("README.md".into(), FIXED.into())],
        Some(n) => vec![("README.md".into(), readme_round(n))],
    })
}

impl Scenario {
    /// The task `fix` (README.md, plus `extra` targets) published with the real
    /// Claude Code CLI: in review/, pull request #1 open.
    pub fn published(writes: Writes, extra: &[&str]) -> Scenario {
        Scenario::with_repo(TestRepo::initialised(), Some(claude(writes)), None, extra)
    }

    /// The same, with a fake agent (for the fault cases).
    pub fn published_fake(agent: impl FnOnce(&TestRepo) -> String) -> Scenario {
        let repo = TestRepo::initialised();
        let fake = agent(&repo);
        Scenario::with_repo(repo, None, Some(fake), &[])
    }

    fn with_repo(
        repo: TestRepo,
        claude: Option<MessagesApi>,
        fake: Option<String>,
        extra: &[&str],
    ) -> Scenario {
        let origin = bare(repo.dir.path(), "origin");
        std::process::Command::new("git")
            .args(["config", "core.logAllRefUpdates", "always"])
            .current_dir(&origin)
            .status()
            .expect("git config");
        repo.git(&["remote", "add", "origin", origin.to_str().expect("utf8")]);
        repo.git(&["push", "-q", "origin", "main"]);
        let github = GitHubApi::start_with_origin("octo", "widgets", &origin);
        let mut s = Scenario {
            repo,
            origin,
            github,
            claude,
            fake,
            printed: String::new(),
        };
        let mut args = vec![
            "add",
            "Fix the install command",
            "-t",
            "README.md",
            "--id",
            ID,
        ];
        for target in extra {
            args.extend(["-t", target]);
        }
        s.repo.agentos(&args).ok();
        s.agentos(&["run"]).ok();
        assert!(
            s.repo.exists(".agentos/review/fix.md"),
            "published: in review/"
        );
        assert_eq!(s.github.pulls().len(), 1);
        s
    }

    /// The environment every command gets: GitHub, the token, the agent.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = match (&self.claude, &self.fake) {
            (Some(api), _) => self.repo.claude_env(api),
            (None, Some(fake)) => vec![("AGENTOS_AGENT_CMD".into(), fake.clone())],
            (None, None) => Vec::new(),
        };
        env.extend([
            ("AGENTOS_GITHUB_API".into(), self.github.url.clone()),
            ("AGENTOS_GITHUB_REPO".into(), "octo/widgets".into()),
            ("GITHUB_TOKEN".into(), TOKEN.into()),
        ]);
        env
    }

    /// Run `git agentos ARGS` with the scenario's environment (and `extra`).
    pub fn agentos_env(&mut self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut env = self.env();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let run = self.repo.agentos_with(args, &env);
        self.printed.push_str(&run.stdout);
        self.printed.push_str(&run.stderr);
        run
    }

    pub fn agentos(&mut self, args: &[&str]) -> Run {
        self.agentos_env(args, &[])
    }

    /// `git` in the bare origin.
    pub fn origin_git(&self, args: &[&str]) -> String {
        crate::support::git_remotes::git_in(&self.origin, args)
    }

    /// A person pushes a commit to the pull request's branch (from a clone of
    /// their own): `path` holds `content`. Returns the commit.
    pub fn person_pushes(&self, path: &str, content: &str, message: &str) -> String {
        let clone = self.repo.dir.path().join("person");
        let git = |args: &[&str], dir: &std::path::Path| {
            let mut cmd = std::process::Command::new("git");
            crate::support::seal(&mut cmd, &self.repo.home);
            let out = cmd.args(args).current_dir(dir).output().expect("git");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        if !clone.exists() {
            let origin = self.origin.to_str().expect("utf8");
            git(&["clone", "-q", origin, "person"], self.repo.dir.path());
        }
        git(&["fetch", "-q", "origin"], &clone);
        git(
            &["checkout", "-q", "-B", BRANCH, &format!("origin/{BRANCH}")],
            &clone,
        );
        let file = clone.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, content).expect("write");
        git(&["add", "-A"], &clone);
        git(&["commit", "-q", "-m", message], &clone);
        git(&["push", "-q", "origin", BRANCH], &clone);
        git(&["rev-parse", "HEAD"], &clone)
    }

    /// The branch's commits on origin, newest first.
    pub fn branch_log(&self) -> Vec<String> {
        self.origin_git(&["rev-list", &format!("main..{BRANCH}")])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many times origin's branch was updated (its reflog).
    pub fn branch_updates(&self) -> usize {
        self.origin_git(&[
            "reflog",
            "show",
            "--format=%H",
            &format!("refs/heads/{BRANCH}"),
        ])
        .lines()
        .count()
    }

    /// A file on origin's branch.
    pub fn on_branch(&self, path: &str) -> String {
        self.origin_git(&["show", &format!("{BRANCH}:{path}")])
    }

    /// The task's record, wherever it is.
    pub fn record(&self) -> Value {
        for state in ["review", "done", "failed", "doing"] {
            let path = format!(".agentos/{state}/{ID}.record.json");
            if self.repo.exists(&path) {
                return serde_json::from_str(&self.repo.read(&path)).expect("record");
            }
        }
        panic!("no record of {ID}");
    }

    /// The prompts of the requests the Messages API received for round `n`.
    pub fn prompts_of_round(&self, n: u32) -> Vec<String> {
        let api = self.claude.as_ref().expect("the real CLI");
        api.requests
            .lock()
            .expect("lock")
            .iter()
            .filter(|b| round_of(b) == Some(n))
            .map(all_text)
            .collect()
    }

    /// The token is in nothing printed, no file, no request and no reply.
    pub fn assert_no_token(&self) {
        assert!(!self.printed.contains(TOKEN), "the token was printed");
        let (files, found) = crate::support::search_files(self.repo.dir.path(), TOKEN);
        assert!(found.is_empty(), "the token is in {found:?}");
        assert!(files > 20, "searched {files} files");
        let state = self.github.state.lock().expect("lock");
        for (_, _, body) in &state.requests {
            assert!(!body.contains(TOKEN), "a request carried the token: {body}");
        }
        drop(state);
        for reply in self.github.posted(1) {
            assert!(!reply.contains(TOKEN));
        }
    }
}
