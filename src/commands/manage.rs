//! `retry`, `cancel` and `clean`: managing tasks and their worktrees.
use super::Context;
use crate::agent::process;
use crate::dispatch::cancel_marker;
use crate::durable;
use crate::error::{io_error, CmdResult, CommandError};
use crate::layout::State;
use crate::lock::{DispatcherLock, LockError};
use crate::queue;
use crate::task;
use crate::timestamp::Timestamp;
use std::path::Path;
use std::time::{Duration, Instant};

/// Queue a failed task again: move it from failed/ back to todo/ (edit it in failed/
/// first if it was invalid). Its earlier record is kept in runs/<id>/.
#[derive(clap::Args, Debug)]
pub struct RetryArgs {
    /// The task id.
    pub id: String,
}

/// Cancel a task: a queued one moves to failed/; a running one has its agent
/// stopped (its whole process group) and fails with "cancelled".
#[derive(clap::Args, Debug)]
pub struct CancelArgs {
    /// The task id.
    pub id: String,
}

/// Remove worktrees of finished tasks (and the pool of recycled ones kept for the
/// next tasks), prune git's records of worktrees that are gone, and delete local
/// agentos/<id> branches of done tasks whose work is safe elsewhere (pushed to a
/// remote, or merged into another branch). Never touches a running task, or a
/// branch whose work exists nowhere else.
#[derive(clap::Args, Debug)]
pub struct CleanArgs {
    /// Say what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn retry(dir: &Path, args: RetryArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let entry = ctx.find_task(&args.id)?;
    match entry.state {
        State::Failed => {}
        State::Todo => {
            return Err(CommandError::invalid(format!(
                "`{}` is already queued",
                args.id
            )))
        }
        State::Doing => {
            return Err(
                CommandError::invalid(format!("`{}` is running", args.id)).hint("cancel it first")
            )
        }
        State::Done => {
            return Err(CommandError::invalid(format!("`{}` is done", args.id))
                .hint("to do more, queue a new task: git agentos add …"))
        }
    }
    task::check_id(&entry.id).map_err(|p| {
        CommandError::invalid(format!("{}: {p}", ctx.rel(&entry.path))).hint(
            "this file was rejected as a copy of another task; give it a new id by renaming it",
        )
    })?;
    let todo = ctx
        .tree
        .state_dir(State::Todo)
        .join(format!("{}.md", entry.id));
    if std::fs::symlink_metadata(&todo).is_ok() {
        return Err(CommandError::invalid(format!(
            "{} already exists",
            ctx.rel(&todo)
        )));
    }
    // Keep the earlier record for the curious; the retry starts a fresh one.
    let record = entry.record_path();
    if record.exists() {
        let keep = ctx.tree.runs_dir().join(&entry.id);
        std::fs::create_dir_all(&keep).map_err(|e| io_error("create", &keep, e))?;
        let dest = keep.join(format!("record-before-retry-{}.json", Timestamp::now().0));
        durable::rename(&record, &dest).map_err(|e| io_error("move", &record, e))?;
    }
    let reason = std::fs::read_to_string(entry.reason_path()).unwrap_or_default();
    durable::rename(&entry.path, &todo).map_err(|e| io_error("move", &entry.path, e))?;
    let _ = std::fs::remove_file(entry.reason_path());
    let mut event = crate::friction::Event::new(
        "retry",
        "",
        &format!(
            "queued again after: {}",
            reason.lines().next().unwrap_or("(no reason)")
        ),
    );
    event.task = Some(entry.id.clone());
    crate::friction::note(&ctx.tree, event);
    println!("queued again: {}", entry.id);
    Ok(())
}

