//! Standard output for every command: [`out!`] and [`outln!`] in place of
//! `print!` and `outln!`, which panic when the reader has gone. A reader that
//! stops early (`| head`, `| grep -q`, `| true`) closes the pipe; the next write
//! fails with EPIPE (Rust ignores SIGPIPE), and the command then ends at once,
//! without a word, with the code a shell gives a program SIGPIPE ended (141), as
//! git does. Any other failure to write is said once on stderr.
use std::io::Write;

/// The exit code of a command whose reader went away (128 + SIGPIPE).
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// End the process after a failed write to stdout: quietly when the reader has
/// gone, with a line on stderr otherwise.
pub fn fail(e: &std::io::Error) -> ! {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        let _ = writeln!(
            std::io::stderr(),
            "git agentos: cannot write to stdout: {e}"
        );
        std::process::exit(crate::error::ErrorKind::Environment.exit_code());
    }
    std::process::exit(BROKEN_PIPE_EXIT)
}

/// Write to stdout; see the module's text for a failed write.
pub fn write(args: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        fail(&e);
    }
}

/// Flush what stdout holds; see the module's text for a failed write.
pub fn flush() {
    if let Err(e) = std::io::stdout().flush() {
        fail(&e);
    }
}

/// `print!` that ends the command quietly when the reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!($($arg)*))
    };
}

/// `outln!` that ends the command quietly when the reader has gone.
macro_rules! outln {
    () => {
        $crate::commands::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
