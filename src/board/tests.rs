//! The routes, in process, over a real repository (the pipeline's fixture:
//! `fix` queued), with the clock fixed: what each page shows, what the guard
//! refuses, what the actions do, and the first update a stream sends.
use super::live::{self, Generation};
use super::{routes, Board, Repo};
use crate::clock::Timestamp;
use crate::pipeline::fakes::Fixture;
use crate::queue::{self, State};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

const CLAIMED: &str = "2026-11-20T12:00:00Z";

/// The board's "now": 65 s after `fix` was claimed.
fn now() -> Timestamp {
    Timestamp::parse("2026-11-20T12:01:05Z").expect("time")
}

struct Setup {
    fixture: Fixture,
    board: Arc<Board>,
    _bump: tokio::sync::watch::Sender<Generation>,
}

fn setup() -> Setup {
    let fixture = Fixture::new();
    let (bump, rx) = live::channel();
    let board = Arc::new(Board::new(
        vec![Repo::here(&fixture.ws)],
        None,
        4242,
        now,
        rx,
    ));
    Setup {
        fixture,
        board,
        _bump: bump,
    }
}

impl Setup {
    fn cookie(&self) -> String {
        format!("agentos-board-4242={}", self.board.secret)
    }

    /// Send a request (Host set to the board's), return status, head and body.
    async fn send(
        &self,
        req: axum::http::request::Builder,
        body: &str,
    ) -> (StatusCode, String, String) {
        let req = req
            .header("host", "127.0.0.1:4242")
            .body(Body::from(body.to_string()))
            .expect("request");
        let res = routes::router(self.board.clone())
            .oneshot(req)
            .await
            .expect("answer");
        let status = res.status();
        let head = format!("{:?}", res.headers());
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (status, head, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn get(&self, path: &str) -> (StatusCode, String, String) {
        let req = Request::get(path).header("cookie", self.cookie());
        self.send(req, "").await
    }

    async fn post(&self, path: &str, body: &str) -> (StatusCode, String, String) {
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "http://127.0.0.1:4242");
        self.send(req, body).await
    }

    /// Open an event stream; its body, to read frame by frame.
    async fn stream(&self, path: &str) -> Body {
        let req = Request::get(path)
            .header("host", "127.0.0.1:4242")
            .header("cookie", self.cookie())
            .body(Body::empty())
            .expect("request");
        let res = routes::router(self.board.clone())
            .oneshot(req)
            .await
            .expect("answer");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        res.into_body()
    }

    /// The repository's name on the board.
    fn name(&self) -> String {
        self.board.repos()[0].name.clone()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn the_board_lists_each_state_and_refuses_without_the_secret() {
    runtime().block_on(async {
        let s = setup();
        let (status, _, _) = s.send(Request::get("/"), "").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let wrong_host = Request::get("/").header("cookie", s.cookie());
        let req = wrong_host
            .header("host", "evil.example:4242")
            .body(Body::empty())
            .expect("req");
        let res = routes::router(s.board.clone())
            .oneshot(req)
            .await
            .expect("answer");
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "another host is refused"
        );
        let (status, head, _) = s
            .send(Request::get(format!("/?token={}&x=1", s.board.secret)), "")
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(head.contains("\"location\": \"/?x=1\""), "{head}");
        let (status, head, body) = s.get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(head.contains("frame-ancestors 'none'"), "{head}");
        for state in State::ALL {
            assert!(
                body.contains(&format!("data-state=\"{}\"", state.name())),
                "{state:?}"
            );
        }
        let todo = &body[body.find("data-state=\"todo\"").expect("todo")..];
        assert!(
            todo.starts_with("data-state=\"todo\"><h3>To do <span class=\"count\">1</span>"),
            "{todo}"
        );
        assert!(body.contains("data-id=\"fix\""));
        assert!(body.contains("no dispatcher running"));
    });
}

#[test]
fn a_running_task_shows_its_step_and_elapsed_time_by_the_boards_clock() {
    runtime().block_on(async {
        let s = setup();
        let (entry, mut record) = s.fixture.claim();
        record.claimed_at = Timestamp::parse(CLAIMED);
        queue::write_record(&entry.record_path(), &record).expect("record");
        let (_, _, body) = s.get("/").await;
        let doing = &body[body.find("data-state=\"doing\"").expect("doing")..];
        assert!(
            doing.contains("<span class=\"step\">preflight</span> · <span data-elapsed-ms=\"65000\">1m5s</span>"),
            "{doing}"
        );
        let (status, _, page) = s.get(&format!("/r/{}/task/fix", s.name())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("at step <span class=\"step\">preflight</span> · attempt 1"), "{page}");
        assert!(page.contains("<li class=\"current\"><span class=\"step\">preflight</span> in progress</li>"), "{page}");
        assert!(page.contains("<p>The install line is wrong.</p>"), "{page}");
    });
}

#[test]
fn task_pages_take_ids_only() {
    runtime().block_on(async {
        let s = setup();
        let repo = s.name();
        for (path, want) in [
            (
                format!("/r/{repo}/task/..%2F..%2Fetc%2Fpasswd"),
                StatusCode::BAD_REQUEST,
            ),
            (format!("/r/{repo}/task/%2e%2e"), StatusCode::BAD_REQUEST),
            (format!("/r/{repo}/task/nope"), StatusCode::NOT_FOUND),
            ("/r/nope/task/fix".to_string(), StatusCode::NOT_FOUND),
            (
                format!("/r/{repo}/task/../../etc/passwd"),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (status, _, body) = s.get(&path).await;
            assert_eq!(status, want, "{path}");
            assert!(!body.contains("root:"), "{path}");
        }
    });
}

#[test]
fn actions_need_the_secret_and_do_what_the_command_line_does() {
    runtime().block_on(async {
        let s = setup();
        let repo = s.name();
        let tree = &s.fixture.ws.tree;
        let cancel = format!("/r/{repo}/task/fix/cancel");
        let (status, _, _) = s.post(&cancel, "back=task").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(tree.state_dir(State::Todo).join("fix.md").exists());
        let token = format!("token={}&back=task", s.board.secret);
        let (status, head, _) = s.post(&cancel, &token).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            head.contains(&format!("\"location\": \"/r/{repo}/task/fix\"")),
            "{head}"
        );
        assert!(tree.state_dir(State::Failed).join("fix.md").exists());
        let (status, _, body) = s.post(&cancel, &token).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("already finished (failed)"), "{body}");
        let (status, _, _) = s.post(&format!("/r/{repo}/task/fix/retry"), &token).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(tree.state_dir(State::Todo).join("fix.md").exists());
        let add = format!("token={}&title=New&targets=README.md", s.board.secret);
        let (status, _, _) = s.post(&format!("/r/{repo}/add"), &add).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(tree.state_dir(State::Todo).join("new.md").exists());
    });
}

#[test]
fn a_stream_sends_the_board_when_the_page_is_behind_and_waits_when_it_is_current() {
    runtime().block_on(async {
        let s = setup();
        let mut body = s.stream("/events?gen=stale").await;
        let frame = body.frame().await.expect("a frame").expect("data");
        let text = String::from_utf8_lossy(frame.data_ref().expect("data")).into_owned();
        assert!(
            text.starts_with(&format!("event: swap\ndata: live-{}\n", s.name())),
            "{text}"
        );
        assert!(text.contains("data-id=\"fix\""), "{text}");
        // Current: nothing comes until something changes.
        let current = s.board.live.borrow().code();
        let mut body = s.stream(&format!("/events?gen={current}")).await;
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(200), body.frame()).await;
        assert!(waited.is_err(), "sent something with nothing changed");
        s._bump.send_modify(|g| g.state += 1);
        let frame = body.frame().await.expect("a frame").expect("data");
        assert!(frame.data_ref().is_some());
    });
}

