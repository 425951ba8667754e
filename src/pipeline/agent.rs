//! The agent step: decide how the agent runs (inside the kernel's write boundary,
//! or without it on purpose, or not at all), make its private folder, run it in
//! the worktree through the dispatcher's [`Launcher`], and record its process
//! group, its actions, where its writes landed and what the sandbox refused, as
//! they happen. The refs are read before and after: a ref the agent moved fails
//! the task, and so do permissions it changed outside (put back: see
//! modes_guard.rs). An earlier attempt's agent is ended first, and the worktree reset
//! to the base.
use super::boundary::{self, Boundary, Request};
use super::guards::Guarded;
use super::{StepOutcome, TaskRun, CANCELLED};
use crate::agent::attempt::AttemptDir;
use crate::agent::caps::{self, Caps};
use crate::agent::denials;
use crate::agent::runner::{Launch, Observer, Outcome};
use crate::agent::sandbox::{self, Plan};
use crate::friction;
use crate::path_error::PathError;
use crate::progress::Progress;
use crate::queue::{self, Entry, Landing, QueueError, Record, SandboxDenial, Tree};
use crate::schedule::{limits, spend};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// At most this many refused writes are kept per attempt.
const MAX_DENIALS: usize = 50;

pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    // The task's caps, else its agent's.
    run.agent.max_turns = run.task.max_turns.or(run.agent.max_turns);
    run.agent.max_cost_usd = run
        .task
        .max_cost_usd
        .map(|usd| usd.0)
        .or(run.agent.max_cost_usd);
    let base = match run.base() {
        Ok(base) => base,
        Err(failed) => return Ok(failed),
    };
    let id = run.entry.id.clone();
    // An earlier attempt started an agent: make sure it is gone, and start over
    // from a worktree reset to the base commit.
    let ready = if end_earlier(run) {
        run.record.agent_writes.clear();
        run.record.agent_landings.clear();
        run.record.sandbox_denials.clear();
        run.ws
            .repo
            .fresh_worktree(&id, &base, &run.worktree, crate::git::Branch::Reset)
    } else {
        run.ws
            .repo
            .ensure_worktree(&id, &base, &run.worktree)
            .map(|_| ())
    };
    if let Err(e) = ready {
        return Ok(StepOutcome::Failed(format!("worktree: {e}")));
    }
    let prompt = crate::agent::prompt::compose(
        &run.agent.instructions,
        &run.task,
        &id,
        &base,
        &run.worktree,
        run.agent.memory && run.agent.is_claude,
    );
    launch(run, &prompt)
}

/// End the agent an earlier attempt started, if its process group is still
/// there, and remove that attempt's private folder. True when an earlier
/// attempt had started an agent (its worktree must start over).
pub fn end_earlier(run: &mut TaskRun) -> bool {
    let id = run.entry.id.clone();
    let started = match run.record.agent_pgid.take() {
        Some(pgid) => {
            if crate::agent::process::end_stray_group(pgid, &id) {
                run.say(&format!(
                    "ended the agent of an earlier attempt (process group {pgid})"
                ));
            }
            true
        }
        None => false,
    };
    if let Some(old) = run.record.attempt_dir.take() {
        match AttemptDir::recorded(&id, &old) {
            Some(dir) => {
                for problem in dir.finish() {
                    tracing::warn!("{problem}");
                }
            }
            None => run.say(&format!(
                "left {} alone: the record names it as the attempt folder, but it is not one this dispatcher makes",
                crate::term::untrusted(&old.display().to_string())
            )),
        }
    }
    started
}

/// Run the agent on `prompt` in the task's worktree as it is: decide how it
/// runs (inside the sandbox, without it on purpose, or not at all), make its
/// private folder and boundary, and record what it did. The revision rounds of
/// an open pull request run their agent through here too.
pub fn launch(run: &mut TaskRun, prompt: &str) -> Result<StepOutcome, QueueError> {
    let id = run.entry.id.clone();
    let plan = sandbox::plan(&run.agent, &sandbox::support());
    run.record.sandbox = Some(plan.describe());
    if let Plan::Refused { reason } = plan {
        return Ok(StepOutcome::Failed(reason));
    }
    if let Plan::Unsandboxed { why } = &plan {
        run.say(&format!("runs unsandboxed: {why}"));
    }
    // The memory server writes the vault from the dispatcher's own process
    // (memory/http.rs): the agent's boundary does not include it.
    let vault = None;
    let boundary = match boundary::prepare(&Request {
        repo: &run.ws.repo,
        task_id: &id,
        worktree: &run.worktree,
        agent: &run.agent.name,
        settings: &run.agent.sandbox,
        plan: &plan,
        claude: run.agent.is_claude,
        vault,
    }) {
        Ok(boundary) => boundary,
        Err(e) => return Ok(StepOutcome::Failed(e.to_string())),
    };
    for warning in &boundary.warnings {
        run.say(warning);
    }
    run.record.attempt_dir = Some(boundary.attempt.path().to_path_buf());
    run.save()?;
    let outcome = run_guarded(run, prompt, &plan, &boundary);
    for problem in boundary.attempt.finish() {
        run.say(&problem);
    }
    run.record.attempt_dir = None;
    note_denials(run);
    outcome
}

