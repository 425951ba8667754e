//! The dispatcher's one channel: signals, file-system events, and the reports of
//! worker threads. Everything the dispatcher waits for between tasks arrives
//! here, so it waits in one place, with a deadline, and never polls.
use super::worker::Finished;
use std::sync::mpsc::{channel, Receiver, Sender};

/// One thing that happened.
#[derive(Debug)]
pub enum Msg {
    /// SIGINT or SIGTERM reached the dispatcher.
    Signal(i32),
    /// Something changed in todo/. `settled`: the change leaves no file half
    /// written (a file renamed into place, or removed); otherwise (created,
    /// written to or closed in place) more may follow at once.
    QueueChanged { settled: bool },
    /// The fleet folder changed, or the lock of a repository the fleet skips
    /// was let go (only the fleet's bus carries these).
    FleetChanged,
    /// A worker thread (`--jobs N`) is through with the task `id`.
    WorkerDone {
        id: String,
        result: Result<Finished, String>,
    },
    /// A worker thread of the fleet's dispatcher is through with the task `id`
    /// of the repository `repo` (only the fleet's bus carries these).
    Served {
        repo: String,
        id: String,
        result: Result<Finished, String>,
    },
}

pub struct Bus {
    pub tx: Sender<Msg>,
    pub rx: Receiver<Msg>,
}

impl Bus {
    pub fn new() -> Bus {
        let (tx, rx) = channel();
        Bus { tx, rx }
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}
