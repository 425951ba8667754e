//! How tasks are summarised for `list`, `show` and `status` (text and JSON).
use crate::clock::Timestamp;
use crate::queue::State;
use crate::queue::{self, Entry, Record};
use crate::schedule::deps::{self, Hold, Verdict};
use crate::schedule::pause;
use crate::task::{self, Task};
use crate::workspace::Workspace;
use serde::Serialize;
use std::fs;

/// One task as the commands show it.
#[derive(Debug, Serialize)]
pub struct TaskView {
    pub id: String,
    pub state: State,
    /// The file, relative to the repository's top folder.
    pub file: String,
    pub title: Option<String>,
    pub agent: Option<String>,
    pub priority: i64,
    pub targets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enqueued: Option<Timestamp>,
    /// Tasks that must be done first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// The dependency whose branch it starts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacked_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// Why a queued task does not run yet (waiting on, or blocked by, a dependency).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
    /// Why the task cannot run (todo/) or failed (failed/).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a task with a pull request followed: what it waits for, in words
    /// (`waiting for review`, `round 2 of 3 answering …`, `merged by @octo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_state: Option<String>,
    /// Boxed: a record is large, and `list --json` holds thousands of views.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Box<Record>>,
    #[serde(skip)]
    pub body: String,
}

impl TaskView {
    fn from_task(ctx: &Workspace, entry: &Entry, task: Task, agent: Option<String>) -> TaskView {
        let stacked_on = task::stacks_on(&task).map(str::to_string);
        TaskView {
            stacked_on,
            id: entry.id.clone(),
            state: entry.state,
            file: ctx.rel(&entry.path).into_owned(),
            title: Some(task.title),
            agent,
            priority: task.priority,
            targets: task.targets,
            base: task.base,
            base_branch: task.base_branch,
            verify: task.verify,
            timeout: task.timeout,
            enqueued: task.enqueued,
            after: task.after,
            max_turns: task.max_turns,
            max_cost_usd: task.max_cost_usd.map(|usd| usd.0),
            hold: None,
            reason: None,
            review_state: None,
            record: None,
            body: task.body,
        }
    }

    fn unreadable(ctx: &Workspace, entry: &Entry, reason: String) -> TaskView {
        TaskView {
            id: entry.id.clone(),
            state: entry.state,
            file: ctx.rel(&entry.path).into_owned(),
            title: None,
            agent: entry.folder_agent.clone(),
            priority: 0,
            targets: Vec::new(),
            base: None,
            base_branch: None,
            verify: Vec::new(),
            timeout: None,
            enqueued: None,
            after: Vec::new(),
            stacked_on: None,
            max_turns: None,
            max_cost_usd: None,
            hold: None,
            reason: Some(reason),
            review_state: None,
            record: None,
            body: String::new(),
        }
    }

    /// The first line of the reason, for one-line listings.
    pub fn short_reason(&self) -> Option<&str> {
        self.reason.as_deref().and_then(|r| r.lines().next())
    }
}

/// The todo/ queue in dispatch order, then the files that cannot run.
pub fn todo_views(ctx: &Workspace) -> std::io::Result<Vec<TaskView>> {
    Ok(todo_views_lazily(ctx)?.collect())
}

/// [`todo_views`], each view made when it is asked for (the queue is read first).
pub fn todo_views_lazily(ctx: &Workspace) -> std::io::Result<impl Iterator<Item = TaskView> + '_> {
    let ins = queue::inspect_todo(&ctx.tree)?;
    let ready = pause::front_first(&ctx.tree, ins.ready, |r| r.entry.id.as_str());
    let verdicts = deps::verdicts(&ctx.tree, &ready)?;
    let queued = ready.into_iter().zip(verdicts).map(move |(r, verdict)| {
        let mut view = TaskView::from_task(ctx, &r.entry, *r.task, Some(r.agent));
        match verdict {
            Verdict::Runnable => {}
            Verdict::Held(hold) => view.hold = Some(hold),
            Verdict::Never(problem) => view.reason = Some(problem.to_string()),
        }
        view
    });
    let invalid = ins
        .invalid
        .into_iter()
        .map(move |(entry, err)| TaskView::unreadable(ctx, &entry, err.problem.to_string()));
    Ok(queued.chain(invalid))
}

/// A task in doing/, done/ or failed/ with its record and reason.
pub fn settled_view(ctx: &Workspace, entry: &Entry) -> TaskView {
    let record = queue::read_record(&entry.record_path()).ok().flatten();
    let reason = fs::read_to_string(entry.reason_path())
        .ok()
        .map(|r| r.trim_end().to_string());
    let loaded = if entry.state == State::Done {
        task::load_finished(&entry.path)
    } else {
        task::load(&entry.path)
    };
    let mut view = match loaded {
        Ok(task) => {
            let agent = record
                .as_ref()
                .map(|r| r.agent.clone())
                .or(task.agent.clone());
            TaskView::from_task(ctx, entry, task, agent)
        }
        Err(err) => TaskView::unreadable(ctx, entry, err.problem.to_string()),
    };
    if reason.is_some() {
        view.reason = reason;
    }
    view.review_state = record
        .as_ref()
        .and_then(|r| r.review.as_ref())
        .map(|r| r.phase.describe());
    view.record = record.map(Box::new);
    view
}

/// The tasks in one state, in the order `list` shows them.
pub fn views(ctx: &Workspace, state: State) -> std::io::Result<Vec<TaskView>> {
    Ok(views_lazily(ctx, state)?.collect())
}

/// [`views`], each made when it is asked for (todo/ can hold thousands).
pub fn views_lazily(
    ctx: &Workspace,
    state: State,
) -> std::io::Result<Box<dyn Iterator<Item = TaskView> + '_>> {
    if state == State::Todo {
        return Ok(Box::new(todo_views_lazily(ctx)?));
    }
    let mut entries = queue::entries(&ctx.tree, state)?;
    if state != State::Doing {
        // Most recently finished first is what a person looks for.
        entries.sort_by_key(|e| {
            std::cmp::Reverse(fs::metadata(&e.path).and_then(|m| m.modified()).ok())
        });
    }
    Ok(Box::new(
        entries.into_iter().map(move |e| settled_view(ctx, &e)),
    ))
}
