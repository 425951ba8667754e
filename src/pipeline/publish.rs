//! The publish step: push the verified branch (confirming the remote has it),
//! then open exactly one pull request through the dispatcher's forge. With
//! `--no-pr`, no remote, or no GitHub repository, the branch is the output and
//! the record says why. A cancel stops it until the pull request is asked for.
use super::{StepOutcome, TaskRun, CANCELLED};
use crate::forge::{self, Forge, ForgeError, GitHub, NewPull};
use crate::friction;
use crate::git::task_branch;
use crate::queue::QueueError;
use std::sync::Arc;

pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    let done_with = |run: &mut TaskRun, note: &str| {
        run.record.published_note = Some(note.to_string());
        Ok(StepOutcome::Done)
    };
    if run.settings.no_pr {
        return done_with(
            run,
            "not published (--no-pr): the verified branch is the output",
        );
    }
    let config = match crate::config::load(&run.ws.tree) {
        Ok(c) => c,
        Err(e) => return Ok(StepOutcome::Failed(format!("publish: {e}"))),
    };
    let remote = config.remote();
    if run.ws.repo.remote_url(&remote).is_none() {
        return done_with(
            run,
            &format!(
                "not published: there is no remote `{remote}`; the verified branch is the output"
            ),
        );
    }
    let env = &run.settings.forge_env;
    let id = run.entry.id.clone();
    // A cancel stops publishing up to the moment the pull request is asked for.
    let cancelled = |run: &TaskRun| {
        run.cancel_requested()
            .then(|| StepOutcome::Failed(CANCELLED.into()))
    };
    if let Some(stop) = cancelled(run) {
        return Ok(stop);
    }
    if run.record.pushed_commit.is_none() || run.record.pushed_commit != run.record.commit {
        match run
            .ws
            .repo
            .push_task_branch(&remote, &id, env.token.as_deref(), &env.api)
        {
            Ok(sha) => {
                run.record.pushed_to = Some(remote.clone());
                run.record.pushed_commit = Some(sha);
                run.save()?;
                run.say(&format!("pushed {} to {remote}", task_branch(&id)));
                crate::fault::point("after-push");
            }
            Err(e) => return Ok(StepOutcome::Failed(forge::redact(&format!("push: {e}")))),
        }
    }
    if let Some(stop) = cancelled(run) {
        return Ok(stop);
    }
    let Some(github) = env.github_repo(&run.ws.repo, &config, &remote) else {
        return done_with(
            run,
            "no GitHub repository is configured: the pushed branch is the output",
        );
    };
    let Some(token) = env.token.clone() else {
        return Ok(StepOutcome::Failed(format!(
            "publish: no GITHUB_TOKEN or GH_TOKEN to open the pull request on {}/{}; set one, or run with --no-pr",
            github.owner, github.name
        )));
    };
    // A stacked task's pull request goes against its dependency's branch.
    let base = run.record.stack_base.clone();
    let Some(base) = base.or_else(|| forge::base_branch(&run.task, &run.ws.repo)) else {
        return Ok(StepOutcome::Failed(
            "publish: the task names no base branch for its pull request; set `base_branch`".into(),
        ));
    };
    let report = run
        .record
        .report
        .as_ref()
        .and_then(|r| std::fs::read_to_string(run.ws.tree.repo_root.join(r)).ok())
        .unwrap_or_default();
    let result = run.record.agent_result.clone().unwrap_or_default();
    let pull = NewPull {
        title: run.task.title.clone(),
        head: task_branch(&id),
        base,
        body: forge::body(
            &id,
            &run.task.body,
            &report,
            &run.record.agent,
            &result.describe(),
            result.summary.as_deref().unwrap_or(""),
        ),
        draft: run.task.draft.unwrap_or(false),
    };
    let timeout = env.timeout(&config);
    let opened = run
        .forge
        .get(|| {
            GitHub::new(github, &token, timeout).map(|client| Arc::new(client) as Arc<dyn Forge>)
        })
        .and_then(|forge| {
            let opened = forge::open_once(forge.as_ref(), &pull, &run.task.labels);
            for retry in forge.take_retries() {
                friction::note(
                    &run.ws.tree,
                    friction::Event::new("github-retry", "publish", &retry)
                        .task(&id, run.record.attempt),
                );
            }
            opened
        });
    match opened {
        Ok((pr, created)) => {
            let verb = if created { "opened" } else { "found the open" };
            run.say(&format!("{verb} pull request {}", pr.url));
            run.record.pr_url = Some(pr.url);
            run.record.pr_number = Some(pr.number);
            run.save()?;
            crate::fault::point("after-pr");
            Ok(StepOutcome::Done)
        }
        Err(ForgeError { message, .. }) => Ok(StepOutcome::Failed(format!("publish: {message}"))),
    }
}

#[cfg(test)]
mod tests {
    use crate::agent::config::AgentConfig;
    use crate::forge::{ForgeError, LazyForge, PullRef};
    use crate::pipeline::fakes::{FakeAgent, FakeForge, Fixture, OPENS_ONE};
    use crate::pipeline::{Settings, StepOutcome, TaskRun};
    use crate::progress::Progress;
    use std::sync::Arc;