pub fn cancel(dir: &Path, args: CancelArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let entry = ctx.find_task(&args.id)?;
    match entry.state {
        State::Done | State::Failed => Err(CommandError::invalid(format!(
            "`{}` already finished ({})",
            args.id,
            entry.state.name()
        ))),
        State::Todo => {
            let mut record = queue::Record {
                id: entry.id.clone(),
                reason: Some("cancelled by `git agentos cancel` before it ran".into()),
                finished_at: Some(Timestamp::now()),
                ..Default::default()
            };
            record.agent = entry
                .folder_agent
                .clone()
                .unwrap_or_else(|| "default".into());
            match queue::finish(&ctx.tree, &entry, &record, State::Failed, None) {
                Ok(_) => {
                    println!("cancelled: {} (moved to failed/)", entry.id);
                    Ok(())
                }
                // Claimed in the meantime: cancel it as a running task.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    cancel_running(&ctx, &args.id)
                }
                Err(e) => Err(io_error("move", &entry.path, e)),
            }
        }
        State::Doing => cancel_running(&ctx, &args.id),
    }
}

fn cancel_running(ctx: &Context, id: &str) -> CmdResult {
    let entry = ctx.find_task(id)?;
    durable::write(&cancel_marker(&entry), b"cancelled\n")
        .map_err(|e| io_error("write", &cancel_marker(&entry), e))?;
    match DispatcherLock::acquire(&ctx.tree, "cancel") {
        // No dispatcher: nobody runs it; fail it here.
        Ok(_lock) => {
            let mut record = queue::read_record(&entry.record_path())
                .ok()
                .flatten()
                .unwrap_or_default();
            if let Some(pgid) = record.agent_pgid.take() {
                process::end_stray_group(pgid, id);
            }
            record.reason = Some("cancelled by `git agentos cancel`".into());
            record.finished_at = Some(Timestamp::now());
            queue::finish(&ctx.tree, &entry, &record, State::Failed, None)
                .map_err(|e| io_error("move", &entry.path, e))?;
            let _ = std::fs::remove_file(cancel_marker(&entry));
            println!("cancelled: {id} (moved to failed/)");
            Ok(())
        }
        // A dispatcher runs it: stop the agent; the dispatcher fails the task.
        Err(LockError::Held(_)) => {
            let record = queue::read_record(&entry.record_path())
                .ok()
                .flatten()
                .unwrap_or_default();
            if let Some(pgid) = record.agent_pgid {
                if process::processes_in_group(pgid).is_empty() {
                    // Between steps: the dispatcher sees the request at the next step.
                } else {
                    process::terminate_group_of_task(pgid, id);
                }
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while entry.path.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if entry.path.exists() {
                println!("cancel requested: {id}; the dispatcher will stop it at its next step");
            } else {
                println!("cancelled: {id} (moved to failed/)");
            }
            Ok(())
        }
        Err(LockError::Io(e)) => Err(io_error("lock", &ctx.tree.lock_path(), e)),
    }
}

pub fn clean(dir: &Path, args: CleanArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let state_of = |id: &str| queue::find(&ctx.tree, id).ok().flatten().map(|e| e.state);
    // Worktrees of tasks that are not running (a worktree only exists once its task
    // is claimed, so none of these can be about to start).
    let worktrees = ctx.tree.worktrees_dir();
    let mut names: Vec<String> = std::fs::read_dir(&worktrees)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for id in names {
        if matches!(state_of(&id), Some(State::Doing) | Some(State::Todo)) {
            continue;
        }
        let path = worktrees.join(&id);
        if !args.dry_run {
            ctx.repo.remove_worktree(&path)?;
        }
        println!("{verb} worktree {}", ctx.rel(&path));
    }
    if !args.dry_run {
        for name in ctx.repo.prune_worktrees()? {
            println!("pruned the record of missing worktree {name}");
        }
    }
    for (branch, commit) in ctx.repo.task_branches()? {
        let id = branch.trim_start_matches("agentos/");
        if state_of(id) != Some(State::Done) {
            continue;
        }
        if ctx.repo.is_pushed(&commit) || ctx.repo.is_merged_elsewhere(&branch, &commit) {
            if !args.dry_run {
                ctx.repo.delete_branch(&branch)?;
            }
            println!("{verb} branch {branch} (its work is safe elsewhere)");
        } else {
            println!("kept branch {branch}: its work is not pushed or merged anywhere (delete it with `git branch -D {branch}`)");
        }
    }
    Ok(())
}
