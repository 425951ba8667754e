//! Test helpers: sealed temporary git repositories, a runner for the real binary,
//! the fake agent builder, waiting on a condition, and the normaliser that makes
//! outputs fit for snapshots.
#![allow(dead_code)]
pub mod board;
pub mod cdp;
pub mod claude;
pub mod fake_agent;
pub mod git_remotes;
pub mod github;
pub mod http;
pub mod messages_api;
pub mod normalise;

pub use fake_agent::FakeAgent;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-agentos");

/// A temporary git repository with one commit, its own HOME, and pinned git identity.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
}

/// The output of one command, with helpers for assertions.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Environment that makes git deterministic and keeps it away from the user's config.
pub fn seal(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1");
}

impl TestRepo {
    /// A new repository on branch `main` with a README committed.
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let repo = TestRepo { dir, home };
        std::fs::create_dir_all(repo.root()).expect("repo dir");
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write("README.md", "# Example\n\nInstall with `cargo instal`.\n");
        repo.git(&["add", "README.md"]);
        repo.git(&["commit", "-q", "-m", "initial"]);
        repo
    }

    /// A repository with `git agentos init` done.
    pub fn initialised() -> TestRepo {
        let repo = TestRepo::new();
        repo.agentos(&["init"]).ok();
        repo
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        std::fs::symlink_metadata(self.path(rel)).is_ok()
    }

    /// Run git in the repository; panics when it fails. Returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        seal(&mut cmd, &self.home);
        let out = cmd
            .args(args)
            .current_dir(self.root())
            .output()
            .expect("spawn git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A `git agentos` command ready to run in the repository (sealed environment).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        seal(&mut cmd, &self.home);
        cmd.args(args).current_dir(self.root()).stdin(Stdio::null());
        cmd
    }

    pub fn agentos(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("spawn git-agentos"))
    }

    pub fn agentos_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("spawn git-agentos"))
    }

    /// A folder outside the repository that the default agent may write (its
    /// `[sandbox] writable`, in the person's own local.toml, which git does not
    /// track), for fake agents that leave pids and markers where the test reads
    /// them. The sandbox refuses every other write outside.
    pub fn scratch(&self) -> PathBuf {
        let scratch = self.dir.path().join("scratch");
        std::fs::create_dir_all(&scratch).expect("scratch");
        let toml = self.path(".agentos/agents/default/local.toml");
        let text = std::fs::read_to_string(&toml).unwrap_or_default();
        if !text.contains("[sandbox]") {
            self.write(
                ".agentos/agents/default/local.toml",
                &format!(
                    "{text}\n[sandbox]\nwritable = [{:?}]\n",
                    scratch.display().to_string()
                ),
            );
        }
        scratch
    }

    /// The files in a state folder (names only, sorted).
    pub fn files_in(&self, rel_dir: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(rel_dir))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl TestRepo {
    /// Environment for running the real Claude Code CLI against a stand-in API.
    pub fn claude_env(&self, api: &messages_api::MessagesApi) -> Vec<(String, String)> {
        vec![
            (
                "AGENTOS_AGENT_CMD".into(),
                claude::binary().display().to_string(),
            ),
            ("ANTHROPIC_BASE_URL".into(), api.url.clone()),
            ("ANTHROPIC_API_KEY".into(), "test-key-not-secret".into()),
            (
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
                "1".into(),
            ),
        ]
    }

    /// Queue "Fix" (target README.md, id `fix`), run it with `agent` and expect
    /// it to fail: the reason it failed with.
    pub fn failed_fix(&self, agent: &str) -> String {
        self.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
            .ok();
        self.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", agent)])
            .code(1);
        self.read(".agentos/failed/fix.reason")
    }

    /// Run with extra environment given as owned pairs.
    pub fn agentos_with(&self, args: &[&str], env: &[(String, String)]) -> Run {
        let mut cmd = self.cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("spawn git-agentos"))
    }
}

/// Poll `condition` every 10 ms until it holds; fail the test, saying what was
/// awaited, when it still does not after `timeout`.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "waited {timeout:?} in vain until {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The CPU time process `pid` used so far (all its threads), in nanoseconds.
pub fn cpu_ns(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0)
}

/// True while process `pid` runs (a zombie, waiting only to be reaped, does not).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

/// Queue task `id` and `run --no-pr` it (with `env`) with an agent that, once
/// started, waits until the test has done `meanwhile` (what someone else does
/// while an agent works: the sandbox keeps the agent itself from it), then
/// fixes the README.
pub fn run_while_the_agent_waits(
    repo: &TestRepo,
    id: &str,
    env: &[(&str, &str)],
    meanwhile: impl FnOnce(),
) -> Run {
    let scratch = repo.scratch();
    let waiting = scratch.join(format!("{id}.waiting"));
    let go = scratch.join(format!("{id}.go"));
    let agent = waiting_agent(repo, &waiting, &go);
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", id])
        .ok();
    let mut cmd = repo.cmd(&["run", "--no-pr"]);
    cmd.env("AGENTOS_AGENT_CMD", &agent)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn run");
    wait_until(Duration::from_secs(30), "the agent waits", || {
        waiting.exists()
    });
    meanwhile();
    std::fs::write(&go, "").expect("release the agent");
    Run::from(child.wait_with_output().expect("wait for run"))
}

/// An agent that, once started, touches `waiting`, waits until `go` exists,
/// then fixes the README.
pub fn waiting_agent(repo: &TestRepo, waiting: &Path, go: &Path) -> String {
    FakeAgent::new(repo)
        .runs(&format!("touch {}", waiting.display()))
        .runs(&format!(
            "while [ ! -e {} ]; do sleep 0.02; done",
            go.display()
        ))
        .writes("README.md", "Install with `cargo install`.\n")
        .build()
}

/// Search every file under `root` for `needle`: how many files were read, and the
/// ones that hold it.
pub fn search_files(root: &Path, needle: &str) -> (usize, Vec<String>) {
    let (mut files, mut found) = (0, Vec::new());
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files += 1;
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    (files, found)
}

/// Wait until a spawned `watch` (stderr piped) says it is ready: its
/// `watching …` line. Returns the rest of its stderr, to read later.
pub fn wait_until_watching(
    child: &mut std::process::Child,
) -> std::io::BufReader<std::process::ChildStderr> {
    use std::io::BufRead;
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("watch's stderr is piped"));
    let mut line = String::new();
    while !line.contains("watching .agentos/todo/ for new tasks") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("read watch's stderr") > 0,
            "watch ended before it was ready"
        );
    }
    stderr
}
