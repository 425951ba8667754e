//! Judging how an agent run ended (its exit, its result event, its stderr),
//! and the lines of its output read with a cap, so that no line the agent
//! writes sets the dispatcher's memory.
use super::config::{AgentConfig, Output};
use super::runner::{AgentMsg, Outcome};
use super::stream::{self, AgentResult};
use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

/// The longest line of the agent's output kept; the rest of a longer line is
/// dropped (and counted), never held.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// How many bytes of lines may wait for the runner at once: the reader stops
/// reading (the agent then blocks on its write) until they are handled.
pub const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;

/// Bytes of lines sent and not yet handled, shared by the reader and the
/// runner, and whether the runner has stopped listening.
#[derive(Clone, Default)]
pub struct Queued(Arc<(Mutex<(usize, bool)>, Condvar)>);

impl Queued {
    /// The runner handled a line of `len` bytes.
    pub fn taken(&self, len: usize) {
        let (lock, cvar) = &*self.0;
        if let Ok(mut queued) = lock.lock() {
            queued.0 = queued.0.saturating_sub(len);
            cvar.notify_all();
        }
    }

    /// The runner is done with this run: the reader stops at its next line.
    pub fn close(&self) {
        let (lock, cvar) = &*self.0;
        if let Ok(mut queued) = lock.lock() {
            queued.1 = true;
            cvar.notify_all();
        }
    }

    /// Wait until there is room, then count `len` bytes in; false once closed.
    fn put(&self, len: usize) -> bool {
        let (lock, cvar) = &*self.0;
        let Ok(mut queued) = lock.lock() else {
            return false;
        };
        while !queued.1 && queued.0 > 0 && queued.0 + len > MAX_QUEUED_BYTES {
            match cvar.wait(queued) {
                Ok(q) => queued = q,
                Err(_) => return false,
            }
        }
        queued.0 += len;
        !queued.1
    }
}

/// Read `reader` line by line, each line cut at [`MAX_LINE_BYTES`] (`cut`
/// says how many bytes were dropped), and send each to the runner of `run`
/// (within [`MAX_QUEUED_BYTES`]); then the end of the output.
pub fn send_lines(reader: impl std::io::Read, run: u64, tx: &Sender<AgentMsg>, queued: &Queued) {
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut line: Vec<u8> = Vec::new();
    let mut cut: u64 = 0;
    loop {
        let (done, used) = match reader.fill_buf() {
            Ok([]) => (true, 0),
            Ok(buf) => {
                let (chunk, end) = match buf.iter().position(|b| *b == b'\n') {
                    Some(at) => (&buf[..at], at + 1),
                    None => (buf, buf.len()),
                };
                let room = MAX_LINE_BYTES.saturating_sub(line.len()).min(chunk.len());
                line.extend_from_slice(&chunk[..room]);
                cut += (chunk.len() - room) as u64;
                if end > chunk.len() {
                    // A whole line.
                    if !send(&mut line, &mut cut, run, tx, queued) {
                        return;
                    }
                }
                (false, end)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => (false, 0),
            Err(_) => (true, 0),
        };
        reader.consume(used);
        if done {
            break;
        }
    }
    if (!line.is_empty() || cut > 0) && !send(&mut line, &mut cut, run, tx, queued) {
        return;
    }
    let _ = tx.send(AgentMsg::Eof { run });
}

fn send(
    line: &mut Vec<u8>,
    cut: &mut u64,
    run: u64,
    tx: &Sender<AgentMsg>,
    queued: &Queued,
) -> bool {
    let text = String::from_utf8_lossy(line).into_owned();
    line.clear();
    if !queued.put(text.len()) {
        return false;
    }
    let sent = tx.send(AgentMsg::Line {
        run,
        line: text,
        cut: *cut,
    });
    *cut = 0;
    sent.is_ok()
}

pub(super) fn judge(
    config: &AgentConfig,
    started: bool,
    result: Option<AgentResult>,
    exit: Option<std::process::ExitStatus>,
    stderr_path: &Path,
) -> Outcome {
    let how = exit.map(describe_exit).unwrap_or_else(|| "ended".into());
    let tail = stderr_tail(stderr_path);
    let with_tail = |msg: String| {
        if tail.is_empty() {
            msg
        } else {
            format!("{msg}; its stderr ends: {tail}")
        }
    };
    let code_ok = exit.map(|s| s.success()).unwrap_or(false);
    if config.output == Output::Plain {
        return if code_ok {
            Outcome::Succeeded(AgentResult {
                subtype: "success".into(),
                ..AgentResult::default()
            })
        } else {
            Outcome::Failed {
                reason: with_tail(format!("the agent {how}")),
                result: None,
            }
        };
    }
    if !started {
        return Outcome::Failed {
            reason: format!(
                "{}{}",
                with_tail(format!(
                    "the agent {how} before it started (no system/init event)"
                )),
                plain_hint(config)
            ),
            result: None,
        };
    }
    let Some(result) = result else {
        return Outcome::Failed {
            reason: with_tail(format!(
                "the agent {how} before its result (it crashed or was killed mid-run)"
            )),
            result: None,
        };
    };
    if result.is_error {
        let summary = result
            .summary
            .as_deref()
            .map(stream::excerpt)
            .unwrap_or_default();
        return Outcome::Failed {
            reason: format!(
                "the agent reported an error ({}): {summary}",
                result.subtype
            ),
            result: Some(result),
        };
    }
    if !code_ok {
        return Outcome::Failed {
            reason: with_tail(format!("the agent {how} after its result")),
            result: Some(result),
        };
    }
    Outcome::Succeeded(result)
}

pub(super) fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => "exited successfully".into(),
        (Some(code), _) if code > 128 => format!("was killed by signal {}", code - 128),
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "ended".into(),
    }
}

fn stderr_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(3);
    stream::excerpt(&lines[start..].join(" | "))
}

/// For an agent other than Claude Code that fails to speak stream-json: the line
/// that says how to run it as a plain command (empty for Claude Code itself).
pub(super) fn plain_hint(config: &AgentConfig) -> String {
    if config.is_claude {
        return String::new();
    }
    format!(
        "\nhint: if `{}` does not speak Claude Code's stream-json, set `output = \"plain\"` in .agentos/agents/{}/agent.toml (it is then judged by its exit code)",
        config.command, config.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_cap_is_cut_and_counted_and_the_next_line_is_whole() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 1000];
        input.extend_from_slice(b"\nshort\nlast");
        let (tx, rx) = std::sync::mpsc::channel();
        let queued = Queued::default();
        send_lines(&input[..], 7, &tx, &queued);
        let got: Vec<(String, u64)> = rx
            .try_iter()
            .filter_map(|m| match m {
                AgentMsg::Line { run: 7, line, cut } => Some((line, cut)),
                _ => None,
            })
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0.len(), got[0].1), (MAX_LINE_BYTES, 1000));
        assert_eq!(got[1], ("short".to_string(), 0));
        assert_eq!(got[2], ("last".to_string(), 0));
    }

    #[test]
    fn a_closed_queue_stops_the_reader() {
        let (tx, rx) = std::sync::mpsc::channel();
        let queued = Queued::default();
        queued.close();
        send_lines(&b"one\ntwo\n"[..], 1, &tx, &queued);
        assert_eq!(rx.try_iter().count(), 0);
    }
}
