//! Diagnostics through `tracing`: a span per task and per step, events at each
//! move. On stderr, warnings always (as `warning: …`), and more with `-v`
//! (info) and `-vv` (debug), or whatever `RUST_LOG` says. `watch` also writes
//! every info event as a JSON line to `.agentos/runs/dispatcher.log`, rotated
//! to `dispatcher.log.1` at [`LOG_LIMIT`]. The progress display (indicatif) is
//! not logging and stays as it is.
use crate::path_error::PathError;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::format::{FmtSpan, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The size at which `dispatcher.log` is rotated.
pub const LOG_LIMIT: u64 = 5 * 1024 * 1024;

/// The JSON log, once `watch` has opened it.
static LOG_FILE: OnceLock<RotatingFile> = OnceLock::new();

/// Install the subscriber: stderr at the level `-v` asks for (`RUST_LOG` wins
/// when set), and the JSON log, which stays silent until [`log_to_file`].
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let stderr_filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => {
            let mut filter = EnvFilter::default().add_directive(level.into());
            // rmcp warns about every malformed request a client (an agent)
            // sends to the memory server: the client gets the error; the person
            // does not need it below `-vv`.
            if let (true, Ok(quiet)) = (verbosity < 2, "rmcp=error".parse()) {
                filter = filter.add_directive(quiet);
            }
            filter
        }
    };
    // No colour codes of its own: every line is shown through `term`, which
    // would print them as text.
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(io::stderr)
        .event_format(Human { verbosity })
        .with_filter(stderr_filter);
    let file = tracing_subscriber::fmt::layer()
        .json()
        .with_span_list(true)
        .with_current_span(false)
        .with_span_events(FmtSpan::NONE)
        .with_writer(LogWriter)
        .with_filter(LevelFilter::INFO.max(level))
        .with_filter(tracing_subscriber::filter::filter_fn(|_| {
            LOG_FILE.get().is_some()
        }));
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}

/// From now on, write the JSON log to `path` (rotated at [`LOG_LIMIT`]).
pub fn log_to_file(path: &Path) -> Result<(), PathError> {
    if LOG_FILE.get().is_none() {
        let file = RotatingFile::open(path, LOG_LIMIT)?;
        let _ = LOG_FILE.set(file);
    }
    Ok(())
}

/// Events for a person: `warning: …` as the commands have always said it; with
/// `-v` the level and the task and step spans too.
struct Human {
    verbosity: u8,
}

impl<S, N> FormatEvent<S, N> for Human
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        // What the event says may come from anywhere (a library quoting what a
        // client sent): it reaches the terminal with control characters shown.
        let mut line = String::new();
        let mut out = Writer::new(&mut line);
        if self.verbosity > 0 {
            if let Some(scope) = ctx.event_scope() {
                for span in scope.from_root() {
                    write!(out, "{}", span.name())?;
                    let ext = span.extensions();
                    if let Some(fields) = ext.get::<tracing_subscriber::fmt::FormattedFields<N>>() {
                        if !fields.is_empty() {
                            write!(out, "{{{fields}}}")?;
                        }
                    }
                    write!(out, ": ")?;
                }
            }
        }
        ctx.field_format().format_fields(out.by_ref(), event)?;
        writeln!(writer, "{level}: {}", crate::term::untrusted(&line))
    }
}

/// Hands the fmt layer the rotating file.
struct LogWriter;

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        LogLine {
            file: LOG_FILE.get(),
            buffer: Vec::new(),
        }
    }
}

/// One event's line, written whole when dropped.
struct LogLine<'a> {
    file: Option<&'a RotatingFile>,
    buffer: Vec<u8>,
}

impl Write for LogLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            // A log that cannot be written never stops the dispatcher.
            let _ = file.append(&self.buffer);
        }
    }
}

/// A file appended to line by line, moved to `<name>.1` (replacing the one
/// before) when the next line would take it over its limit.
pub struct RotatingFile {
    path: PathBuf,
    limit: u64,
    state: Mutex<(File, u64)>,
}

impl RotatingFile {
    pub fn open(path: &Path, limit: u64) -> Result<RotatingFile, PathError> {
        let file = append(path).map_err(PathError::at("open", path))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(RotatingFile {
            path: path.to_path_buf(),
            limit,
            state: Mutex::new((file, len)),
        })
    }

    /// Append one whole line (rotating first when it would not fit).
    pub fn append(&self, line: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.1 > 0 && state.1 + line.len() as u64 > self.limit {
            let mut rotated = self.path.clone().into_os_string();
            rotated.push(".1");
            std::fs::rename(&self.path, &rotated)?;
            *state = (append(&self.path)?, 0);
        }
        state.0.write_all(line)?;
        state.1 += line.len() as u64;
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::RotatingFile;

    #[test]
    fn the_log_rotates_at_its_limit_and_keeps_whole_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dispatcher.log");
        let log = RotatingFile::open(&path, 100).expect("open");
        for n in 0..6 {
            log.append(format!("{{\"line\":{n},\"pad\":\"0123456789\"}}\n").as_bytes())
                .expect("append");
        }
        let current = std::fs::read_to_string(&path).expect("current");
        let rotated = std::fs::read_to_string(dir.path().join("dispatcher.log.1")).expect("old");
        assert!(
            current.len() <= 100 && rotated.len() <= 100,
            "{current}\n{rotated}"
        );
        assert!(
            current.ends_with("\"line\":5,\"pad\":\"0123456789\"}\n"),
            "{current}"
        );
        for text in [&current, &rotated] {
            for line in text.lines() {
                serde_json::from_str::<serde_json::Value>(line).expect("a whole JSON line");
            }
        }
    }
}

#[cfg(test)]
mod human_tests {
    use super::Human;
    use std::sync::{Arc, Mutex};

    /// Collects what the formatter writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_event_quoting_a_client_cannot_drive_the_terminal() {
        let captured = Captured::default();
        let sink = captured.clone();
        // As `init` makes the stderr layer: no colour codes, this formatter.
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .event_format(Human { verbosity: 1 })
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("task", id = %"a\u{1b}[2Jb");
            let _in = span.enter();
            // As rmcp quotes a client's request id: displayed, not debugged.
            let id = "\u{1b}]0;PWNED\u{7}\u{1b}[31mRED";
            tracing::warn!("response error id={id}");
        });
        let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.starts_with("warning: "), "{text:?}");
        // Shown either way: escaped by the formatter, or in caret notation.
        assert!(text.contains("PWNED") && text.contains("RED"), "{text:?}");
        assert!(text.contains("a^[[2Jb"), "{text:?}");
    }
}
