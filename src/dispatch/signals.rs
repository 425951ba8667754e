//! SIGINT and SIGTERM, received by one thread and forwarded to every subscriber
//! (the dispatcher's channel, and each worker's agent channel), so whoever waits
//! hears them where it waits.
use std::sync::{Arc, Mutex};

/// A subscriber: true while it still listens.
type Subscriber = Box<dyn Fn(i32) -> bool + Send>;

#[derive(Clone, Default)]
pub struct Signals {
    subscribers: Arc<Mutex<Vec<Subscriber>>>,
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
                        list.retain(|send| send(sig as i32));
                    }
                }
            })?;
        Ok(signals)
    }

    /// Hear every signal from now on; `send` returns false once nobody listens.
    pub fn subscribe(&self, send: impl Fn(i32) -> bool + Send + 'static) {
        if let Ok(mut list) = self.subscribers.lock() {
            list.push(Box::new(send));
        }
    }
}
