//! The fleet (issue #19): many repositories, one `watch --fleet`, and the
//! notifiers that tell a person when something needs them.
mod locks;
mod notifiers;
mod serving;

use crate::support::{wait_until, FakeAgent, TestRepo};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Repositories linked into one fleet folder, under one `$AGENTOS_HOME`.
pub struct Fleet {
    pub repos: Vec<TestRepo>,
    pub home: PathBuf,
    /// Where fake agents write what they did (writable in every repository's sandbox).
    pub scratch: PathBuf,
}

impl Fleet {
    /// `names.len()` initialised repositories, linked as `names`.
    pub fn new(names: &[&str]) -> Fleet {
        let host = TestRepo::initialised();
        let home = host.dir.path().join("agentos-home");
        let scratch = host.dir.path().join("scratch");
        std::fs::create_dir_all(home.join("fleet")).expect("fleet folder");
        std::fs::create_dir_all(&scratch).expect("scratch");
        let mut fleet = Fleet {
            repos: vec![host],
            home,
            scratch,
        };
        while fleet.repos.len() < names.len() {
            fleet.repos.push(TestRepo::initialised());
        }
        for (i, name) in names.iter().enumerate() {
            fleet.link(i, name);
        }
        fleet
    }

    /// Link repository `i` as `name` (as `ln -s` would), its sandbox opened to the scratch folder.
    pub fn link(&self, i: usize, name: &str) {
        let repo = &self.repos[i];
        repo.write(
            ".agentos/agents/default/local.toml",
            &format!(
                "[sandbox]\nwritable = [{:?}]\n",
                self.scratch.display().to_string()
            ),
        );
        std::os::unix::fs::symlink(repo.root(), self.home.join("fleet").join(name)).expect("link");
    }

    /// Another initialised repository (not linked yet): its index.
    pub fn another(&mut self) -> usize {
        self.repos.push(TestRepo::initialised());
        self.repos.len() - 1
    }

    pub fn host(&self) -> &TestRepo {
        &self.repos[0]
    }

    /// A `git agentos` command in the host repository, with this fleet's home.
    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.host().cmd(args);
        cmd.env("AGENTOS_HOME", &self.home);
        cmd
    }

    pub fn agentos(&self, args: &[&str]) -> crate::support::Run {
        crate::support::Run::from(self.cmd(args).output().expect("spawn git-agentos"))
    }

    /// An agent that notes `start <id>` and `end <id>` in the scratch folder's
    /// `log` (the task id is its worktree's name) and fixes the README.
    pub fn logging_agent(&self) -> String {
        let log = self.scratch.join("log");
        FakeAgent::new(self.host())
            .runs(&format!(
                "echo \"start $(basename \"$PWD\")\" >> {}",
                log.display()
            ))
            .writes("README.md", "Install with `cargo install`.\n")
            .runs(&format!(
                "echo \"end $(basename \"$PWD\")\" >> {}",
                log.display()
            ))
            .build()
    }

    /// The lines of the agents' log.
    pub fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.scratch.join("log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Start `watch --fleet --no-pr` (and `args`) with `env`; returns once it is watching.
    pub fn watch(&self, args: &[&str], env: &[(&str, &str)]) -> Watch {
        let mut all = vec!["watch", "--fleet", "--no-pr"];
        all.extend_from_slice(args);
        let mut cmd = self.cmd(&all);
        cmd.envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Watch::start(cmd)
    }
}

/// A running `watch --fleet`, its stderr collected as it comes.
pub struct Watch {
    pub child: Child,
    pub stderr: Arc<Mutex<String>>,
}

impl Watch {
    pub fn start(mut cmd: std::process::Command) -> Watch {
        let mut child = cmd.spawn().expect("spawn watch --fleet");
        let stderr = Arc::new(Mutex::new(String::new()));
        let reader = std::io::BufReader::new(child.stderr.take().expect("piped"));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let mut text = sink.lock().expect("lock");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let watch = Watch { child, stderr };
        watch.wait_for("fleet repositories");
        watch
    }

    /// Wait until the dispatcher has said `needle`.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) {
        wait_until(
            Duration::from_secs(30),
            &format!("watch --fleet said {needle:?}"),
            || self.said(needle),
        );
    }

    pub fn said(&self, needle: &str) -> bool {
        self.stderr.lock().expect("lock").contains(needle)
    }

    /// SIGTERM, and its exit status (0: a clean stop).
    pub fn stop(mut self) -> Option<i32> {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("SIGTERM");
        self.child.wait().expect("wait").code()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until every one of `ids` is in done/ of `repo`.
#[track_caller]
pub fn wait_done(repo: &TestRepo, ids: &[&str]) {
    wait_until(
        Duration::from_secs(60),
        &format!("{ids:?} are done"),
        || {
            ids.iter()
                .all(|id| repo.exists(&format!(".agentos/done/{id}.md")))
        },
    );
}

/// Queue task `id` in `repo`.
pub fn queue(repo: &TestRepo, id: &str) {
    repo.agentos(&["add", &format!("Fix {id}"), "-t", "README.md", "--id", id])
        .ok();
}

/// True when `path` is a symbolic link.
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}
