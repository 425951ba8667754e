//! The board's addresses. Pages: `/` (every repository) and
//! `/r/<repo>/task/<id>` (one task; `?attempt=N` for an earlier attempt), each
//! with its `…/events` stream; the assets built into the binary; and the
//! actions, POSTs that carry the secret and run the very operations of the
//! command line (`ops`): `/r/<repo>/task/<id>/retry`, `…/cancel`, `/r/<repo>/add`.
//! A repository is named as the board lists it and a task by its id: no path
//! from a request ever reaches the file system.
use super::guard::{self, same_secret};
use super::html::{self, message_page};
use super::task_html;
use super::task_page::Missing;
use super::{stream, Board};
use crate::error::CommandError;
use crate::ops;
use crate::task::Task;
use crate::workspace::Workspace;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

const CSS: &str = include_str!("assets/board.css");
const JS: &str = include_str!("assets/board.js");

/// Every route, behind the guard.
pub fn router(board: Arc<Board>) -> Router {
    Router::new()
        .route("/", get(board_page))
        .route("/events", get(stream::board_events))
        .route(
            "/assets/board.css",
            get(|| asset("text/css; charset=utf-8", CSS)),
        )
        .route(
            "/assets/board.js",
            get(|| asset("text/javascript; charset=utf-8", JS)),
        )
        .route("/r/{repo}/task/{id}", get(task_page))
        .route("/r/{repo}/task/{id}/events", get(stream::task_events))
        .route("/r/{repo}/task/{id}/retry", post(retry))
        .route("/r/{repo}/task/{id}/cancel", post(cancel))
        .route("/r/{repo}/add", post(add))
        .fallback(|| async { not_found("There is nothing at this address.") })
        .layer(middleware::from_fn_with_state(board.clone(), guard::guard))
        .with_state(board)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn not_found(message: &str) -> Response {
    Answer::NotFound(message.to_string()).into_response()
}

/// Why a request got no page or its action was not done.
enum Answer {
    /// 403: the secret is missing or wrong.
    Refused(&'static str),
    /// 400: what was asked for is not a task id.
    NotAnId,
    /// 404.
    NotFound(String),
    /// The operation refused (409) or could not be done (500), with its hints.
    Failed(CommandError),
    /// The board itself failed.
    Crashed(String),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Refused(why) => guard::refused(why),
            Answer::NotAnId => (
                StatusCode::BAD_REQUEST,
                message_page(
                    "Refused",
                    "That is not a task id: ids are lower-case letters, digits, `.`, `_` and `-`, found only in the state folders.",
                    &[],
                ),
            )
                .into_response(),
            Answer::NotFound(message) => {
                (StatusCode::NOT_FOUND, message_page("Not found", &message, &[])).into_response()
            }
            Answer::Failed(err) => {
                let status = match err.kind {
                    crate::error::ErrorKind::Environment => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::CONFLICT,
                };
                (status, message_page("Not done", &err.message, &err.hints)).into_response()
            }
            Answer::Crashed(message) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                message_page("Error", &message, &[]),
            )
                .into_response(),
        }
    }
}

const NO_REPO: &str = "The board shows no repository of that name.";

/// Run `f` off the runtime's thread (it reads files, or runs an operation).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Answer> + Send + 'static,
) -> Result<T, Answer> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Answer::Crashed(format!("the board failed: {e}")))?
}

async fn board_page(State(board): State<Arc<Board>>) -> Result<Response, Answer> {
    blocking(move || {
        let gen = board.live.borrow().code();
        let sections = board.sections();
        let events = format!("/events?gen={gen}");
        Ok(html::board_page(&board.ctx(), &sections, &events).into_response())
    })
    .await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Attempt {
    attempt: Option<u32>,
}

async fn task_page(
    State(board): State<Arc<Board>>,
    Path((repo, id)): Path<(String, String)>,
    Query(q): Query<Attempt>,
) -> Result<Response, Answer> {
    blocking(move || {
        let (_, tree) = board.repo(&repo).ok_or(Answer::NotFound(NO_REPO.into()))?;
        let gen = board.live.borrow().code();
        let page = board
            .task(&tree, &id, q.attempt, true)
            .map_err(|m| match m {
                Missing::NotAnId => Answer::NotAnId,
                Missing::NoSuchTask => Answer::NotFound(
                    "No task has that id in todo/, doing/, done/ or failed/.".into(),
                ),
            })?;
        let events = format!(
            "{}/events?gen={gen}&attempt={}&offset={}&latest={}",
            html::task_href(&repo, &id),
            page.attempt.unwrap_or(0),
            page.log.as_ref().map_or(0, |l| l.end),
            page.shows_latest_attempt() || page.attempt.is_none()
        );
        Ok(task_html::page(&board.ctx(), &repo, &page, &events).into_response())
    })
    .await
}

/// The fields every action's form carries.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ActionForm {
    token: String,
    /// `task`: back to the task's page; else the board.
    back: String,
}

/// The fields of a new task.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct AddForm {
    token: String,
    title: String,
    /// One per line (or separated by commas).
    targets: String,
    body: String,
}

/// The repository's workspace for an action, when the secret is right.
fn authorise(board: &Board, token: &str, repo: &str) -> Result<Workspace, Answer> {
    if !same_secret(token, &board.secret) {
        return Err(Answer::Refused(
            "an action needs the board's secret in its form",
        ));
    }
    let (_, tree) = board.repo(repo).ok_or(Answer::NotFound(NO_REPO.into()))?;
    Workspace::discover(&tree.repo_root).map_err(|e| Answer::Failed(e.into()))
}

/// Run one action on a task through `ops`, then send the browser `back`.
async fn on_task(
    board: Arc<Board>,
    repo: String,
    id: String,
    form: ActionForm,
    op: fn(&Workspace, &str) -> Result<(), CommandError>,
) -> Result<Response, Answer> {
    let back = if form.back == "task" {
        html::task_href(&repo, &id)
    } else {
        "/".to_string()
    };
    blocking(move || {
        let ws = authorise(&board, &form.token, &repo)?;
        op(&ws, &id).map_err(Answer::Failed)
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

async fn retry(
    State(board): State<Arc<Board>>,
    Path((repo, id)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, Answer> {
    on_task(board, repo, id, form, |ws, id| Ok(ops::retry(ws, id)?)).await
}

async fn cancel(
    State(board): State<Arc<Board>>,
    Path((repo, id)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, Answer> {
    on_task(board, repo, id, form, |ws, id| {
        ops::cancel(ws, id)?;
        Ok(())
    })
    .await
}

async fn add(
    State(board): State<Arc<Board>>,
    Path(repo): Path<String>,
    Form(form): Form<AddForm>,
) -> Result<Response, Answer> {
    blocking(move || {
        let ws = authorise(&board, &form.token, &repo)?;
        let task = Task {
            title: form.title.trim().to_string(),
            targets: form
                .targets
                .split(['\n', ','])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            body: ops::body_text(form.body.replace("\r\n", "\n")),
            ..Task::default()
        };
        let new = ops::NewTask {
            task,
            ..ops::NewTask::default()
        };
        ops::add(&ws, new).map_err(|e| Answer::Failed(e.into()))
    })
    .await?;
    Ok(Redirect::to("/").into_response())
}