/// Run the agent between two readings of the refs.
fn run_guarded(
    run: &mut TaskRun,
    prompt: &str,
    plan: &Plan,
    boundary: &Boundary,
) -> Result<StepOutcome, QueueError> {
    let id = run.entry.id.clone();
    let run_dir = run.run_dir()?;
    let prompt_path = run_dir.join("prompt.md");
    std::fs::write(&prompt_path, prompt).map_err(PathError::at("write", &prompt_path))?;
    let timeout = match &run.task.timeout {
        Some(t) => crate::task::parse_duration(t).unwrap_or(run.agent.timeout),
        None => run.agent.timeout,
    };
    let guarded = match Guarded::before(run.ws, &id, plan.is_sandboxed(), "agent") {
        Ok(guarded) => guarded,
        Err(failed) => return Ok(failed),
    };
    let launch = Launch {
        config: &run.agent,
        task_id: &id,
        task_file: &run.entry.path,
        repo_root: &run.ws.tree.repo_root,
        worktree: &run.worktree,
        prompt_file: &prompt_path,
        run_dir: &run_dir,
        timeout,
        confinement: boundary.confinement.clone(),
        env: &boundary.env,
    };
    run.progress.agent_running(&id);
    let worktree_root = run
        .worktree
        .canonicalize()
        .unwrap_or_else(|_| run.worktree.clone());
    let outcome = {
        let mut observer = RecordingObserver {
            tree: &run.ws.tree,
            entry: &run.entry,
            record: &mut run.record,
            progress: &*run.progress,
            worktree: &run.worktree,
            worktree_root: &worktree_root,
            writable: plan
                .is_sandboxed()
                .then_some(boundary.confinement.writable.as_slice()),
        };
        run.launcher.launch(&launch, &mut observer)
    };
    run.progress.agent_stopped();
    run.record.agent_pgid = None;
    note_spend(run, &outcome);
    if let Some(failed) = guarded.judge("the agent", "agent") {
        return Ok(failed);
    }
    Ok(match outcome {
        Outcome::Succeeded(result) => {
            run.say(&format!("agent finished ({})", result.describe()));
            run.record.agent_result = Some(result);
            StepOutcome::Done
        }
        Outcome::Failed { reason, result } => {
            let caps = Caps {
                max_turns: run.agent.max_turns,
                max_cost_usd: run.agent.max_cost_usd,
            };
            let at_cap = result.as_ref().and_then(|r| caps::reason(r, caps));
            run.record.agent_result = result;
            if run.cancel_requested() {
                StepOutcome::Failed(CANCELLED.into())
            } else if let Some(reason) = at_cap {
                StepOutcome::Failed(reason)
            } else if let Some(limit) = limits::from_stream(&run_dir.join("agent.jsonl")) {
                // Not the task's fault: it waits for the limit to reset.
                StepOutcome::Paused(limit)
            } else {
                StepOutcome::Failed(reason)
            }
        }
        Outcome::Interrupted(sig) => StepOutcome::Interrupted(sig),
    })
}

/// What the agent spent, into the spend ledger (whatever the outcome).
fn note_spend(run: &TaskRun, outcome: &Outcome) {
    let result = match outcome {
        Outcome::Succeeded(result) => Some(result),
        Outcome::Failed { result, .. } => result.as_ref(),
        Outcome::Interrupted(_) => None,
    };
    if let Some(usd) = result.and_then(|r| r.total_cost_usd) {
        let spent = spend::Spent {
            at: crate::clock::now(),
            task: run.entry.id.clone(),
            attempt: run.record.attempt,
            usd,
        };
        spend::note(&run.ws.tree, &spent);
    }
}

