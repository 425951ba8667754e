//! `git agentos board`: the live page of the queue.
use crate::board::{self, BoardError, Options, Repo};
use crate::error::{CmdResult, CommandError};
use crate::workspace::Workspace;
use std::io::Write;
use std::path::Path;

/// Serve a live page of the queue on 127.0.0.1, at an address with a secret.
///
/// A column per state; each task's page with its steps, the agent's log as it
/// works, the verification report and diff; friction over the last 30 days; and
/// buttons to retry, cancel and queue tasks. Only the address printed (it ends in
/// ?token=…) opens it. The page updates itself from file-system events: an idle
/// board uses no CPU. Ctrl-C stops it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// One section per repository of the fleet ($AGENTOS_HOME/fleet/<name>, links
    /// to repositories) instead of the repository here.
    #[arg(long)]
    pub fleet: bool,

    /// The port on 127.0.0.1 [default: 7800, or the next free one; 0: any free port].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Open the page in a browser ($BROWSER, else xdg-open).
    #[arg(long)]
    pub open: bool,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let (repos, fleet, serving) = if args.fleet {
        let home = crate::memory::agentos_home()?;
        let fleet_dir = board::fleet_dir(&home);
        // Made now, so links added while the board runs are seen.
        let _ = std::fs::create_dir_all(&fleet_dir);
        let serving = format!("the fleet in {}", fleet_dir.display());
        (board::fleet(&fleet_dir), Some(fleet_dir), serving)
    } else {
        let ws = Workspace::discover(dir)?;
        ws.ensure_runtime()?;
        let serving = ws.tree.repo_root.display().to_string();
        (vec![Repo::here(&ws)], None, serving)
    };
    let options = Options {
        repos,
        fleet,
        port: args.port,
    };
    let mut opened = None;
    board::serve(options, |url| {
        outln!("git agentos board: {url}");
        outln!("Serving {serving}; the address carries the board's secret. Ctrl-C stops it.");
        super::output::flush();
        if args.open {
            opened = Some(open_browser(url));
        }
    })
    .map_err(command_error)
}

/// The board's errors with their hints (the board itself uses CommandError for
/// its actions' answers, so error.rs does not import it).
fn command_error(e: BoardError) -> CommandError {
    let err = CommandError::env(e.to_string());
    match e {
        BoardError::Bind { port: 0, .. } | BoardError::Runtime(_) => err,
        BoardError::Bind { .. } => err.hint(
            "another program uses that port: choose another with --port N, or --port 0 for any free one",
        ),
        BoardError::Watch(_) => err.hint(
            "the board follows the state folders through inotify; raise fs.inotify.max_user_watches if it is exhausted",
        ),
    }
}

/// Open `url` in a browser through a private file that redirects to it, so the
/// secret never shows in the process list. The file is kept while the board runs.
fn open_browser(url: &str) -> Option<tempfile::NamedTempFile> {
    let page = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={url}\"><a href=\"{url}\">git agentos board</a>\n"
    );
    let file = tempfile::Builder::new()
        .prefix("agentos-board-")
        .suffix(".html")
        .tempfile()
        .and_then(|mut f| f.write_all(page.as_bytes()).map(|_| f));
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            outln!("Could not open a browser ({e}); open the address above.");
            return None;
        }
    };
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "xdg-open".into());
    let spawned = std::process::Command::new(&browser)
        .arg(file.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        outln!("Could not start `{browser}` ({e}); open the address above.");
    }
    Some(file)
}
