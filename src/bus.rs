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

/// Route SIGINT and SIGTERM to the bus. Call before any other thread starts, so
/// that every thread has them blocked and only the waiting thread receives them.
pub fn forward_signals(tx: Sender<Msg>) -> std::io::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block().map_err(std::io::Error::from)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            match set.wait() {
                Ok(sig) => {
                    if tx.send(Msg::Signal(sig as i32)).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        })?;
    Ok(())
}