/// Each write the sandbox refused, as friction (`sandbox-denied`).
fn note_denials(run: &TaskRun) {
    for denial in &run.record.sandbox_denials {
        friction::note(
            &run.ws.tree,
            friction::Event::new(
                "sandbox-denied",
                "agent",
                &format!(
                    "the sandbox refused a write to `{}`: {}",
                    denial.path, denial.line
                ),
            )
            .task(&run.entry.id, run.record.attempt),
        );
    }
}

/// Records the agent's process group the moment it exists, what it writes (and
/// where each write lands), and the writes the sandbox refused it.
struct RecordingObserver<'a> {
    tree: &'a Tree,
    entry: &'a Entry,
    record: &'a mut Record,
    progress: &'a Progress,
    worktree: &'a Path,
    worktree_root: &'a Path,
    /// The writable set, when the agent runs inside the sandbox.
    writable: Option<&'a [PathBuf]>,
}

impl Observer for RecordingObserver<'_> {
    fn spawned(&mut self, pgid: i32) {
        self.record.agent_pgid = Some(pgid);
        self.save();
    }
    fn started(&mut self, session_id: Option<&str>) {
        crate::fault::point("agent-started");
        let session = session_id
            .map(|s| format!(" (session {s})"))
            .unwrap_or_default();
        tracing::info!(session = session_id, "agent started");
        self.progress.action(&format!("agent started{session}"));
    }
    fn silent(&mut self, for_: Duration) {
        friction::note(
            self.tree,
            friction::Event::new(
                "idle",
                "agent",
                &format!("the agent was silent for {} s", for_.as_secs()),
            )
            .task(&self.entry.id, self.record.attempt),
        );
    }
    fn action(&mut self, summary: &str, writes: Option<&str>) {
        tracing::debug!(action = summary, "agent action");
        self.progress.action(summary);
        if let Some(path) = writes {
            if !self.record.agent_writes.iter().any(|p| p == path) {
                self.record.agent_writes.push(path.to_string());
            }
            // Resolved now, while a link it goes through still exists.
            if let Some(landing) = landing(path, self.worktree, self.worktree_root) {
                if !self.record.agent_landings.contains(&landing) {
                    self.record.agent_landings.push(landing);
                    // Evidence, kept at once.
                    self.save();
                }
            }
        }
    }
    fn tool_result(&mut self, text: &str) {
        let Some(writable) = self.writable else {
            return;
        };
        for refusal in denials::refusals(text) {
            for named in &refusal.paths {
                let path = denials::resolve(named, self.worktree);
                let shown = path.display().to_string();
                let known = self.record.sandbox_denials.iter().any(|d| d.path == shown);
                if known
                    || self.record.sandbox_denials.len() >= MAX_DENIALS
                    || !denials::refused_by_sandbox(&path, writable)
                {
                    continue;
                }
                self.progress
                    .action(&format!("the sandbox refused a write to {shown}"));
                self.record.sandbox_denials.push(SandboxDenial {
                    path: shown,
                    line: refusal.line.clone(),
                });
            }
        }
    }
}

impl RecordingObserver<'_> {
    /// Write the record now (the process group, a write through a link).
    fn save(&self) {
        if let Err(e) = queue::write_record(&self.entry.record_path(), self.record) {
            tracing::warn!(
                "cannot write the record {}: {e}",
                self.entry.record_path().display()
            );
        }
    }
}

/// Where a write to `named` lands when it goes through a symbolic link (None
/// when it lands where its name says).
fn landing(named: &str, worktree: &Path, root: &Path) -> Option<Landing> {
    let landed = denials::resolve(named, worktree);
    let named_path = Path::new(named);
    let lexical = if named_path.is_absolute() {
        named_path.to_path_buf()
    } else {
        worktree.join(named_path)
    };
    let rel = lexical
        .strip_prefix(worktree)
        .or_else(|_| lexical.strip_prefix(root))
        .ok()?;
    if rel
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return None; // `..` leaves the worktree by name: rule (d) sees it as is
    }
    if landed == root.join(rel) {
        return None;
    }
    let mut through = None;
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        if let Ok(target) = std::fs::read_link(&at) {
            let link = at.strip_prefix(root).unwrap_or(&at).display().to_string();
            through = Some(format!("{link} → {}", target.display()));
            break;
        }
    }
    Some(Landing {
        named: named.to_string(),
        landed: landed.display().to_string(),
        through,
    })
}
