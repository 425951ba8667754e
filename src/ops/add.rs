//! Add: a new task checked, completed (template, base commit, base branch, the
//! time it was queued) and written into todo/ through the queue.
use crate::agent::config::AgentError;
use crate::clock::Timestamp;
use crate::git::{task_branch, GitError};
use crate::hooks::templates::{self, TemplateError};
use crate::path_error::PathError;
use crate::queue::{self, QueueError};
use crate::task::{self, Problem, Task};
use crate::workspace::Workspace;

/// A task to queue, as a person gave it.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    /// The fields given; `base` unset means the commit HEAD is on now.
    pub task: Task,
    /// Start from this template (built-in, or `.agentos/templates/<name>.md`); the
    /// task's title, body and targets fill its placeholders, its other fields win.
    pub template: Option<String>,
    /// The id to use instead of one made from the title.
    pub id: Option<String>,
    /// Whether `task.priority` was given (else a template's priority stands).
    pub priority_given: bool,
}

/// Why a task was not queued.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The task breaks a rule of task files.
    #[error("{0}")]
    Invalid(Problem),
    /// The id asked for is not an id.
    #[error("the id `{id}`: {problem}")]
    BadId { id: String, problem: Problem },
    /// The `agent` field names no agent.
    #[error("field `agent`: {0}")]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// A task description as a task file's body: ends with a newline unless empty.
pub fn body_text(mut text: String) -> String {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Queue `new` in `ws`: fill in its template, check it, resolve its base, stamp
/// the time and write it into todo/. Returns the task's id: the one asked for,
/// refused when an `agentos/<id>` branch exists, or one made from the title,
/// with -2, -3… added when a task or such a branch has it.
pub fn add(ws: &Workspace, new: NewTask) -> Result<String, AddError> {
    let mut task = match &new.template {
        Some(name) => from_template(ws, name, new.task, new.priority_given)?,
        None => new.task,
    };
    task::validate(&task).map_err(AddError::Invalid)?;
    if let Some(agent) = task.agent.as_deref() {
        crate::agent::config::check_exists(&ws.tree, agent)?;
    }
    match &task.base {
        Some(base) => {
            ws.repo.resolve(base)?;
        }
        None => {
            let (commit, branch) = ws.repo.head()?;
            task.base = Some(commit);
            task.base_branch = branch;
        }
    }
    if task.base_branch.is_none() {
        if let Some(base) = task.base.as_deref().filter(|b| ws.repo.is_local_branch(b)) {
            task.base_branch = Some(base.to_string());
        }
    }
    task.enqueued = Some(Timestamp::now());
    ws.ensure_runtime()?;
    let id = match new.id {
        // A task with dependencies takes its id now, so the cycle check knows it.
        None if !task.after.is_empty() => Some(
            queue::free_id(&ws.tree, &task.title)
                .map_err(|e| PathError::new("read", &ws.tree.dir, e))?,
        ),
        id => id,
    };
    if let Some(id) = &id {
        task::check_id(id).map_err(|problem| AddError::BadId {
            id: id.clone(),
            problem,
        })?;
        crate::schedule::check_new(&ws.tree, id, &task).map_err(AddError::Invalid)?;
    }
    match id {
        Some(id) => {
            task::check_id(&id).map_err(|problem| AddError::BadId {
                id: id.clone(),
                problem,
            })?;
            // A task never takes over a branch it did not make.
            if ws.repo.is_local_branch(&task_branch(&id)) {
                return Err(ws.repo.branch_taken(&id).into());
            }
            queue::enqueue_as(&ws.tree, &task, &id)?;
            Ok(id)
        }
        None => {
            let todo = ws.tree.state_dir(queue::State::Todo);
            let branch_exists = |id: &str| ws.repo.is_local_branch(&task_branch(id));
            queue::enqueue_new_except(&ws.tree, &task, &branch_exists)
                .map_err(|e| PathError::new("write a task into", &todo, e).into())
        }
    }
}

/// The template `name` filled in from `task`, whose targets, agent, verify
/// commands, base, timeout and (when given) priority override the template's.
fn from_template(
    ws: &Workspace,
    name: &str,
    mut task: Task,
    priority_given: bool,
) -> Result<Task, AddError> {
    let text = templates::load(&ws.tree, name)?;
    let targets = task.targets.join(", ");
    let vars = [
        ("title", task.title.as_str()),
        ("body", task.body.trim_end()),
        ("targets", targets.as_str()),
    ];
    let mut filled = templates::render(&text, name, &vars)?;
    filled.targets = task.targets.clone();
    if task.agent.is_some() {
        filled.agent = task.agent.clone();
    }
    if !task.verify.is_empty() {
        filled.verify = task.verify.clone();
    }
    filled.base = task.base.take();
    if priority_given {
        filled.priority = task.priority;
    }
    if task.timeout.is_some() {
        filled.timeout = task.timeout.clone();
    }
    Ok(filled)
}
