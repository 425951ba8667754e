//! The dispatcher's one channel: agent output and exits, signals, file-system events.
//! Everything the dispatcher waits for arrives here, so it waits in one place, with
//! a deadline, and never polls.
use std::sync::mpsc::{channel, Receiver, Sender};

/// One thing that happened.
#[derive(Debug)]
pub enum Msg {
    /// A line the agent of run `run` wrote to stdout.
    AgentLine { run: u64, line: String },
    /// The agent's stdout closed.
    AgentEof { run: u64 },
    /// The agent process (the shim) exited.
    AgentExit {
        run: u64,
        status: std::process::ExitStatus,
    },
    /// SIGINT or SIGTERM reached the dispatcher.
    Signal(i32),
    /// Something changed in todo/.
    QueueChanged,
    /// A worker thread (`--jobs N`) finished the task `id`.
    WorkerDone {
        id: String,
        finished: Vec<crate::dispatch::Finished>,
        error: Option<String>,
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

/// Where SIGINT and SIGTERM go: every subscribed channel (the dispatcher's, and
/// each worker's, so an agent run anywhere hears it).
#[derive(Clone, Default)]
pub struct Signals {
    subscribers: std::sync::Arc<std::sync::Mutex<Vec<Sender<Msg>>>>,
}

impl Signals {
    /// Start routing. Call before any other thread starts, so that every thread
    /// has the signals blocked and only the waiting thread receives them.
    pub fn start() -> std::io::Result<Signals> {
        use nix::sys::signal::{SigSet, Signal};
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.thread_block().map_err(std::io::Error::from)?;
        let signals = Signals::default();
        let subscribers = signals.subscribers.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                while let Ok(sig) = set.wait() {
                    if let Ok(mut list) = subscribers.lock() {
                        list.retain(|tx| tx.send(Msg::Signal(sig as i32)).is_ok());
                    }
                }
            })?;
        Ok(signals)
    }

    pub fn subscribe(&self, tx: Sender<Msg>) {
        if let Ok(mut list) = self.subscribers.lock() {
            list.push(tx);
        }
    }
}
