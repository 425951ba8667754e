//! The board: a live page of the queue, served on 127.0.0.1 with a secret in
//! its address. columns.rs and task_page.rs read the state folders (through
//! `queue`, never through a link), html.rs and task_html.rs are the templates,
//! markdown.rs renders task bodies and reports safely, chart.rs draws friction
//! as SVG, routes.rs answers requests (its actions are `ops`: the very
//! operations of `add`, `retry` and `cancel`), guard.rs checks the secret, the
//! host and the origin of each, live.rs turns file-system events into updates
//! that stream.rs pushes to open pages. A tokio runtime is started only here,
//! so no other command pays for it.
mod chart;
mod columns;
mod files;
mod guard;
mod html;
mod live;
mod markdown;
mod repos;
mod routes;
mod stream;
mod task_html;
mod task_page;
mod view;

pub use repos::{fleet, fleet_dir, Repo};

use crate::clock::Timestamp;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// The port tried first when none is given, then the next few.
pub const DEFAULT_PORT: u16 = 7800;
const PORTS_TRIED: u16 = 10;

/// Why the board could not start.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot start the board's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot watch the state folders: {0}")]
    Watch(#[from] notify::Error),
}

/// What to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// The repositories to show.
    pub repos: Vec<Repo>,
    /// With `--fleet`: the fleet folder, watched for repositories that come and go.
    pub fleet: Option<PathBuf>,
    /// The port on 127.0.0.1; None: [`DEFAULT_PORT`] or the next free one.
    pub port: Option<u16>,
}

/// The board's shared state.
pub struct Board {
    secret: String,
    port: u16,
    repos: RwLock<Vec<Repo>>,
    fleet: Option<PathBuf>,
    /// Where "now" comes from ([`crate::clock::now`]; fixed in tests).
    clock: fn() -> Timestamp,
    live: tokio::sync::watch::Receiver<live::Generation>,
    /// Each repository's friction block, and the log's size and time it is of.
    friction: Mutex<HashMap<PathBuf, (String, String)>>,
}

impl Board {
    fn new(
        repos: Vec<Repo>,
        fleet: Option<PathBuf>,
        port: u16,
        clock: fn() -> Timestamp,
        live: tokio::sync::watch::Receiver<live::Generation>,
    ) -> Board {
        Board {
            secret: new_secret(),
            port,
            repos: RwLock::new(repos),
            fleet,
            clock,
            live,
            friction: Mutex::new(HashMap::new()),
        }
    }

    /// The repositories shown now.
    pub fn repos(&self) -> Vec<Repo> {
        self.repos.read().map(|r| r.clone()).unwrap_or_default()
    }

    /// The address to open: the board with its secret.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?token={}", self.port, self.secret)
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    fn cookie_name(&self) -> String {
        format!("agentos-board-{}", self.port)
    }

    fn is_secret(&self, token: &str) -> bool {
        guard::same_secret(token, &self.secret)
    }

    fn is_own_host(&self, host: &str) -> bool {
        host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
    }

    fn is_own_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| self.is_own_host(host))
    }
}

/// 24 random bytes as 48 hex digits.
fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness from the kernel: fall back on what differs per process.
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        for (i, b) in seed.bytes().enumerate() {
            bytes[i % 24] ^= b;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bind 127.0.0.1 (never another interface): the port asked for, or the default
/// and the next few, or any free one.
fn bind(port: Option<u16>) -> Result<TcpListener, BoardError> {
    let at = |port: u16| TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    match port {
        Some(port) => at(port).map_err(|source| BoardError::Bind { port, source }),
        None => (DEFAULT_PORT..DEFAULT_PORT + PORTS_TRIED)
            .find_map(|p| at(p).ok())
            .map_or_else(
                || at(0).map_err(|source| BoardError::Bind { port: 0, source }),
                Ok,
            ),
    }
}

/// Serve the board until the process ends. `ready` gets the address to open
/// once the board listens.
pub fn serve(options: Options, ready: impl FnOnce(&str)) -> Result<(), BoardError> {
    let listener = bind(options.port)?;
    listener
        .set_nonblocking(true)
        .map_err(BoardError::Runtime)?;
    let port = listener.local_addr().map_err(BoardError::Runtime)?.port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(BoardError::Runtime)?;
    runtime.block_on(async move {
        let (bump, live_rx) = live::channel();
        let board = Arc::new(Board::new(
            options.repos,
            options.fleet,
            port,
            crate::clock::now,
            live_rx,
        ));
        live::start(board.clone(), bump)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(BoardError::Runtime)?;
        ready(&board.url());
        axum::serve(listener, routes::router(board))
            .await
            .map_err(BoardError::Runtime)
    })
}

#[cfg(test)]
mod tests;