#[test]
fn dependencies_mark_their_cards_and_a_pause_is_shown() {
    runtime().block_on(async {
        let s = setup();
        let todo = s.fixture.ws.tree.state_dir(State::Todo);
        let task = |after: &str| {
            format!("+++\ntitle = \"t\"\ntargets = [\"README.md\"]\nafter = [{after}]\n+++\n")
        };
        std::fs::write(todo.join("api.md"), task("\"fix\"")).expect("write");
        std::fs::write(todo.join("lost.md"), task("\"nowhere\"")).expect("write");
        let limit = crate::schedule::limits::Limit {
            kind: crate::schedule::limits::LimitKind::UsageLimit,
            resets_at: Some(Timestamp::parse("2026-11-20T15:00:00Z").expect("time")),
            message: "You've hit your 5-hour limit".into(),
        };
        crate::schedule::pause::pause_for(&s.fixture.ws.tree, &limit, None, now()).expect("pause");
        let (_, _, body) = s.get("/").await;
        let card = |id: &str| {
            let at = body.find(&format!("data-id=\"{id}\"")).expect(id);
            body[at..]
                .split("</article>")
                .next()
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            card("api").contains("<span class=\"mark waiting\">waiting on fix</span>"),
            "{}",
            card("api")
        );
        assert!(card("lost").contains("never runs"), "{}", card("lost"));
        assert!(
            card("lost").contains("`nowhere` is no task"),
            "{}",
            card("lost")
        );
        assert!(
            body.contains("<span class=\"paused\">queue paused until "),
            "{body}"
        );
    });
}