    /// The task claimed, with its branch one commit ahead of main.
    fn publish_with(
        forge: &Arc<FakeForge>,
        settings: Settings,
    ) -> (Fixture, StepOutcome, crate::queue::Record) {
        let fx = Fixture::new();
        let (entry, mut record) = fx.claim();
        let root = &fx.ws.tree.repo_root;
        let git = |args: &[&str]| {
            let mut full = vec!["-c", "user.name=t", "-c", "user.email=t@example.com"];
            full.extend_from_slice(args);
            crate::git::run::git(root, &full).expect("git")
        };
        record.base_commit = Some(git(&["rev-parse", "HEAD"]).trim().to_string());
        git(&["checkout", "-q", "-b", "agentos/fix"]);
        std::fs::write(root.join("README.md"), "cargo install\n").expect("edit");
        git(&["commit", "-q", "-am", "Fix the README"]);
        record.commit = Some(git(&["rev-parse", "HEAD"]).trim().to_string());
        git(&["checkout", "-q", "main"]);
        let task = crate::task::load(&entry.path).expect("task");
        let lazy = LazyForge::with(forge.clone());
        let mut agent = FakeAgent::fixing();
        let mut progress = Progress::lines();
        let mut task_run = TaskRun {
            ws: &fx.ws,
            worktree: fx.ws.tree.worktrees_dir().join("fix"),
            entry,
            record,
            task,
            agent: AgentConfig {
                name: "default".into(),
                instructions: String::new(),
                command: "true".into(),
                command_shared: false,
                is_claude: false,
                model: None,
                allowed_tools: Vec::new(),
                default_tools: false,
                permission_mode: "acceptEdits".into(),
                memory: false,
                timeout: std::time::Duration::from_secs(60),
                start_timeout: std::time::Duration::from_secs(60),
                output: crate::agent::config::Output::Plain,
                sandbox: Default::default(),
                max_turns: None,
                max_cost_usd: None,
            },
            settings: &settings,
            forge: &lazy,
            launcher: &mut agent,
            progress: &mut progress,
        };
        let outcome = super::run(&mut task_run).expect("publish");
        let record = task_run.record;
        (fx, outcome, record)
    }

    fn settings() -> Settings {
        Settings {
            keep: false,
            no_pr: false,
            forge_env: Fixture::forge_env(),
        }
    }

    #[test]
    fn pushes_then_opens_the_pull_request_with_the_task_as_its_text() {
        let forge = Arc::new(FakeForge::default());
        let (_fx, outcome, record) = publish_with(&forge, settings());
        assert_eq!(outcome, StepOutcome::Done);
        assert_eq!(record.pushed_commit, record.commit);
        assert_eq!(record.pushed_to.as_deref(), Some("origin"));
        assert_eq!(
            record.pr_url.as_deref(),
            Some("https://github.test/octo/widgets/pull/7")
        );
        assert_eq!(forge.calls(), OPENS_ONE);
    }

    #[test]
    fn an_open_pull_request_for_the_branch_is_reused_never_duplicated() {
        let forge = Arc::new(FakeForge::default());
        let existing = PullRef {
            number: 3,
            url: "https://github.test/octo/widgets/pull/3".into(),
        };
        forge
            .open
            .lock()
            .expect("open")
            .push(("agentos/fix".into(), existing.clone()));
        let (_fx, outcome, record) = publish_with(&forge, settings());
        assert_eq!(outcome, StepOutcome::Done);
        assert_eq!(record.pr_url, Some(existing.url));
        assert_eq!(forge.calls(), ["find_open agentos/fix"]);
    }

    #[test]
    fn a_create_whose_answer_was_lost_resolves_to_the_one_it_opened() {
        let forge = Arc::new(FakeForge::default());
        forge
            .lose_create_answer
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let (_fx, outcome, record) = publish_with(&forge, settings());
        assert_eq!(outcome, StepOutcome::Done);
        assert_eq!(
            record.pr_url.as_deref(),
            Some("https://github.test/octo/widgets/pull/7")
        );
        assert_eq!(
            forge.calls(),
            [
                "find_open agentos/fix",
                "create agentos/fix -> main: Fix the README",
                "find_open agentos/fix",
                "add_labels 7 docs"
            ],
            "one pull request, found again instead of created twice"
        );
    }

    #[test]
    fn a_forge_error_fails_the_step_with_the_forge_s_words() {
        let forge = Arc::new(FakeForge::default());
        *forge.create_fails.lock().expect("lock") = Some(ForgeError {
            status: Some(500),
            message: "GitHub answered 500 when asked to open pull requests on octo/widgets".into(),
            ..ForgeError::default()
        });
        let (_fx, outcome, record) = publish_with(&forge, settings());
        assert_eq!(
            outcome,
            StepOutcome::Failed(
                "publish: GitHub answered 500 when asked to open pull requests on octo/widgets"
                    .into()
            )
        );
        assert!(record.pr_url.is_none());
    }

    #[test]
    fn without_a_token_the_branch_is_pushed_and_the_task_says_what_to_set() {
        let forge = Arc::new(FakeForge::default());
        let mut no_token = settings();
        no_token.forge_env.token = None;
        let (_fx, outcome, record) = publish_with(&forge, no_token);
        match outcome {
            StepOutcome::Failed(reason) => {
                assert!(reason.contains("no GITHUB_TOKEN or GH_TOKEN"), "{reason}");
                assert!(reason.contains("octo/widgets"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(record.pushed_commit, record.commit);
        assert!(forge.calls().is_empty());
    }

    #[test]
    fn no_pr_publishes_nothing_and_says_so() {
        let forge = Arc::new(FakeForge::default());
        let mut no_pr = settings();
        no_pr.no_pr = true;
        let (_fx, outcome, record) = publish_with(&forge, no_pr);
        assert_eq!(outcome, StepOutcome::Done);
        assert!(record.pushed_commit.is_none());
        assert_eq!(
            record.published_note.as_deref(),
            Some("not published (--no-pr): the verified branch is the output")
        );
        assert!(forge.calls().is_empty());
    }
}
