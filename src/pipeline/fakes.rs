//! Test doubles for the pipeline: a repository with a bare remote and a task in
//! todo/, an agent that edits a file without a process, and a forge that answers
//! from memory and remembers every call.
use crate::agent::runner::{Launch, Launcher, Observer, Outcome};
use crate::forge::{Forge, ForgeEnv, ForgeError, NewPull, PullRef};
use crate::queue::{self, AgentResult, Entry, Record};
use crate::workspace::Workspace;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A repository on `main` with a README, a bare remote `origin`, GitHub named
/// in config.toml (`octo/widgets`), and a task `fix` (README.md) in todo/.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ws: Workspace,
}

pub const TASK: &str = "+++\ntitle = \"Fix the README\"\ntargets = [\"README.md\"]\nbase_branch = \"main\"\nlabels = [\"docs\"]\n+++\nThe install line is wrong.\n";

impl Fixture {
    #[allow(clippy::new_without_default)] // a fixture builds a repository: not a default
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).expect("mkdir");
        let git = |args: &[&str]| {
            let mut full = vec!["-c", "user.name=t", "-c", "user.email=t@example.com"];
            full.extend_from_slice(args);
            crate::git::run::git(&root, &full).expect("git")
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(root.join("README.md"), "cargo instal\n").expect("write");
        git(&["add", "README.md"]);
        git(&["commit", "-q", "-m", "initial"]);
        let remote = dir.path().join("remote.git");
        crate::git::run::git(dir.path(), &["init", "-q", "--bare", "remote.git"]).expect("bare");
        git(&["remote", "add", "origin", remote.to_str().expect("utf8")]);
        let ws = Workspace::discover(&root).expect("workspace");
        ws.ensure_runtime().expect("runtime");
        std::fs::write(
            ws.tree.dir.join("config.toml"),
            "[github]\nrepo = \"octo/widgets\"\n",
        )
        .expect("config");
        std::fs::write(ws.tree.state_dir(queue::State::Todo).join("fix.md"), TASK).expect("task");
        Fixture { dir, ws }
    }

    /// Claim the task in todo/.
    pub fn claim(&self) -> (Entry, Record) {
        let ready = queue::inspect_todo(&self.ws.tree)
            .expect("inspect")
            .ready
            .remove(0);
        queue::claim(&self.ws.tree, &ready)
            .expect("claim")
            .expect("claimed")
    }

    /// The environment's GitHub settings, with a token.
    pub fn forge_env() -> ForgeEnv {
        ForgeEnv {
            token: Some("test-token".into()),
            api: "http://127.0.0.1:9".into(),
            repo: None,
            timeout: None,
        }
    }
}

/// The calls that open the task's one pull request on an empty [`FakeForge`].
pub const OPENS_ONE: [&str; 3] = [
    "find_open agentos/fix",
    "create agentos/fix -> main: Fix the README",
    "add_labels 7 docs",
];

/// An agent that fixes README.md in the worktree, or ends as it is told.
pub struct FakeAgent {
    pub calls: Arc<AtomicUsize>,
    pub outcome: fn() -> Option<Outcome>,
}

impl FakeAgent {
    /// Edits README.md and succeeds.
    pub fn fixing() -> FakeAgent {
        FakeAgent {
            calls: Arc::default(),
            outcome: || None,
        }
    }

    /// Edits nothing and ends with `outcome`.
    pub fn ending(outcome: fn() -> Option<Outcome>) -> FakeAgent {
        FakeAgent {
            calls: Arc::default(),
            outcome,
        }
    }
}

impl Launcher for FakeAgent {
    fn launch(&mut self, launch: &Launch, observer: &mut dyn Observer) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(outcome) = (self.outcome)() {
            return outcome;
        }
        observer.started(Some("fake"));
        let readme = launch.worktree.join("README.md");
        std::fs::write(&readme, "cargo install\n").expect("edit");
        observer.action("Edit README.md", Some(&readme.display().to_string()));
        Outcome::Succeeded(AgentResult {
            subtype: "success".into(),
            num_turns: Some(1),
            summary: Some("Fixed the install line.".into()),
            ..AgentResult::default()
        })
    }
}

/// A forge in memory: the pull requests it holds, and every call it was made.
#[derive(Default)]
pub struct FakeForge {
    pub open: Mutex<Vec<(String, PullRef)>>,
    pub calls: Mutex<Vec<String>>,
    /// Answers `create` with this error (once), when set.
    pub create_fails: Mutex<Option<ForgeError>>,
    /// `create` opens the pull request but answers 422 "already exists", as a
    /// retried create does when the first answer was lost.
    pub lose_create_answer: std::sync::atomic::AtomicBool,
}

impl FakeForge {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }
}

impl Forge for FakeForge {
    fn find_open(&self, branch: &str) -> Result<Option<PullRef>, ForgeError> {
        self.calls
            .lock()
            .expect("calls")
            .push(format!("find_open {branch}"));
        let open = self.open.lock().expect("open");
        Ok(open
            .iter()
            .find(|(b, _)| b == branch)
            .map(|(_, pr)| pr.clone()))
    }

    fn create(&self, pull: &NewPull) -> Result<PullRef, ForgeError> {
        self.calls.lock().expect("calls").push(format!(
            "create {} -> {}: {}",
            pull.head, pull.base, pull.title
        ));
        if let Some(e) = self.create_fails.lock().expect("fails").take() {
            return Err(e);
        }
        let mut open = self.open.lock().expect("open");
        let number = open.len() as u64 + 7;
        let pr = PullRef {
            number,
            url: format!("https://github.test/octo/widgets/pull/{number}"),
        };
        open.push((pull.head.clone(), pr.clone()));
        if self.lose_create_answer.swap(false, Ordering::SeqCst) {
            return Err(ForgeError {
                status: Some(422),
                message: "Validation Failed (A pull request already exists for octo:agentos/fix.)"
                    .into(),
                ..ForgeError::default()
            });
        }
        Ok(pr)
    }

    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), ForgeError> {
        self.calls
            .lock()
            .expect("calls")
            .push(format!("add_labels {number} {}", labels.join(",")));
        Ok(())
    }
}
